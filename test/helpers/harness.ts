/**
 * A real Express app on 127.0.0.1 behind a gate, and the assertions every rejection is held to:
 * status, reason, the RFC 6750 challenge and body, and no piece of the token in the answer.
 */
import { createServer } from 'node:http';
import express, { type Express, type RequestHandler } from 'express';
import request, { type Response, type Test } from 'supertest';
import { authErrorHandler, createTokenGate, type TokenGate, type TokenGateOptions } from '../../lib';
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from '../../lib/testing';
import { AUDIENCE } from './fixtures';
import { createRawIssuer, type RawIssuer } from './jwks-server';
import { closeServer, listen } from './net';

/** An Express 5 app with `middleware` on GET /r answering the wallet, and JSON errors. */
export function appWith(...middleware: RequestHandler[]): Express {
  const app = express();
  app.get('/r', ...middleware, (req, res) => {
    res.json({ wallet: req.wallet ?? null });
  });
  app.use(authErrorHandler());
  return app;
}

/**
 * Starts a test issuer before the file's tests and closes it after; `gate` is a gate on it.
 * Read the fields inside tests (they are set in `beforeAll`).
 */
export function useTestIssuer(options: TestIssuerOptions = { audience: AUDIENCE }): {
  issuer: TestIssuer;
  gate: TokenGate;
} {
  const context = {} as { issuer: TestIssuer; gate: TokenGate };
  beforeAll(async () => {
    context.issuer = await createTestIssuer(options);
    context.gate = createTokenGate(context.issuer.options);
  });
  afterAll(() => context.issuer.close());
  return context;
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
    getWithAuthorization: (p, authorization) =>
      request(server)
        .get(p)
        .set('Authorization', authorization as string),
    close: () => closeServer(server),
  };
}

const RFC6750 =
  /^Bearer realm="api", error="(invalid_request|invalid_token|insufficient_scope)", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]*"$/;

/**
 * Asserts a documented rejection: status, reason (or one of several), the RFC 6750 challenge, the JSON body, and that
 * neither the challenge nor the body carries any piece of the token.
 */
export function expectRejected(
  res: Response,
  status: 400 | 401 | 403,
  reason: string | readonly string[],
  token?: string,
): void {
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
