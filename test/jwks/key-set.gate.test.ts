import type { Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, type KeySetOptions } from '../../lib';
import { keySetFor, type SharedKeySet } from '../../lib/jwks/key-set';
import { parseKeySetOptions, type KeySetEvent } from '../../lib/jwks/options';
import { AUDIENCE, encodeSegment, ISSUER } from '../helpers/fixtures';
import {
  type JwksServer,
  makeSigningKey,
  signAccessToken,
  type SigningKey,
  startJwksServer,
} from '../helpers/jwks-server';
import { ManualClock } from '../helpers/manual-clock';

interface Setup {
  server: JwksServer;
  key: SigningKey;
  clock: ManualClock;
  set: SharedKeySet;
  events: KeySetEvent[];
  http: Server;
}

/**
 * An Express app built with createTokenGate. The process-wide key set for the server's URI is
 * created first on a manual clock, so the gate (which shares it) runs on simulated time.
 */
async function setup(jwks: KeySetOptions = {}, cacheControl?: string, errorHandler = true): Promise<Setup> {
  const key = await makeSigningKey();
  const server = await startJwksServer({ keys: [key.jwk], cacheControl });
  const clock = new ManualClock();
  const events: KeySetEvent[] = [];
  const jwksOptions: KeySetOptions = { ...jwks, onKeySetEvent: (e) => events.push(e) };
  const set = keySetFor(server.uri, parseKeySetOptions(jwksOptions), clock.now, clock.schedule);
  const gate = createTokenGate({
    audience: AUDIENCE,
    issuer: ISSUER,
    jwksUri: server.uri,
    jwks: jwksOptions,
    cache: false,
    logger: false,
  });
  const app = express();
  app.get('/me', gate.requireAuth(), (req, res) => {
    res.json({ address: (req as unknown as { wallet: { address: string } }).wallet.address });
  });
  if (errorHandler) app.use(authErrorHandler());
  const http = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => http.once('listening', resolve));
  return { server, key, clock, set, events, http };
}

let s: Setup;
afterEach(async () => {
  await new Promise((resolve) => s.http.close(resolve));
  await s.server.close();
});

const get = (token?: string) => {
  const req = request(s.http).get('/me');
  return token === undefined ? req : req.set('Authorization', `Bearer ${token}`);
};

describe('503 + Retry-After only when no usable key exists', () => {
  test('cold start with the issuer failing: 503, Retry-After, no WWW-Authenticate, reason jwks_unavailable', async () => {
    s = await setup();
    s.server.answer = 'error';
    const token = await signAccessToken(s.key);
    const first = await get(token);
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.headers['www-authenticate']).toBeUndefined();
    expect(first.body).toMatchObject({ reason: 'jwks_unavailable' });
    const second = await get(token);
    expect(second.status).toBe(503);
    expect(s.server.hits).toBe(1);
  });

  test('Express’s default error handler sends the same 503 and Retry-After', async () => {
    s = await setup({}, undefined, false);
    s.server.answer = 'html';
    const response = await get(await signAccessToken(s.key));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
  });

  test('once Retry-After has passed and the issuer is back, the same token is 200', async () => {
    s = await setup();
    s.server.answer = 'error';
    const token = await signAccessToken(s.key);
    const refused = await get(token);
    s.server.answer = 'good';
    s.clock.advance(Number(refused.headers['retry-after']) * 1000);
    expect((await get(token)).status).toBe(200);
    expect(s.server.hits).toBe(2);
  });

  test('a failing issuer with cached keys is never a 503: valid tokens 200, unknown kids 401', async () => {
    s = await setup();
    expect((await get(await signAccessToken(s.key))).status).toBe(200);
    s.server.answer = 'error';
    s.clock.advance(30_000);
    const stranger = await makeSigningKey();
    const unknown = await get(await signAccessToken(stranger));
    expect(unknown.status).toBe(401);
    expect(unknown.body).toMatchObject({ reason: 'key_not_found' });
    expect((await get(await signAccessToken(s.key))).status).toBe(200);
    expect(s.server.hits).toBe(2);
  });

  test('when stale-if-error has run out, a failing issuer means 503', async () => {
    s = await setup({ staleIfErrorMs: 60_000 }, 'max-age=60');
    const token = await signAccessToken(s.key);
    expect((await get(token)).status).toBe(200);
    await s.server.stop();
    s.clock.advance(119_999);
    await s.set.idle();
    expect((await get(token)).status).toBe(200);
    await s.set.idle();
    s.clock.advance(1);
    const response = await get(token);
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('the JWKS down for 2 minutes of simulated time', () => {
  test('every valid token is still 200, retries back off, and the set recovers when the issuer returns', async () => {
    s = await setup({}, 'max-age=60');
    const token = await signAccessToken(s.key);
    expect((await get(token)).status).toBe(200);
    await s.server.stop();
    const statuses = new Set<number>();
    for (let second = 1; second <= 120; second += 1) {
      s.clock.advance(1_000);
      await s.set.idle();
      statuses.add((await get(token)).status);
      await s.set.idle();
    }
    expect([...statuses]).toEqual([200]);
    // Refresh due at 48 s, then retries 1, 2, 4 … 64 s apart: at 48, 49, 51, 55, 63, 79 and 111 s.
    expect(s.events.filter((e) => e.type === 'failed').map((e) => (e as { retryInMs: number }).retryInMs)).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000,
    ]);
    expect(s.events.some((e) => e.type === 'stale-served')).toBe(true);
    await s.server.start();
    s.clock.advance(55_000);
    // The first request once the backoff allows (at 175 s) retries, answered from the cache meanwhile.
    expect((await get(token)).status).toBe(200);
    await s.set.idle();
    expect(s.events.at(-1)).toMatchObject({ type: 'fetched', keys: 1 });
    expect(s.server.hits).toBe(2);
    expect((await get(token)).status).toBe(200);
  });
});

describe('a flood of random kids over HTTP', () => {
  test('300 concurrent requests with random kids cost at most one fetch; a valid token meanwhile is 200', async () => {
    s = await setup();
    const valid = await signAccessToken(s.key);
    expect((await get(valid)).status).toBe(200);
    s.clock.advance(30_000);
    const forged = Array.from(
      { length: 300 },
      () =>
        `${encodeSegment({ alg: 'ES256', kid: randomUUID() })}.${encodeSegment({ iss: ISSUER, aud: AUDIENCE })}.${randomBytes(64).toString('base64url')}`,
    );
    const responses = await Promise.all([...forged.map((t) => get(t)), get(valid)]);
    expect(responses.slice(0, 300).every((r) => r.status === 401 && r.body.reason === 'key_not_found')).toBe(true);
    expect(responses[300]!.status).toBe(200);
    expect(s.server.hits).toBeLessThanOrEqual(2);
  });
});

describe('rotation end to end', () => {
  test('a token signed with a newly published key is 200 on first use after the cooldown', async () => {
    s = await setup();
    expect((await get(await signAccessToken(s.key))).status).toBe(200);
    const next = await makeSigningKey();
    s.server.keys = [s.key.jwk, next.jwk];
    s.clock.advance(30_000);
    expect((await get(await signAccessToken(next))).status).toBe(200);
    expect(s.server.hits).toBe(2);
  });
});
