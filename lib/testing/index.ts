/**
 * `express-token-gate/testing`: a real issuer for tests. It holds fresh ES256 keys, publishes them
 * as a JWKS on 127.0.0.1, signs Picket-shaped access tokens and answers incremental-authorization
 * requests at `/authz` from a balance table the test controls.
 *
 * @example
 * const issuer = await createTestIssuer({ audience: 'test-project' });
 * const gate = createTokenGate(issuer.options);
 * const token = await issuer.sign({ walletAddress: '0x…' });
 * await issuer.close();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { CompactSign, exportJWK, generateKeyPair, type JWK } from 'jose';
import { verifyAccessToken } from '../index';
import { TokenGateError } from '../errors';
import { compileRequirements, type TokenRequirements } from '../ownership/requirements';
import { addressKey } from '../ownership/address';
import { Decimal } from '../token/decimal';
import type { AccessTokenClaims, TokenBalances } from '../token/claims';

/** A wallet every test issuer signs for unless told otherwise. */
export const TEST_WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';

export interface TestIssuerOptions {
  /** The project id tokens are issued for (`aud`). */
  audience: string;
  /** `iss` of issued tokens. Default `picketapi.com`. */
  issuer?: string;
  /** Default chain of issued tokens. Default `ethereum`. */
  chain?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
}

export interface SignOptions {
  /** Lifetime in seconds from now (negative: already expired). Default 12 h. Ignored when claims set `exp`. */
  expiresIn?: number;
  /** `kid` header. Default: the signing key's own kid. */
  kid?: string;
  /** Extra or replaced protected-header fields; `undefined` removes one. */
  header?: Record<string, unknown>;
  /** Sign with a key the JWKS does not publish (for negative tests). */
  unpublishedKey?: boolean;
}

/** Claims for `sign()`: any field overrides the default; `undefined` removes it. */
export type TestClaims = Partial<Record<keyof AccessTokenClaims, unknown>> & Record<string, unknown>;

