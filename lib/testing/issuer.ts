/**
 * `createTestIssuer`: a real issuer for tests and for frontend development. It holds fresh ES256
 * keys, publishes them as a JWKS on 127.0.0.1, signs Picket-shaped access tokens, and serves the
 * issuer's API (wallet login, `/authz`, `/auth/validate`, token ownership) from a balance table
 * the test controls.
 */
import { randomUUID } from 'node:crypto';
import { rejectUnknownKeys } from '../errors';
import type { TokenRequirements } from '../ownership/requirements';
import { BalanceTable } from './balances';
import { AuthzError, postJson } from './client';
import type { CorsOptions } from '../issuer/cors';
import { createIssuer } from '../issuer';
import type { ChainsOptions, LoginOptions } from '../issuer/login-options';
import type { IssuerStore } from '../issuer/store/store';
import { listen } from '../issuer/server';
import { type SignOptions, type TestClaims, type TokenProfile } from '../issuer/signer';
import { balanceTableResolver } from './resolver';
import type { OwnershipResolver } from '../ownership/resolvers/types';

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
  /**
   * JSON-RPC endpoints of EVM chains (`{ ethereum: { rpcUrl, ensUniversalResolver? } }`), as
   * `createIssuer`'s: contract-wallet logins and ENS names through a local chain.
   */
  chains?: ChainsOptions;
  /** Nonces and sessions, as `createIssuer`'s (e.g. `redisIssuerStore({ url })`). Default: memory. Yours to close. */
  store?: IssuerStore;
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

/**
 * Starts a test issuer on 127.0.0.1. Close it when done (`afterAll(() => issuer.close())`).
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'test-project' });
 * const gate = createTokenGate(issuer.options);
 */
const OPTION_NAMES = [
  'audience',
  'issuer',
  'chain',
  'port',
  'profile',
  'cors',
  'hosts',
  'login',
  'chains',
  'store',
] as const;

export async function createTestIssuer(options: TestIssuerOptions): Promise<TestIssuer> {
  if (typeof options?.audience !== 'string' || options.audience === '') {
    throw new TypeError('createTestIssuer: "audience" (the project id) is required');
  }
  rejectUnknownKeys(options, OPTION_NAMES);
  const chain = options.chain ?? 'ethereum';
  const balances = new BalanceTable(chain);
  // The production issuer with test defaults: an ephemeral key, the balance table as what wallets
  // hold, the memory store, loopback origins, no rate limits.
  const issuer = createIssuer({
    issuer: options.issuer ?? 'picketapi.com',
    audience: options.audience,
    ephemeralKey: true,
    // Tests and a frontend under development ask as often as they like.
    rateLimits: false,
    sessionlessTokens: true,
    ownership: balanceTableResolver(balances),
    chain,
    ...(options.profile !== undefined && { profile: options.profile }),
    ...(options.cors !== undefined && { cors: options.cors }),
    ...(options.hosts !== undefined && { hosts: options.hosts }),
    ...(options.login !== undefined && { login: options.login }),
    ...(options.chains !== undefined && { chains: options.chains }),
    ...(options.store !== undefined && { store: options.store }),
  });
  const { signer, keys } = issuer.internals;
  const server = await listen(issuer.handler, options.port);
  const { url } = server;
  // Gates share one key set per jwksUri in a process. A later issuer may get the port of a closed
  // one, so the URI also names this issuer: its keys are never mistaken for the earlier ones.
  const jwksUri = `${url}/.well-known/jwks.json?issuer=${randomUUID().slice(0, 8)}`;
  const authzUrl = `${url}/authz`;
  const { issuer: iss, audience } = issuer.gateOptions;

  return {
    options: { issuer: iss, audience, jwksUri },
    jwksUri,
    url,
    apiUrl: `${url}/api/v1`,
    authzUrl,
    get kid() {
      return keys.current.kid;
    },
    get jwksHits() {
      return issuer.internals.jwksHits();
    },
    // Tokens signed here belong to no session (a login through /auth starts one); /authz and
    // /auth/validate take them as long as no revocation refuses them.
    sign: (claims, signOptions) => signer.sign(claims, signOptions),
    async authorize(accessToken, requirements) {
      const answer = await postJson(authzUrl, { accessToken, requirements });
      if (answer.status !== 200) throw new AuthzError(answer.status, answer.body);
      return (answer.body as { accessToken: string }).accessToken;
    },
    setBalances: (wallet, table) => balances.set(wallet, table),
    ownershipResolver: () => balanceTableResolver(balances),
    async rotate({ keepPrevious = true } = {}) {
      keys.rotate(keepPrevious);
    },
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}
