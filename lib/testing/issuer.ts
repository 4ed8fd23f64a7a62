/**
 * `createTestIssuer`: a real issuer for tests and for frontend development. It holds fresh ES256
 * keys, publishes them as a JWKS on 127.0.0.1, signs Picket-shaped access tokens, and serves the
 * issuer's API (wallet login, `/authz`, `/auth/validate`, token ownership) from a balance table
 * the test controls.
 */
import { randomUUID } from 'node:crypto';
import { InvalidTokenError, OptionsError } from '../errors';
import type { TokenRequirements } from '../ownership/requirements';
import { resolveOptions } from '../http/options';
import { TokenVerifier } from '../token/verify';
import { BalanceTable } from './authz';
import { AuthzError, postJson } from './client';
import { CorsPolicy, isLoopbackHost, type CorsOptions } from './emulator/cors';
import { emulator } from './emulator';
import { HostPolicy } from './emulator/guard';
import { NonceStore, type LoginSettings, type MessageFormat } from './emulator/login';
import { KeyRing } from './keys';
import { listen } from './server';
import { TOKEN_PROFILES, TokenSigner, type SignOptions, type TestClaims, type TokenProfile } from './sign';
import { balanceTableResolver } from './resolver';
import type { OwnershipResolver } from '../ownership/resolvers/types';

export interface LoginOptions {
  /** The message format `/auth/nonce` announces: `'siwe'` (EIP-4361, default) or `'simple'`. */
  format?: MessageFormat;
  /** The statement wallets sign. Default `Sign in with your wallet to <audience>`. */
  statement?: string;
  /** Hosts (`host[:port]`) SIWE messages may name. Default: any loopback host (localhost, 127.0.0.1, [::1], *.localhost). */
  domains?: string[];
  /** Seconds a nonce (and a SIWE message's issuedAt) stays good. Default 600. */
  nonceTtlSeconds?: number;
}

export interface TestIssuerOptions {
  /** The project id tokens are issued for (`aud`). */
  audience: string;
  /** `iss` of issued tokens. Default `picketapi.com`. */
  issuer?: string;
  /** Chain of issued tokens and of the balance table. Default `ethereum`. */
  chain?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Token shape: `'kit'` (default) or `'issuer'` (like the issuer's sample: `ext`, `nbf`, `sub` `chain/mainnet:…`, no `kid`). */
  profile?: TokenProfile;
  /** Which browser origins may call the issuer. Default: origins on loopback hosts. */
  cors?: CorsOptions;
  /**
   * Host names (no port) the issuer answers besides localhost, 127.0.0.1 and [::1], e.g.
   * `['host.docker.internal']`. Any other `Host` is answered 421 `host_not_allowed`.
   */
  hosts?: string[];
  /** Wallet login (`/auth/nonce`, `/auth`). */
  login?: LoginOptions;
}

export interface TestIssuer {
  /** `{ issuer, audience, jwksUri }`: pass to `createTokenGate` (spread it to add options). */
  readonly options: { issuer: string; audience: string; jwksUri: string };
  readonly jwksUri: string;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The API as the issuer's clients address it: `${url}/api/v1` (their `baseURL`). */
  readonly apiUrl: string;
  /** `POST { accessToken, requirements }` here to upgrade a token (incremental authorization). */
  readonly authzUrl: string;
  /** The `kid` of the current signing key. */
  readonly kid: string;
  /** How many times the JWKS has been fetched. */
  readonly jwksHits: number;
  /** Signs a Picket-shaped access token for `TEST_WALLET` (or `claims.walletAddress`). */
  sign(claims?: TestClaims, options?: SignOptions): Promise<string>;
  /**
   * Upgrades `accessToken` through `/authz`: resolves to a new token that also proves
   * `requirements`, or rejects with an `AuthzError` (403 when the wallet does not hold enough).
   */
  authorize(accessToken: string, requirements: TokenRequirements): Promise<string>;
  /** Sets what `wallet` holds: `{ [contractAddress | collection | creatorAddress | mint | 'contract:tokenId']: '3' }`. */
  setBalances(wallet: string, balances: Record<string, string>): void;
  /** An `OwnershipResolver` answering from the balances `setBalances` sets, for gates with `revalidate`. */
  ownershipResolver(): OwnershipResolver;
  /**
   * Signs with a new key from now on; the old key stays published unless `keepPrevious` is false.
   * A gate refetches for an unknown `kid` at most once per `jwks.cooldownMs` (30 s by default).
   */
  rotate(options?: { keepPrevious?: boolean }): Promise<void>;
  /** Stops the server and closes its connections. */
  close(): Promise<void>;
}

const HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:]+\])(?::[0-9]{1,5})?$/i;

