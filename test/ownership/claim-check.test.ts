/**
 * Claim checks (`requireClaims`, the `claims` option, `claimEquals`, `claimIncludes`) and the
 * claim options `subject` and `maxTokenAge`, through real Express apps.
 */
import express, { type RequestHandler } from 'express';
import request from 'supertest';
import { importJWK, type JWK } from 'jose';
import {
  authErrorHandler,
  claimEquals,
  claimIncludes,
  ClaimCheckError,
  createTokenGate,
  OptionsError,
  type AccessTokenClaims,
  type TokenGateOptions,
} from '../../lib';
import { resolveOptions } from '../../lib/http/options';
import { TokenVerifier } from '../../lib/token/verify';
import { APES_CONTRACT, nowSeconds } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** An app with the route's middleware and a plain error handler after ours (500 for other errors). */
function appOf(...middleware: RequestHandler[]) {
  const app = express();
  app.get('/r', ...middleware, (_req, res) => res.json({ ok: true }));
  app.use(authErrorHandler());
  app.use(((err, _req, res, _next) =>
    res.status(500).json({ unexpected: String(err.message) })) as express.ErrorRequestHandler);
  return app;
}

const gateWith = (options: Partial<TokenGateOptions>) => createTokenGate({ ...env.issuer.options, ...options });

describe('requireClaims(check) lets through tokens whose claims pass the check', () => {
  test('a passing check answers the route', async () => {
    const app = appOf(env.gate.requireClaims((c) => c.email === 'ada@example.org'));
    await request(app)
      .get('/r')
      .set(bearer(await env.issuer.sign({ email: 'ada@example.org' })))
      .expect(200, { ok: true });
  });

  test('the check receives the verified, normalised claims', async () => {
    let seen: AccessTokenClaims | undefined;
    const app = appOf(env.gate.requireClaims((c) => ((seen = c), true)));
    await request(app)
      .get('/r')
      .set(bearer(await env.issuer.sign({ contractAddress: APES_CONTRACT, numTokens: '2' })))
      .expect(200);
    expect(seen?.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '2' } });
    expect(Object.isFrozen(seen)).toBe(true);
  });
});

describe('requireClaims(check) refuses with 403 insufficient_scope, reason claim_check_failed', () => {
  test('carries the given description in the header and the body, and no requirements', async () => {
    const app = appOf(env.gate.requireClaims((c) => c.email === 'ada@example.org', 'Only Ada may read this'));
    const res = await request(app)
      .get('/r')
      .set(bearer(await env.issuer.sign({ email: 'bob@example.org' })));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="Only Ada may read this"',
    );
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'Only Ada may read this',
      reason: 'claim_check_failed',
    });
  });

  test('uses a generic description when none is given', async () => {
    const res = await request(appOf(env.gate.requireClaims(() => false)))
      .get('/r')
      .set(bearer(await env.issuer.sign()));
    expect(res.status).toBe(403);
    expect(res.body.error_description).toBe('The token does not meet the conditions of this resource');
  });

  test('the error is a ClaimCheckError with status 403', async () => {
    let caught: unknown;
    const app = express();
    app.get(
      '/r',
      env.gate.requireClaims(() => false),
      (_req, res) => res.end(),
    );
    app.use(((err, _req, res, _next) => ((caught = err), res.status(418).end())) as express.ErrorRequestHandler);
    await request(app)
      .get('/r')
      .set(bearer(await env.issuer.sign()))
      .expect(418);
    expect(caught).toBeInstanceOf(ClaimCheckError);
    expect(caught).toMatchObject({ status: 403, code: 'insufficient_scope', reason: 'claim_check_failed' });
  });

  test('runs on every request, cached tokens included', async () => {
    const token = await env.issuer.sign({ email: 'ada@example.org' });
    let allow = true;
    const app = appOf(env.gate.requireClaims(() => allow));
    await request(app).get('/r').set(bearer(token)).expect(200);
    allow = false;
    await request(app).get('/r').set(bearer(token)).expect(403);
  });

  test('an invalid token is refused with 401 before the check runs', async () => {
    let calls = 0;
    const app = appOf(env.gate.requireClaims(() => (calls++, true)));
    const res = await request(app)
      .get('/r')
      .set(bearer(await env.issuer.sign({ exp: nowSeconds() - 60 })));
    expect(res.status).toBe(401);
    expect(calls).toBe(0);
    await request(app).get('/r').expect(401);
  });
});

