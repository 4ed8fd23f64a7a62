/** The shared adapter suite over Fastify 5, through a real listen and through inject; Fastify's own error handling. */
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyTokenGate, { authErrorHandler, TokenGateError } from '../../lib/adapters/fastify';
import { createTokenGate, type TokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT } from '../helpers/fixtures';
import { adapterSuite, claimsCheck, CLAIMS_DESCRIPTION, overHttp, ROUTES, type Answer, type Mounted } from './suite';

type ErrorHandler = Parameters<FastifyInstance['setErrorHandler']>[0];

async function build(gate: TokenGate, errors: ErrorHandler | null = authErrorHandler()): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyTokenGate, { gate });
  if (errors) app.setErrorHandler(errors);
  for (const [url, names] of Object.entries(ROUTES)) {
    app.route({
      method: ['GET', 'OPTIONS'],
      url,
      preHandler: names.map((check) =>
        check === 'requireTokens'
          ? app.tokenGate.requireTokens(APES_CONTRACT, '1')
          : check === 'requireClaims'
            ? app.tokenGate.requireClaims(claimsCheck, CLAIMS_DESCRIPTION)
            : app.tokenGate[check](),
      ),
      handler: async (request) => ({ address: request.wallet?.address ?? null }),
    });
  }
  return app;
}

adapterSuite('Fastify (listen)', async (gate) => {
  const app = await build(gate);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return overHttp(url, () => app.close());
});

adapterSuite('Fastify (inject)', async (gate): Promise<Mounted> => {
  const app = await build(gate);
  return {
    async send(url, headers = {}, method = 'GET'): Promise<Answer> {
      const res = await app.inject({ method: method as 'GET', url, headers });
      let body: Record<string, unknown>;
      try {
        body = res.body === '' ? {} : (JSON.parse(res.body) as Record<string, unknown>);
      } catch {
        body = { text: res.body };
      }
      return { status: res.statusCode, headers: res.headers as Answer['headers'], body };
    },
    close: () => app.close(),
  };
});

describe("Fastify's error handling sees the rejection", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: 'adapters-project' });
  });
  afterAll(() => issuer.close());

  test('without authErrorHandler, the default handler answers the status and WWW-Authenticate', async () => {
    const app = await build(createTokenGate({ ...issuer.options, logger: false }), null);
    const res = await app.inject({ url: '/me', headers: { authorization: 'Bearer a.b.c' } });
    expect({ status: res.statusCode, challenge: res.headers['www-authenticate'], code: res.json().code }).toEqual({
      status: 401,
      challenge: expect.stringMatching(/^Bearer realm="api", error="invalid_token"/),
      code: 'invalid_token',
    });
    await app.close();
  });

  test('a handler of setErrorHandler receives the TokenGateError itself', async () => {
    const seen: unknown[] = [];
    const app = await build(createTokenGate({ ...issuer.options, logger: false }), (err, _request, reply) => {
      seen.push(err);
      void reply.code(418).send({ mine: true });
    });
    const res = await app.inject({ url: '/apes', headers: { authorization: `Bearer ${await issuer.sign()}` } });
    expect(res.statusCode).toBe(418);
    expect(seen[0]).toBeInstanceOf(TokenGateError);
    expect((seen[0] as TokenGateError).reason).toBe('insufficient_balance');
    await app.close();
  });

  test('the plugin takes the gate options directly, and refuses unknown ones at startup', async () => {
    const app = Fastify();
    await app.register(fastifyTokenGate, { ...issuer.options, logger: false });
    app.get('/me', { preHandler: app.tokenGate.requireAuth() }, async (request) => ({
      address: app.tokenGate.walletOf(request).address,
    }));
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${await issuer.sign()}` } });
    expect(res.statusCode).toBe(200);
    await app.close();
    const bad = Fastify();
    await expect(bad.register(fastifyTokenGate, { ...issuer.options, secret: 'x' } as never).ready()).rejects.toThrow(
      /option "secret"/,
    );
  });
});
