/** The shared adapter suite over Hono 4 served by @hono/node-server; Hono's onError sees the rejection. */
import { Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { serve as serveHono, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import * as hono from '../../lib/adapters/hono';
import { createTokenGate, TokenGateError, type TokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT } from '../helpers/fixtures';
import { closeServer } from '../helpers/net';
import { adapterSuite, claimsCheck, CLAIMS_DESCRIPTION, overHttp, ROUTES, type Mounted } from './suite';

function build(gate: TokenGate): Hono {
  const app = new Hono();
  for (const [path, names] of Object.entries(ROUTES)) {
    const checks = names.map((check): MiddlewareHandler =>
      check === 'requireTokens'
        ? hono.requireTokens(gate, APES_CONTRACT, '1')
        : check === 'requireClaims'
          ? hono.requireClaims(gate, claimsCheck, CLAIMS_DESCRIPTION)
          : hono[check](gate),
    );
    app.on(['GET', 'OPTIONS'], [path], ...checks, (c) =>
      c.json({ address: (c.get('wallet' as never) as { address: string } | undefined)?.address ?? null }),
    );
  }
  return app;
}

async function listen(app: Hono): Promise<Mounted> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serveHono({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return overHttp(`http://127.0.0.1:${port}`, () => closeServer(server as never));
}

adapterSuite('Hono', async (gate) => listen(build(gate)));

describe("Hono's onError sees the rejection", () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: 'adapters-project' });
  });
  afterAll(() => issuer.close());

  test('as an HTTPException whose cause is the TokenGateError', async () => {
    const app = new Hono();
    const seen: unknown[] = [];
    app.onError((err, c) => {
      seen.push(err);
      return c.text('mine', 418);
    });
    const gate = createTokenGate({ ...issuer.options, logger: false });
    app.get('/apes', hono.requireTokens(gate, APES_CONTRACT, '1'), (c) => c.json({ address: c.var.wallet.address }));
    const res = await app.request('/apes', { headers: { authorization: `Bearer ${await issuer.sign()}` } });
    expect(res.status).toBe(418);
    expect(seen[0]).toBeInstanceOf(HTTPException);
    expect((seen[0] as HTTPException).cause).toBeInstanceOf(TokenGateError);
  });
});