describe('a claim check fails closed on anything but true or false', () => {
  test('an async check (a Promise) never passes: the error goes to the error handler', async () => {
    const asyncCheck = (async () => true) as unknown as () => boolean;
    const res = await request(appOf(env.gate.requireClaims(asyncCheck)))
      .get('/r')
      .set(bearer(await env.issuer.sign()));
    expect(res.status).toBe(500);
    expect(res.body.unexpected).toMatch(/must return true or false, not a Promise/);
  });

  test('a truthy non-boolean never passes', async () => {
    const truthy = ((c: AccessTokenClaims) => c.walletAddress) as unknown as () => boolean;
    expect(
      (
        await request(appOf(env.gate.requireClaims(truthy)))
          .get('/r')
          .set(bearer(await env.issuer.sign()))
      ).status,
    ).toBe(500);
  });

  test('a check that throws goes to the error handler', async () => {
    const throwing = () => {
      throw new Error('database down');
    };
    const res = await request(appOf(env.gate.requireClaims(throwing)))
      .get('/r')
      .set(bearer(await env.issuer.sign()));
    expect(res.status).toBe(500);
    expect(res.body.unexpected).toBe('database down');
  });
});

describe('requireClaims refuses bad arguments at startup', () => {
  test.each([
    ['a non-function check', () => env.gate.requireClaims('email' as never), /requireClaims\(check\)/],
    ['a description with a quote', () => env.gate.requireClaims(() => true, 'say "no"'), /description/],
    ['an empty description', () => env.gate.requireClaims(() => true, ''), /description/],
    ['a description over 200 characters', () => env.gate.requireClaims(() => true, 'x'.repeat(201)), /description/],
  ])('%s throws an OptionsError', (_name, build, message) => {
    expect(build).toThrow(OptionsError);
    expect(build).toThrow(message);
  });
});

describe('claimEquals(claim, value) compares one claim exactly', () => {
  const app = () => appOf(env.gate.requireClaims(claimEquals('email_verified', true)));

  test('passes the exact value and refuses a look-alike', async () => {
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign({ email_verified: true })))
      .expect(200);
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign({ email_verified: 'true' })))
      .expect(403);
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign()))
      .expect(403);
  });

  test('never matches an inherited property', async () => {
    const inherited = appOf(env.gate.requireClaims(claimEquals('hasOwnProperty', null)));
    await request(inherited)
      .get('/r')
      .set(bearer(await env.issuer.sign()))
      .expect(403);
  });

  test('refuses a non-primitive value or an empty name at startup', () => {
    expect(() => claimEquals('roles', ['admin'] as never)).toThrow(OptionsError);
    expect(() => claimEquals('', 'x')).toThrow(OptionsError);
  });
});

describe('claimIncludes(claim, ...values) needs every value in a list or space-separated claim', () => {
  const app = () => appOf(env.gate.requireClaims(claimIncludes('roles', 'admin', 'editor')));

  test('a list holding every value passes; one missing value refuses', async () => {
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign({ roles: ['editor', 'admin', 'x'] })))
      .expect(200);
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign({ roles: ['admin'] })))
      .expect(403);
  });

  test('a space-separated string such as scope counts word by word', async () => {
    const scoped = appOf(env.gate.requireClaims(claimIncludes('scope', 'read:posts')));
    await request(scoped)
      .get('/r')
      .set(bearer(await env.issuer.sign({ scope: 'openid read:posts' })))
      .expect(200);
    await request(scoped)
      .get('/r')
      .set(bearer(await env.issuer.sign({ scope: 'read:postsX' })))
      .expect(403);
  });

  test('a missing claim or one of another type refuses', async () => {
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign()))
      .expect(403);
    await request(app())
      .get('/r')
      .set(bearer(await env.issuer.sign({ roles: { admin: true } })))
      .expect(403);
  });

  test('needs at least one value', () => {
    expect(() => claimIncludes('roles')).toThrow(OptionsError);
  });
});

