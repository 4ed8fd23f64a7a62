/**
 * `express-token-gate/testing`: a real issuer for tests. It holds fresh ES256 keys, publishes them
 * as a JWKS on 127.0.0.1, signs Picket-shaped access tokens and answers incremental-authorization
 * requests at `/authz` from a balance table the test controls.
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'test-project' });
 * const app = createApp(issuer.options);                 // createTokenGate(issuer.options) inside
 * const token = await issuer.sign({ walletAddress: '0x…' });
 * await issuer.close();
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CompactSign, decodeJwt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { InvalidTokenError, TokenGateError } from '../errors';
import { compileRequirements, type TokenRequirements } from '../ownership/requirements';
import { resolveOptions } from '../options';
import { TokenVerifier } from '../token/verify';
import type { AccessTokenClaims } from '../token/claims';
import { BalanceTable, upgradeClaims } from './authz';
import { balanceTableResolver } from './resolver';
import type { OwnershipResolver } from '../ownership/resolvers/types';

/** The wallet tokens are signed for unless the claims name another (EVM chains). */
export const TEST_WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';
/** The default wallet of an issuer created with `chain: 'solana'`. */
export const TEST_SOLANA_WALLET = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

/** Picket's default session length. */
const LIFETIME_SECONDS = 12 * 3600;

export interface TestIssuerOptions {
  /** The project id tokens are issued for (`aud`). */
  audience: string;
  /** `iss` of issued tokens. Default `picketapi.com`. */
  issuer?: string;
  /** Chain of issued tokens and of the balance table. Default `ethereum`. */
  chain?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
}

export interface SignOptions {
  /** Lifetime in seconds from now; negative gives a token that expired that long ago. Default 12 h. Ignored when the claims set `exp`. */
  expiresIn?: number;
  /** `kid` header. Default: the id of the signing key. */
  kid?: string;
  /** Extra or replaced protected-header fields; `undefined` removes one (e.g. `{ kid: undefined }`). */
  header?: Record<string, unknown>;
  /** Sign with a second key that the JWKS never publishes. */
  unpublishedKey?: boolean;
}

/** Claims for `sign()`: any field replaces the default; `undefined` removes it. */
export type TestClaims = { [claim in keyof AccessTokenClaims]?: unknown } & Record<string, unknown>;

