/**
 * Shared set-up for the revocation specification: an Express app whose gate asks a revocation
 * list, with the routes an application writes (`POST /logout` revokes the caller's token,
 * `POST /revoke` revokes a token given in the body), and the ECDSA twin of a token.
 */
import { createHash } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, type RevocationList, type TokenGateOptions } from '../../lib';
import type { TestIssuer } from '../../lib/testing';
import { P256_N, payloadOf } from './fixtures';

/** The other valid spelling of an ES256 token: signature (r, s) becomes (r, n − s). */
export function twinOf(token: string): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const signature = Buffer.from(s, 'base64url');
  const low = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  const high = Buffer.from((P256_N - low).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${Buffer.concat([signature.subarray(0, 32), high]).toString('base64url')}`;
}

/** An app gated by `issuer`, asking `list` on every request. */
export function revocationApp(issuer: TestIssuer, list: RevocationList, options: Partial<TokenGateOptions> = {}) {
  const gate = createTokenGate({ ...issuer.options, isRevoked: list.isRevoked, ...options });
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) => {
    res.json({ address: req.wallet!.address });
  });
  app.post('/logout', gate.requireAuth(), async (req, res, next) => {
    try {
      await list.revoke(req.wallet!.claims);
      res.sendStatus(204);
    } catch (error) {
      next(error);
    }
  });
  app.post('/revoke', express.json(), async (req, res, next) => {
    try {
      await list.revoke(req.body.token);
      res.sendStatus(204);
    } catch (error) {
      next(error);
    }
  });
  app.use(authErrorHandler());
  return app;
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export function me(app: express.Express, token: string) {
  return request(app).get('/me').set(bearer(token));
}

export function logout(app: express.Express, token: string) {
  return request(app).post('/logout').set(bearer(token));
}

export function revokeRaw(app: express.Express, token: unknown) {
  return request(app).post('/revoke').send({ token });
}

/**
 * The id a revocation list gives the store for `token` (which has a `tid`), written out here from
 * the rule of docs/logout.md: the issuer's scope (`iss:` and the SHA-256 of `iss`, base64url), then `tid`.
 */
export function revocationIdOf(token: string): string {
  const { iss, tid } = payloadOf(token) as { iss: string; tid: string };
  return `iss:${createHash('sha256').update(iss).digest('base64url')}|tid:${tid}`;
}
