/**
 * Shared fixtures of the security suite: a real Express app behind the gate, a purpose-built
 * issuer that signs arbitrary bytes (for tokens JSON.stringify cannot produce), a loopback trap
 * server that must never be contacted, and assertions on the shape of every rejection.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import request, { type Response, type Test } from 'supertest';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { authErrorHandler, createTokenGate, type TokenGate, type TokenGateOptions } from '../../lib';

import { createTestIssuer, type TestIssuer } from '../../lib/testing';
export const AUDIENCE = 'security-suite';
export const ISSUER = 'picketapi.com';
export const WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';
export const APE = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';

/** P-256 group order n and field prime p (SEC 2, §2.4.2). */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
export const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;

export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');
export const json64 = (value: unknown): string => b64url(JSON.stringify(value));
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The Wycheproof vectors vendored in test/fixtures/wycheproof (see its README for the upstream commit). */
export function wycheproofDir(): string {
  const dir = path.resolve(__dirname, '../fixtures/wycheproof');
  if (!existsSync(dir)) throw new Error(`Wycheproof vectors not found at ${dir}`);
  return dir;
}

/** A 32-byte big-endian scalar. */
export function scalar(value: bigint): Buffer {
  if (value < 0n || value >= 1n << 256n) throw new RangeError('scalar out of 32 bytes');
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

export const toBigInt = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

/** Replaces the signature segment of a compact token. */
export function withSignature(token: string, signature: Uint8Array | string): string {
  const [h, p] = token.split('.');
  return `${h}.${p}.${typeof signature === 'string' ? signature : b64url(signature)}`;
}

export const signatureOf = (token: string): Buffer => Buffer.from(token.split('.')[2]!, 'base64url');

/** Default Picket-shaped claims, valid for 12 h. */
export function picketClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  const claims: Record<string, unknown> = {
    walletAddress: WALLET,
    displayAddress: WALLET,
    chain: 'ethereum',
    sub: `ethereum:${WALLET}`,
    iat: now,
    exp: now + 12 * 3600,
    iss: ISSUER,
    aud: AUDIENCE,
    tid: 'c0ffee00-0000-4000-8000-000000000001',
    ver: 1,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

export interface RawIssuer {
  readonly options: { issuer: string; audience: string; jwksUri: string };
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly hits: number;
  /** What the JWKS endpoint serves next (default: the signing key). */
  jwks: unknown;
  /** Signs an arbitrary signing input (the first two segments, as sent) and appends the signature. */
  signInput(input: string, key?: CryptoKey): Promise<string>;
  /** Signs `header` and `payload` exactly as given (strings are used byte for byte). */
  signRaw(header: string | Uint8Array, payload: string | Uint8Array, key?: CryptoKey): Promise<string>;
  /** Signs JSON values with ES256 and this issuer's kid unless the header says otherwise. */
  sign(payload?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * A purpose-built issuer on 127.0.0.1 that can sign arbitrary bytes with a real P-256 key and
 * serve an arbitrary JWKS body.
 */
export async function createRawIssuer(): Promise<RawIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'raw-issuer-key';
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  let hits = 0;
  const state = { jwks: { keys: [publicJwk] } as unknown };
  const server = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      hits += 1;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(typeof state.jwks === 'string' ? state.jwks : JSON.stringify(state.jwks));
      return;
    }
    res.writeHead(404).end();
  });
  const port = await listen(server);
  const jwksUri = `http://127.0.0.1:${port}/jwks.json`;

  async function signInput(input: string, key: CryptoKey = privateKey): Promise<string> {
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(input, 'latin1'));
    return `${input}.${b64url(new Uint8Array(signature))}`;
  }

  const signRaw = (header: string | Uint8Array, payload: string | Uint8Array, key?: CryptoKey) =>
    signInput(`${b64url(header)}.${b64url(payload)}`, key);

  return {
    options: { issuer: ISSUER, audience: AUDIENCE, jwksUri },
    kid,
    publicJwk,
    get hits() {
      return hits;
    },
    get jwks() {
      return state.jwks;
    },
    set jwks(value: unknown) {
      state.jwks = value;
    },
    signInput,
    signRaw,
    sign: (payload = picketClaims(), header = {}) =>
      signRaw(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid, ...header }), JSON.stringify(payload)),
    close: () => closeServer(server),
  };
}

/** A loopback server that records every request: used where the gate must never call out. */
export interface Trap {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

export async function createTrap(): Promise<Trap> {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"keys":[]}');
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    close: () => closeServer(server),
  };
}

