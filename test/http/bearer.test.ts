import request from 'supertest';
import { createTokenGate, type TokenGate } from '../../lib';
import { appWith, useTestIssuer } from '../helpers/harness';
import { rawGet } from '../helpers/net';

const env = useTestIssuer();
let token: string;
beforeAll(async () => {
  token = await env.issuer.sign();
});

const invalidRequest = (description: string) =>
  `Bearer realm="api", error="invalid_request", error_description="${description}"`;

describe('reading the bearer token (RFC 6750 §2.1)', () => {
  test('accepts "Bearer <token>"', async () => {
    const res = await request(appWith(env.gate.requireAuth())).get('/r').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
  });

  test.each(['bearer', 'BEARER', 'BeArEr'])('accepts the scheme written %s', async (scheme) => {
    const res = await request(appWith(env.gate.requireAuth())).get('/r').set('Authorization', `${scheme} ${token}`);
    expect(res.status).toBe(200);
  });

  test('answers a request without credentials with 401 and a bare challenge', async () => {
    const res = await request(appWith(env.gate.requireAuth())).get('/r');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'No bearer token was sent',
      reason: 'token_missing',
    });
  });

  test('treats another scheme as no bearer credentials (401 token_missing)', async () => {
    const res = await request(appWith(env.gate.requireAuth())).get('/r').set('Authorization', 'Basic dXNlcjpwYXNz');
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_missing');
  });

  test.each([
    ['an empty token', 'Bearer '],
    ['the scheme alone', 'Bearer'],
    ['two tokens', `Bearer ${'a'.repeat(10)} ${'b'.repeat(10)}`],
    ['a character outside b64token', 'Bearer abc$def'],
    ['a tab instead of a space', 'Bearer\tabc'],
    ['an empty header', ''],
  ])('answers %s with 400 invalid_request', async (_name, header) => {
    const res = await rawGet(appWith(env.gate.requireAuth()), '/r', [['Authorization', header]]);
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="api", error="invalid_request", error_description="[^"]+"$/,
    );
    expect(JSON.parse(res.body).reason).toBe('header_malformed');
  });

  test('answers two Authorization headers with 400 even when the first is valid', async () => {
    const res = await rawGet(appWith(env.gate.requireAuth()), '/r', [
      ['Authorization', `Bearer ${token}`],
      ['Authorization', `Bearer ${token}`],
    ]);
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toBe(invalidRequest('The request has more than one Authorization header'));
    expect(JSON.parse(res.body).reason).toBe('header_duplicated');
  });

  test('does not read a token from the query string unless allowQueryToken is set', async () => {
    const res = await request(appWith(env.gate.requireAuth())).get(`/r?access_token=${token}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_missing');
  });
});

describe('getToken: a custom token location', () => {
  const fromCookie = (req: { headers: Record<string, string | undefined> }) =>
    /(?:^|; )session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];

  test('reads the token where getToken finds it', async () => {
    const custom = createTokenGate({ ...env.issuer.options, getToken: fromCookie });
    const res = await request(appWith(custom.requireAuth())).get('/r').set('Cookie', `session=${token}`);
    expect(res.status).toBe(200);
  });

  test('still reads the Authorization header when getToken finds nothing', async () => {
    const custom = createTokenGate({ ...env.issuer.options, getToken: fromCookie });
    const res = await request(appWith(custom.requireAuth())).get('/r').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
  });

  test('answers a token in both places with 400 token_location_conflict', async () => {
    const custom = createTokenGate({ ...env.issuer.options, getToken: fromCookie });
    const res = await request(appWith(custom.requireAuth()))
      .get('/r')
      .set('Cookie', `session=${token}`)
      .set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('token_location_conflict');
    expect(res.headers['www-authenticate']).toBe(invalidRequest('The request carries a token in more than one place'));
  });

  test('answers a getToken that throws or returns a non-string with 400, not a crash', async () => {
    const throwing = createTokenGate({
      ...env.issuer.options,
      getToken: () => {
        throw new Error('boom');
      },
    });
    const numeric = createTokenGate({ ...env.issuer.options, getToken: () => 42 as unknown as string });
    for (const g of [throwing, numeric]) {
      const res = await request(appWith(g.requireAuth())).get('/r');
      expect(res.status).toBe(400);
      expect(res.body.reason).toBe('header_malformed');
    }
  });
});
