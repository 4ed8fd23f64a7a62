/** The shared adapter suite over Koa 3 with @koa/router; Koa's own error handling. */
import Koa from 'koa';
import Router from '@koa/router';
import { koaGate, authErrorHandler } from '../../lib/adapters/koa';
import { createTokenGate, type TokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT } from '../helpers/fixtures';
import { adapterSuite, claimsCheck, CLAIMS_DESCRIPTION, ROUTES } from './suite';
import { serve } from './listen';
import type http from 'node:http';

function build(gate: TokenGate, errors = true): http.RequestListener {
  const app = new Koa();
  if (errors) app.use(authErrorHandler());
  const router = new Router();
  const koa = koaGate(gate);
  for (const [path, names] of Object.entries(ROUTES)) {
    router.all(
      path,
      ...names.map((check) =>
        check === 'requireTokens'
          ? koa.requireTokens(APES_CONTRACT, '1')
          : check === 'requireClaims'
            ? koa.requireClaims(claimsCheck, CLAIMS_DESCRIPTION)
            : koa[check](),
      ),
      (ctx) => {
        ctx.body = { address: (ctx.state.wallet as { address: string } | undefined)?.address ?? null };
      },
    );
  }
  app.use(router.routes());
  app.silent = true;
  return app.callback();
}

adapterSuite('Koa', async (gate) => serve(build(gate)));

describe("Koa's own error handling", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: 'adapters-project' });
  });
  afterAll(() => issuer.close());

  test('without authErrorHandler, Koa answers err.status, err.headers and the exposed message', async () => {
    const app = await serve(build(createTokenGate({ ...issuer.options, logger: false }), false));
    const res = await app.send('/me', { Authorization: 'Bearer a.b.c' });
    expect({ status: res.status, challenge: res.headers['www-authenticate'], text: res.body.text }).toEqual({
      status: 401,
      challenge: expect.stringMatching(/^Bearer realm="api", error="invalid_token"/),
      text: expect.stringMatching(/\S/),
    });
    await app.close();
  });

  test('koaGate refuses anything but a gate from createTokenGate', () => {
    expect(() => koaGate({ audience: 'p' })).toThrow(/koaGate\(gate\) needs a gate made by createTokenGate/);
  });
});
