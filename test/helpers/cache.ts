/**
 * Shared set-up for the verified-token cache specification: a real test issuer (ES256 keys, JWKS
 * on 127.0.0.1), a real Express app behind `createTokenGate`, and a way to tell a cache hit from a
 * verification without looking inside: tokens carry no kid (as the issuer's own do), and
 * `crowdKeySet` publishes more keys than a verification tries for such a token, while keeping the
 * key that signed it. After that a token can only be accepted if it is recognised from the cache.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, type TokenGate, type TokenGateOptions } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT, AUDIENCE } from './fixtures';

/** Key-set options for every gate of these tests: refetch at once when an unknown kid shows up. */
export const JWKS = { cooldownMs: 0 } as const;

export interface Fixture {
  issuer: TestIssuer;
  gate: TokenGate;
  app: express.Express;
  /** `issuer.sign` without the kid header (unless `options.kid` names one). */
  sign: TestIssuer['sign'];
}

/** A fresh issuer (its own JWKS URI, so its own process-wide key set) and an app gated by it. */
export async function setUp(options: Omit<TokenGateOptions, 'audience' | 'issuer' | 'jwksUri'> = {}): Promise<Fixture> {
  const issuer = await createTestIssuer({ audience: AUDIENCE });
  const gate = createTokenGate({ ...issuer.options, jwks: JWKS, ...options });
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) => {
    res.json({ address: req.wallet!.address });
  });
  app.get('/nft', gate.requireTokens(APES_CONTRACT, '1'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/feed', gate.optionalAuth(), (req, res) => {
    res.json({ address: req.wallet?.address ?? null });
  });
  app.use(authErrorHandler());
  const sign: TestIssuer['sign'] = (claims, signOptions = {}) =>
    signOptions.kid !== undefined
      ? issuer.sign(claims, signOptions)
      : issuer.sign(claims, { ...signOptions, header: { kid: undefined, ...signOptions.header } });
  return { issuer, gate, app, sign };
}

/** GET `path` with `token` as the bearer token. */
export function get(app: express.Express, token: string, path = '/me') {
  return request(app).get(path).set('Authorization', `Bearer ${token}`);
}

/**
 * Publishes three more keys beside the current one and makes the shared key set learn them. The
 * key that signed earlier tokens stays, so tokens it verified stay valid; but a token without kid
 * now has four candidate keys, more than a verification tries (3), so it can only be accepted if
 * it is recognised from the cache, and a new one is refused with key_not_found. The refresh goes
 * through a second, uncached gate on the same JWKS URI, so the gate under test sees no extra
 * request and its cache no extra entry.
 */
export async function crowdKeySet(issuer: TestIssuer): Promise<void> {
  for (let i = 0; i < 3; i += 1) await issuer.rotate({ keepPrevious: true });
  const probe = createTokenGate({ ...issuer.options, jwks: JWKS, cache: false });
  await probe.verify(await issuer.sign());
}

/**
 * Replaces the issuer's signing key and makes the shared key set learn it, so the retired key is
 * gone from it (through an uncached probe gate, as above).
 */
export async function retireSigningKey(issuer: TestIssuer): Promise<void> {
  await issuer.rotate({ keepPrevious: false });
  const probe = createTokenGate({ ...issuer.options, jwks: JWKS, cache: false });
  await probe.verify(await issuer.sign());
}

/** Every fake-timer API except `Date`: HTTP and the JWKS fetch keep real timers. */
export const ONLY_DATE = {
  doNotFake: [
    'hrtime',
    'nextTick',
    'performance',
    'queueMicrotask',
    'requestAnimationFrame',
    'cancelAnimationFrame',
    'requestIdleCallback',
    'cancelIdleCallback',
    'setImmediate',
    'clearImmediate',
    'setInterval',
    'clearInterval',
    'setTimeout',
    'clearTimeout',
  ],
} as const;
