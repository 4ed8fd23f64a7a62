/** Small builders shared by the specification tests: real Express apps around a real gate. */
import express, { type Express, type RequestHandler } from 'express';
import { authErrorHandler, createTokenGate, type TokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from '../../lib/testing';

/** An Express 5 app with `middleware` on GET /r answering the wallet, and JSON errors. */
export function appWith(...middleware: RequestHandler[]): Express {
  const app = express();
  app.get('/r', ...middleware, (req, res) => {
    res.json({ wallet: req.wallet ?? null });
  });
  app.use(authErrorHandler());
  return app;
}

/** Decodes a JWT segment for building tampered tokens in tests. */
export function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export const BAYC = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * Starts a test issuer before the file's tests and closes it after; `gate` is a gate on it.
 * Read the fields inside tests (they are set in `beforeAll`).
 */
export function useTestIssuer(options: TestIssuerOptions = { audience: 'test-project' }): { issuer: TestIssuer; gate: TokenGate } {
  const context = {} as { issuer: TestIssuer; gate: TokenGate };
  beforeAll(async () => {
    context.issuer = await createTestIssuer(options);
    context.gate = createTokenGate(context.issuer.options);
  });
  afterAll(() => context.issuer.close());
  return context;
}