/** The issuer's `/authz` refused (403), or the request was bad (400, 401). */
export class AuthzError extends Error {
  override name = 'AuthzError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`The test issuer's /authz answered ${status}`);
  }
}

export interface TestIssuer {
  /** `{ issuer, audience, jwksUri }`: pass to `createTokenGate` (spread it to add options). */
  readonly options: { issuer: string; audience: string; jwksUri: string };
  readonly jwksUri: string;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
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
  /** Sets what `wallet` holds: `{ [contractAddress | collection | creatorAddress | 'contract:tokenId']: '3' }`. */
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

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  return { kid, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** Replaces or (for `undefined`) removes fields of `target`. */
function override(target: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
  return target;
}

function readJson(req: IncomingMessage, limit = 65_536): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) req.destroy(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** A client for `/authz` that opens one connection per call, so nothing is left open. */
function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      readJson(res).then((json) => resolve({ status: res.statusCode ?? 0, body: json }), reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
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
  const iss = options.issuer ?? 'picketapi.com';
  const chain = options.chain ?? 'ethereum';
  const defaultWallet = chain === 'solana' ? TEST_SOLANA_WALLET : TEST_WALLET;
  let current = await newKey();
  let published: SigningKey[] = [current];
  let unpublished: SigningKey | undefined;
  let jwksHits = 0;
  const balances = new BalanceTable(chain);

  async function sign(claims: TestClaims = {}, signOptions: SignOptions = {}): Promise<string> {
    const key = signOptions.unpublishedKey ? (unpublished ??= await newKey()) : current;
    const now = Math.floor(Date.now() / 1000);
    const lifetime = signOptions.expiresIn ?? LIFETIME_SECONDS;
    const walletAddress = typeof claims.walletAddress === 'string' ? claims.walletAddress : defaultWallet;
    const claimChain = typeof claims.chain === 'string' ? claims.chain : chain;
    const payload = override(
      {
        walletAddress,
        displayAddress: walletAddress,
        chain: claimChain,
        sub: `${claimChain}:${walletAddress}`,
        // An expired token was issued a whole session before it expired, as a real one would be.
        iat: lifetime < 0 ? now + lifetime - LIFETIME_SECONDS : now,
        exp: now + lifetime,
        iss,
        aud: options.audience,
        tid: randomUUID(),
        ver: 1,
      },
      claims,
    );
    const header = override({ alg: 'ES256', typ: 'JWT', kid: signOptions.kid ?? key.kid }, signOptions.header ?? {});
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header as { alg: string })
      .sign(key.privateKey);
  }

  // The issuer checks the tokens it is handed with a gate's default rules, against its own keys.
  const verifier = new TokenVerifier(resolveOptions({ audience: options.audience, issuer: iss, cache: false }, {}), {
    async getKeys(_alg, kid) {
      const keys = published.filter((k) => kid === undefined || k.kid === kid).map((k) => k.publicKey);
      if (keys.length === 0) throw new InvalidTokenError('key_not_found', 'The token was not signed by this issuer');
      return keys;
    },
  });

  async function authz(body: unknown): Promise<{ status: number; body: unknown }> {
    const { accessToken, requirements } = (body ?? {}) as { accessToken?: unknown; requirements?: TokenRequirements };
    let requirement;
    try {
      requirement = compileRequirements(requirements as TokenRequirements);
    } catch (error) {
      return { status: 400, body: { error: 'invalid_request', error_description: (error as Error).message } };
    }
    let claims: AccessTokenClaims;
    try {
      claims = await verifier.verify(accessToken as string);
    } catch (error) {
      if (!(error instanceof TokenGateError)) throw error;
      return { status: 401, body: { error: 'invalid_token', error_description: error.message, reason: error.reason } };
    }
    const upgrade = upgradeClaims(claims, requirement, balances);
    if ('refusal' in upgrade) {
      const { refusal } = upgrade;
      return {
        status: 403,
        body: { error: 'insufficient_scope', error_description: refusal.message, reason: refusal.reason, requirements: requirement.description },
      };
    }
    const token = await sign({ ...upgrade.claims, iat: Math.floor(Date.now() / 1000), tid: randomUUID() });
    return { status: 200, body: { accessToken: token, decodedAccessToken: decodeJwt(token) } };
  }

  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      jwksHits += 1;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=600' });
      res.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
    } else if (req.method === 'POST' && path === '/authz') {
      readJson(req)
        .then(authz, () => ({ status: 400, body: { error: 'invalid_request', error_description: 'The body must be JSON { accessToken, requirements }' } }))
        .then(
          (answer) => send(res, answer.status, answer.body),
          () => send(res, 500, { error: 'server_error' }),
        );
    } else {
      send(res, 404, { error: 'not_found' });
    }
  });
  // Idle keep-alive sockets must not outlive a test.
  http.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  // Gates share one key set per jwksUri in a process. A later issuer may get the port of a closed
  // one, so the URI also names this issuer: its keys are never mistaken for the earlier ones.
  const jwksUri = `${url}/.well-known/jwks.json?issuer=${randomUUID().slice(0, 8)}`;
  const authzUrl = `${url}/authz`;

  return {
    options: { issuer: iss, audience: options.audience, jwksUri },
    jwksUri,
    url,
    authzUrl,
    get kid() {
      return current.kid;
    },
    get jwksHits() {
      return jwksHits;
    },
    sign,
    async authorize(accessToken, requirements) {
      const answer = await postJson(authzUrl, { accessToken, requirements });
      if (answer.status !== 200) throw new AuthzError(answer.status, answer.body);
      return (answer.body as { accessToken: string }).accessToken;
    },
    setBalances: (wallet, table) => balances.set(wallet, table),
    ownershipResolver: () => balanceTableResolver(balances),
    async rotate({ keepPrevious = true } = {}) {
      current = await newKey();
      published = keepPrevious ? [...published, current] : [current];
    },
    close() {
      return new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
