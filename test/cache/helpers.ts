/**
 * Shared set-up for the verified-token cache specification: a real test issuer (ES256 keys, JWKS
 * on 127.0.0.1), a real Express app behind `createTokenGate`, and a way to tell a cache hit from a
 * verification without looking inside: retire the issuer's signing key. After that a token can
 * only be accepted if it is recognised from the cache, because verifying it would need the key.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, type TokenGate, type TokenGateOptions } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';

export const AUDIENCE = 'cache-project';
export const NFT = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';

/** Key-set options for every gate of these tests: refetch at once when an unknown kid shows up. */
export const JWKS = { cooldownMs: 0 } as const;

export interface Fixture {
  issuer: TestIssuer;
  gate: TokenGate;
  app: express.Express;
}

/** A fresh issuer (its own JWKS URI, so its own process-wide key set) and an app gated by it. */
export async function setUp(options: Omit<TokenGateOptions, 'audience' | 'issuer' | 'jwksUri'> = {}): Promise<Fixture> {
  const issuer = await createTestIssuer({ audience: AUDIENCE });
  const gate = createTokenGate({ ...issuer.options, jwks: JWKS, ...options });
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) => {
    res.json({ address: req.wallet!.address });
  });
  app.get('/nft', gate.requireTokens(NFT, '1'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/feed', gate.optionalAuth(), (req, res) => {
    res.json({ address: req.wallet?.address ?? null });
  });
  app.use(authErrorHandler());
  return { issuer, gate, app };
}

/** GET `path` with `token` as the bearer token. */
export function get(app: express.Express, token: string, path = '/me') {
  return request(app).get(path).set('Authorization', `Bearer ${token}`);
}

/**
 * Replaces the issuer's signing key and makes the shared key set learn it, so the retired key is
 * gone from it. The refresh goes through a second, uncached gate on the same JWKS URI, so the
 * gate under test sees no extra request and its cache no extra entry.
 */
export async function retireSigningKey(issuer: TestIssuer): Promise<void> {
  await issuer.rotate({ keepPrevious: false });
  const probe = createTokenGate({ ...issuer.options, jwks: JWKS, cache: false });
  await probe.verify(await issuer.sign());
}

/** Every fake-timer API except `Date`: HTTP and the JWKS fetch keep real timers. */
export const ONLY_DATE = {
  doNotFake: [
    'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
    'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval',
    'clearInterval', 'setTimeout', 'clearTimeout',
  ],
} as const;