export interface TestIssuer {
  /** `{ issuer, audience, jwksUri }`: pass to `createTokenGate`. */
  readonly options: { issuer: string; audience: string; jwksUri: string };
  readonly jwksUri: string;
  /** Base URL of the issuer, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `POST { accessToken, requirements }` here to upgrade a token (incremental authorization). */
  readonly authzUrl: string;
  /** How many times the JWKS has been fetched. */
  readonly jwksHits: number;
  /** Signs a Picket-shaped access token. */
  sign(claims?: TestClaims, options?: SignOptions): Promise<string>;
  /** Starts signing with a new key; the old one stays published unless `keepPrevious` is false. */
  rotate(options?: { keepPrevious?: boolean }): Promise<void>;
  /** Sets what `/authz` finds for `wallet`: `{ [contractAddress | collection | creatorAddress]: balance }`. */
  setBalances(wallet: string, balances: Record<string, string>): void;
  /** Stops the server and closes its connections. */
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

function readBody(req: IncomingMessage, limit = 65_536): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > limit) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Starts a test issuer on 127.0.0.1. Close it when done. */
export async function createTestIssuer(options: TestIssuerOptions): Promise<TestIssuer> {
  if (!options || typeof options.audience !== 'string' || options.audience === '') {
    throw new TypeError('createTestIssuer: "audience" is required');
  }
  const iss = options.issuer ?? 'picketapi.com';
  const chain = options.chain ?? 'ethereum';
  let current = await newKey();
  let published: SigningKey[] = [current];
  let unpublished: SigningKey | undefined;
  let jwksHits = 0;
  const balances = new Map<string, Record<string, string>>();

  async function sign(claims: TestClaims = {}, signOptions: SignOptions = {}): Promise<string> {
    const key = signOptions.unpublishedKey ? (unpublished ??= await newKey()) : current;
    const now = Math.floor(Date.now() / 1000);
    const walletAddress = typeof claims.walletAddress === 'string' ? claims.walletAddress : TEST_WALLET;
    const claimChain = typeof claims.chain === 'string' ? claims.chain : chain;
    const payload: Record<string, unknown> = {
      walletAddress,
      displayAddress: walletAddress,
      chain: claimChain,
      sub: `${claimChain}:${walletAddress}`,
      iat: now,
      exp: now + (signOptions.expiresIn ?? 12 * 3600),
      iss,
      aud: options.audience,
      tid: randomUUID(),
      ver: 1,
    };
    for (const [name, value] of Object.entries(claims)) {
      if (value === undefined) delete payload[name];
      else payload[name] = value;
    }
    const header: Record<string, unknown> = { alg: 'ES256', typ: 'JWT', kid: signOptions.kid ?? key.kid };
    for (const [name, value] of Object.entries(signOptions.header ?? {})) {
      if (value === undefined) delete header[name];
      else header[name] = value;
    }
    return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header as { alg: string })
      .sign(key.privateKey);
  }

  /** Incremental authorization: proves the requested ownership from the balance table. */
  async function authorize(body: unknown): Promise<{ status: number; body: unknown }> {
    const { accessToken, requirements } = (body ?? {}) as { accessToken?: unknown; requirements?: TokenRequirements };
    let claims: AccessTokenClaims;
    let compiled;
    try {
      compiled = compileRequirements(requirements as TokenRequirements);
    } catch (error) {
      return { status: 400, body: { error: 'invalid_request', error_description: (error as Error).message } };
    }
    try {
      claims = await verifyAccessToken(String(accessToken), { ...server.options, cache: false });
    } catch (error) {
      const reason = error instanceof TokenGateError ? error.reason : 'token_malformed';
      return { status: 401, body: { error: 'invalid_token', reason } };
    }
    const table = balances.get(addressKey(claims.chain, claims.walletAddress)) ?? {};
    const found = (address: string): string | undefined => table[addressKey(compiled.description.chain, address)] ?? table[address];
    const proven: TokenBalances = structuredClone(claims.tokenBalances ?? {}) as TokenBalances;
    const record = (kind: keyof TokenBalances, key: string, value: string | undefined) => {
      if (value !== undefined) proven[kind] = { ...proven[kind], [key]: value };
    };
    const d = compiled.description;
    if (d.contractAddress) record('contractAddress', d.contractAddress, found(d.contractAddress) ?? '0');
    for (const id of d.tokenIds ?? []) record('tokenIds', id, found(`${d.contractAddress}:${id}`));
    for (const c of d.collection ?? []) record('collection', c, found(c) ?? '0');
    if (d.creatorAddress) record('creatorAddress', d.creatorAddress, found(d.creatorAddress) ?? '0');
    const upgraded: TestClaims = { ...claims, tokenBalances: proven, iat: Math.floor(Date.now() / 1000), tid: randomUUID() };
    for (const legacy of ['contractAddress', 'tokenBalance', 'numTokens', 'tokenIds', 'ext'] as const) upgraded[legacy] = undefined;
    try {
      compiled.check({ ...claims, tokenBalances: proven });
    } catch (error) {
      const reason = error instanceof TokenGateError ? error.reason : 'insufficient_balance';
      return { status: 403, body: { error: 'insufficient_scope', reason, requirements: d } };
    }
    const token = await sign(upgraded);
    return { status: 200, body: { accessToken: token, decodedAccessToken: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) } };
  }

  const http: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      jwksHits += 1;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=600' });
      res.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
      return;
    }
    if (req.method === 'POST' && path === '/authz') {
      readBody(req)
        .then((text) => authorize(JSON.parse(text)))
        .then(
          (answer) => send(res, answer.status, answer.body),
          () => send(res, 400, { error: 'invalid_request', error_description: 'Body must be JSON { accessToken, requirements }' }),
        );
      return;
    }
    send(res, 404, { error: 'not_found' });
  });
  http.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const jwksUri = `${url}/.well-known/jwks.json`;

  const server: TestIssuer = {
    options: { issuer: iss, audience: options.audience, jwksUri },
    jwksUri,
    url,
    authzUrl: `${url}/authz`,
    get jwksHits() {
      return jwksHits;
    },
    sign,
    async rotate({ keepPrevious = true } = {}) {
      current = await newKey();
      published = keepPrevious ? [...published, current] : [current];
    },
    setBalances(wallet, table) {
      const normalised: Record<string, string> = {};
      for (const [key, value] of Object.entries(table)) {
        if (!new Decimal(value).isFinite()) throw new TypeError(`setBalances: ${key} is not a decimal balance`);
        normalised[addressKey(chain, key)] = value;
      }
      balances.set(addressKey(chain, wallet), normalised);
    },
    close() {
      return new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
  return server;
}