describe('the claims option applies one check to every middleware of the gate', () => {
  const staffOnly = { check: (c: AccessTokenClaims) => c.email === 'staff@example.org', description: 'Staff only' };

  test('requireAuth, requireTokens and optionalAuth with a token all refuse a failing token', async () => {
    const gate = gateWith({ claims: staffOnly });
    const outsider = await env.issuer.sign({
      email: 'guest@example.org',
      contractAddress: APES_CONTRACT,
      tokenBalance: '1',
    });
    for (const middleware of [
      gate.requireAuth(),
      gate.requireTokens(APES_CONTRACT, '1'),
      gate.optionalAuth(),
      gate.requireClaims(() => true),
    ]) {
      const res = await request(appOf(middleware)).get('/r').set(bearer(outsider));
      expect({ status: res.status, reason: res.body.reason, description: res.body.error_description }).toEqual({
        status: 403,
        reason: 'claim_check_failed',
        description: 'Staff only',
      });
    }
    const staff = await env.issuer.sign({ email: 'staff@example.org' });
    await request(appOf(gate.requireAuth())).get('/r').set(bearer(staff)).expect(200);
  });

  test('optionalAuth still lets a request without credentials through', async () => {
    await request(appOf(gateWith({ claims: staffOnly }).optionalAuth()))
      .get('/r')
      .expect(200);
  });

  test('gate.verify applies it too', async () => {
    const gate = gateWith({ claims: (c) => c.email === 'staff@example.org' });
    await expect(gate.verify(await env.issuer.sign({ email: 'guest@example.org' }))).rejects.toMatchObject({
      reason: 'claim_check_failed',
    });
    await expect(gate.verify(await env.issuer.sign({ email: 'staff@example.org' }))).resolves.toMatchObject({
      email: 'staff@example.org',
    });
  });

  test('runs before the route check', async () => {
    let routeCalls = 0;
    const gate = gateWith({ claims: () => false });
    await request(appOf(gate.requireClaims(() => (routeCalls++, true))))
      .get('/r')
      .set(bearer(await env.issuer.sign()))
      .expect(403);
    expect(routeCalls).toBe(0);
  });

  test.each([
    ['a string', 'staff', /option "claims"/],
    ['an object without check', { description: 'x' }, /option "claims.check"/],
    ['an unknown member', { check: () => true, message: 'x' }, /option "claims.message"/],
  ])('refuses %s at startup', (_name, claims, message) => {
    expect(() => gateWith({ claims: claims as never })).toThrow(message);
  });
});

describe('subject: sub must be one of the listed values', () => {
  test('accepts a listed sub and refuses another with 401 subject_mismatch', async () => {
    const wallet = '0x1111111111111111111111111111111111111111';
    const gate = gateWith({ subject: [`ethereum:${wallet}`] });
    await request(appWith(gate.requireAuth()))
      .get('/r')
      .set(bearer(await env.issuer.sign({ walletAddress: wallet })))
      .expect(200);
    const res = await request(appWith(gate.requireAuth()))
      .get('/r')
      .set(bearer(await env.issuer.sign()));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('subject_mismatch');
  });

  test('refuses a token without sub as claim_invalid, like every missing required claim', async () => {
    const gate = gateWith({ subject: 'ethereum:0x1111111111111111111111111111111111111111' });
    const res = await request(appWith(gate.requireAuth()))
      .get('/r')
      .set(bearer(await env.issuer.sign({ sub: undefined })));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('claim_invalid');
  });

  test('refuses an empty subject at startup', () => {
    expect(() => gateWith({ subject: '' })).toThrow(/option "subject"/);
  });
});

describe('maxTokenAge: seconds since iat', () => {
  test('accepts a token issued within maxTokenAge and refuses an older one with 401 token_too_old', async () => {
    const gate = gateWith({ maxTokenAge: 600 });
    await request(appWith(gate.requireAuth()))
      .get('/r')
      .set(bearer(await env.issuer.sign({ iat: nowSeconds() - 300 })))
      .expect(200);
    const res = await request(appWith(gate.requireAuth()))
      .get('/r')
      .set(bearer(await env.issuer.sign({ iat: nowSeconds() - 3600 })));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_too_old');
  });

  test('makes iat required', async () => {
    const gate = gateWith({ maxTokenAge: 600 });
    const res = await request(appWith(gate.requireAuth()))
      .get('/r')
      .set(bearer(await env.issuer.sign({ iat: undefined })));
    expect(res.body).toMatchObject({ reason: 'claim_invalid', error_description: 'The token has no iat claim' });
  });

  test('a cached token is refused once it grows older than maxTokenAge', async () => {
    let now = Date.now();
    const { keys } = (await (await fetch(env.issuer.jwksUri)).json()) as { keys: JWK[] };
    const key = (await importJWK(keys[0]!, 'ES256')) as CryptoKey;
    const verifier = new TokenVerifier(
      resolveOptions({ ...env.issuer.options, maxTokenAge: 60 }),
      { getKeys: async () => [key] },
      () => now,
    );
    const token = await env.issuer.sign({ iat: Math.floor(now / 1000) });
    await expect(verifier.verify(token)).resolves.toMatchObject({ iat: expect.any(Number) });
    now += 66_000; // past iat + maxTokenAge + the 5 s tolerance
    await expect(verifier.verify(token)).rejects.toMatchObject({ status: 401, reason: 'token_too_old' });
  });

  test.each([[-1], [Number.NaN], ['600']])('refuses %p at startup', (value) => {
    expect(() => gateWith({ maxTokenAge: value as never })).toThrow(/option "maxTokenAge"/);
  });
});