function loginSettings(audience: string, options: LoginOptions = {}): LoginSettings {
  if (typeof options !== 'object' || options === null) throw new OptionsError('login', 'must be an object');
  const {
    format = 'siwe',
    statement = `Sign in with your wallet to ${audience}`,
    domains,
    nonceTtlSeconds = 600,
  } = options;
  if (format !== 'siwe' && format !== 'simple') throw new OptionsError('login.format', "must be 'siwe' or 'simple'");
  if (typeof statement !== 'string' || statement === '' || /[\r\n]/.test(statement)) {
    throw new OptionsError('login.statement', 'must be one line of text');
  }
  if (typeof nonceTtlSeconds !== 'number' || !Number.isFinite(nonceTtlSeconds) || nonceTtlSeconds < 0) {
    throw new OptionsError('login.nonceTtlSeconds', 'must be a number of seconds, 0 or more');
  }
  if (
    domains !== undefined &&
    (!Array.isArray(domains) || !domains.every((d) => typeof d === 'string' && HOST.test(d)))
  ) {
    throw new OptionsError('login.domains', "must be a list of hosts such as 'app.example' or 'localhost:5173'");
  }
  const allowed = domains && new Set(domains.map((d) => d.toLowerCase()));
  return {
    format,
    statement,
    nonceTtlMs: nonceTtlSeconds * 1000,
    allowsDomain(domain) {
      if (allowed) return allowed.has(domain.toLowerCase());
      if (!HOST.test(domain)) return false;
      return isLoopbackHost(domain.replace(/:[0-9]+$/, '').toLowerCase());
    },
  };
}

/**
 * Starts a test issuer on 127.0.0.1. Close it when done (`afterAll(() => issuer.close())`).
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'test-project' });
 * const gate = createTokenGate(issuer.options);
 */
export async function createTestIssuer(options: TestIssuerOptions): Promise<TestIssuer> {
  if (typeof options?.audience !== 'string' || options.audience === '') {
    throw new TypeError('createTestIssuer: "audience" (the project id) is required');
  }
  const profile = options.profile ?? 'kit';
  if (!TOKEN_PROFILES.includes(profile)) throw new OptionsError('profile', "must be 'kit' or 'issuer'");
  const cors = new CorsPolicy(options.cors);
  const hosts = new HostPolicy(options.hosts);
  const login = loginSettings(options.audience, options.login);
  const iss = options.issuer ?? 'picketapi.com';
  const chain = options.chain ?? 'ethereum';
  const keys = await KeyRing.create();
  const signer = new TokenSigner({ keys, iss, audience: options.audience, chain, profile });
  const balances = new BalanceTable(chain);
  let jwksHits = 0;

  // The issuer checks the tokens it is handed with a gate's default rules, against its own keys.
  const verifier = new TokenVerifier(resolveOptions({ audience: options.audience, issuer: iss, cache: false }, {}), {
    async getKeys(_alg, kid) {
      const found = keys.publicKeysFor(kid);
      if (found.length === 0) throw new InvalidTokenError('key_not_found', 'The token was not signed by this issuer');
      return found;
    },
  });

  const handler = emulator(
    {
      signer,
      verifier,
      balances,
      login,
      nonces: new NonceStore(),
      jwks() {
        jwksHits += 1;
        return keys.jwks();
      },
    },
    { cors, hosts },
  );
  const server = await listen(handler, options.port);
  const { url } = server;
  // Gates share one key set per jwksUri in a process. A later issuer may get the port of a closed
  // one, so the URI also names this issuer: its keys are never mistaken for the earlier ones.
  const jwksUri = `${url}/.well-known/jwks.json?issuer=${randomUUID().slice(0, 8)}`;
  const authzUrl = `${url}/authz`;

  return {
    options: { issuer: iss, audience: options.audience, jwksUri },
    jwksUri,
    url,
    apiUrl: `${url}/api/v1`,
    authzUrl,
    get kid() {
      return keys.current.kid;
    },
    get jwksHits() {
      return jwksHits;
    },
    sign: (claims, signOptions) => signer.sign(claims, signOptions),
    async authorize(accessToken, requirements) {
      const answer = await postJson(authzUrl, { accessToken, requirements });
      if (answer.status !== 200) throw new AuthzError(answer.status, answer.body);
      return (answer.body as { accessToken: string }).accessToken;
    },
    setBalances: (wallet, table) => balances.set(wallet, table),
    ownershipResolver: () => balanceTableResolver(balances),
    rotate: ({ keepPrevious = true } = {}) => keys.rotate(keepPrevious),
    close: () => server.close(),
  };
}