export interface Harness {
  readonly gate: TokenGate;
  readonly app: Express;
  /** GET `path` with `Authorization: Bearer <token>` (no header when token is undefined). */
  get(path: string, token?: string): Test;
  /** GET `path` with a raw Authorization value (a list sends one header line per value). */
  getWithAuthorization(path: string, authorization: string | string[]): Test;
  close(): Promise<void>;
}

/**
 * A real Express app on 127.0.0.1: `/me` requires auth and echoes the wallet, `/optional` uses
 * optionalAuth; `routes` adds more. Every rejection goes through `authErrorHandler`.
 */
export async function createHarness(
  options: TokenGateOptions,
  routes?: (app: Express, gate: TokenGate) => void,
): Promise<Harness> {
  const gate = createTokenGate(options);
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) => {
    res.json({ address: req.wallet?.address, chain: req.wallet?.chain, claims: req.wallet?.claims });
  });
  app.get('/optional', gate.optionalAuth(), (req, res) => res.json({ wallet: req.wallet?.address ?? null }));
  routes?.(app, gate);
  app.use(authErrorHandler());
  // Anything that is not a TokenGateError would be a crash of the gate: make it visible.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ crash: String((err as Error)?.stack ?? err) });
  });
  const server = createServer(app);
  server.keepAliveTimeout = 500;
  await listen(server);
  return {
    gate,
    app,
    get: (p, token) => {
      const req = request(server).get(p);
      return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
    },
    getWithAuthorization: (p, authorization) => request(server).get(p).set('Authorization', authorization as string),
    close: () => closeServer(server),
  };
}

const RFC6750 = /^Bearer realm="api", error="(invalid_request|invalid_token|insufficient_scope)", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"$/;

/**
 * Asserts a documented rejection: status, reason (or one of several), the RFC 6750 challenge, the JSON body, and that
 * neither the challenge nor the body carries any piece of the token.
 */
export function expectRejected(res: Response, status: 400 | 401 | 403, reason: string | readonly string[], token?: string): void {
  if (typeof reason === 'string') expect({ status: res.status, reason: res.body?.reason }).toEqual({ status, reason });
  else {
    expect(res.status).toBe(status);
    expect(reason).toContain(res.body?.reason);
  }
  const challenge = res.headers['www-authenticate'];
  expect(challenge).toMatch(RFC6750);
  const code = { 400: 'invalid_request', 401: 'invalid_token', 403: 'insufficient_scope' }[status];
  expect(challenge).toContain(`error="${code}"`);
  expect(res.body.error).toBe(code);
  if (token !== undefined) expectNoLeak(res, token);
}

/** Shortest piece of token text looked for in responses; shorter strings occur in ordinary words. */
const WINDOW = 12;

/** No segment of `token` (nor any 12-character piece of one) appears in the challenge or the body. */
export function expectNoLeak(res: Response, token: string, alsoSecret?: string): void {
  const exposed = `${res.headers['www-authenticate'] ?? ''}\n${res.text ?? ''}`;
  for (const segment of token.split('.')) {
    if (segment.length < 4) continue;
    if (segment.length <= WINDOW) {
      expect(exposed).not.toContain(segment);
      continue;
    }
    for (let i = 0; i + WINDOW <= segment.length; i += 1) {
      const piece = segment.slice(i, i + WINDOW);
      if (exposed.includes(piece)) throw new Error(`response leaks token text ${JSON.stringify(piece)}`);
    }
  }
  if (alsoSecret) expect(exposed).not.toContain(alsoSecret);
}

export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * A test issuer and a harness on it, started before and closed after the enclosing block's tests.
 * Read the fields inside tests; they are set in `beforeAll`.
 */
export function useIssuerHarness(): { issuer: TestIssuer; harness: Harness } {
  const context = {} as { issuer: TestIssuer; harness: Harness };
  beforeAll(async () => {
    context.issuer = await createTestIssuer({ audience: AUDIENCE });
    context.harness = await createHarness(context.issuer.options);
  });
  afterAll(async () => {
    await context.harness.close();
    await context.issuer.close();
  });
  return context;
}

/** `useIssuerHarness` for the raw issuer, which signs headers and payloads jose refuses to produce. */
export function useRawHarness(): { raw: RawIssuer; harness: Harness } {
  const context = {} as { raw: RawIssuer; harness: Harness };
  beforeAll(async () => {
    context.raw = await createRawIssuer();
    context.harness = await createHarness(context.raw.options);
  });
  afterAll(async () => {
    await context.harness.close();
    await context.raw.close();
  });
  return context;
}
