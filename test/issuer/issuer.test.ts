/**
 * createIssuer: options, keys, and sessions that a logout ends, over real HTTP with real wallet
 * signatures, picket-js's own requests and a gate trusting `issuer.gateOptions`.
 *
 * The attack pinned here: a logged-out (revoked) token sent to `/authz` came back under a new
 * `tid` and opened the gate again. Now `/authz` and `/auth/validate` refuse every token of an
 * ended session, and a gate on the same revocation list refuses them too.
 */
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createRevocationList, createTokenGate, OptionsError } from '../../lib';
import { createIssuer, type Issuer, type IssuerOptions } from '../../lib/issuer';
import { balanceTableResolver } from '../../lib/testing/resolver';
import { BalanceTable } from '../../lib/testing/balances';
import { PicketJs } from '../testing/emulator/picket-js';
import { APES_CONTRACT, AUDIENCE, WALLET } from '../helpers/fixtures';
import { closeServer, listen } from '../helpers/net';

const PAGE = 'http://localhost:5173';
const pem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

describe('createIssuer options are checked at startup', () => {
  const base: IssuerOptions = { issuer: 'auth.example.com', audience: AUDIENCE, ephemeralKey: true };
  test.each<[string, string, Record<string, unknown>]>([
    ['no issuer', 'issuer', { issuer: undefined }],
    ['no audience', 'audience', { audience: '' }],
    ['neither signingKeys nor ephemeralKey', 'signingKeys', { ephemeralKey: undefined }],
    ['both signingKeys and ephemeralKey', 'ephemeralKey', { signingKeys: [pem()] }],
    [
      'a public key',
      'signingKeys[0]',
      { ephemeralKey: undefined, signingKeys: ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'] },
    ],
    ['an empty key list', 'signingKeys', { ephemeralKey: undefined, signingKeys: [] }],
    ['a store that is none', 'store', { store: {} }],
    ['revocations that are none', 'revocations', { revocations: { revoke() {} } }],
    ['an ownership resolver without resolve', 'ownership', { ownership: {} }],
    ['a lifetime of 0', 'tokenLifetimeSeconds', { tokenLifetimeSeconds: 0 }],
    ['an unknown option', 'audiance', { audiance: 'x' }],
  ])('%s throws an OptionsError naming %s', (_case, name, change) => {
    const options = { ...base, ...change } as IssuerOptions;
    expect(() => createIssuer(options)).toThrow(OptionsError);
    expect(() => createIssuer(options)).toThrow(`"${name}"`);
  });
});

interface Running {
  issuer: Issuer;
  server: Server;
  api: string;
  picket: PicketJs;
  app: express.Express;
  table: BalanceTable;
  close(): Promise<void>;
}

/** An Express app: the issuer under /api/v1, and a gate trusting it (with the shared revocation list) on /me and /apes. */
async function start(options: Partial<IssuerOptions> = {}): Promise<Running> {
  const table = new BalanceTable('ethereum');
  const revocations = createRevocationList();
  const issuer = createIssuer({
    issuer: 'auth.example.com',
    audience: AUDIENCE,
    signingKeys: [pem()],
    ownership: balanceTableResolver(table),
    revocations,
    ...options,
  });
  const gate = createTokenGate({ ...issuer.gateOptions, isRevoked: revocations.isRevoked });
  const app = express();
  app.use('/api/v1', issuer.router);
  app.get('/me', gate.requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
  app.get('/apes', gate.requireTokens(APES_CONTRACT, '1'), (req, res) => res.json({ ok: true }));
  app.use(authErrorHandler());
  const server = createServer(app);
  const port = await listen(server);
  const api = `http://127.0.0.1:${port}/api/v1`;
  return {
    issuer,
    server,
    api,
    app,
    table,
    picket: new PicketJs(AUDIENCE, { baseURL: api, origin: PAGE }),
    close: async () => {
      await closeServer(server);
      await issuer.close();
      await revocations.close();
    },
  };
}

const post = (api: string, path: string, body: unknown) =>
  fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('a production issuer behind Express', () => {
  let env: Running;
  beforeAll(async () => {
    env = await start();
  });
  afterAll(() => env.close());

  test('a wallet logs in; the token names its key and session, and the gate trusting gateOptions accepts it', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    const { accessToken } = await env.picket.login(wallet);
    const header = decodeProtectedHeader(accessToken);
    const jwks = (await (await fetch(`${env.api}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(header.kid).toBe(jwks.keys[0]!.kid);
    expect(decodeJwt(accessToken)).toMatchObject({ iss: 'auth.example.com', aud: AUDIENCE, sid: expect.any(String) });
    await request(env.app).get('/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
  });

  test('the JWKS is public and cacheable; nothing else is', async () => {
    const res = await fetch(`${env.api}/.well-known/jwks.json`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const keys = ((await res.json()) as { keys: Array<Record<string, unknown>> }).keys;
    for (const key of keys) expect(key).not.toHaveProperty('d');
  });

  test('/authz proves what the ownership resolver says, and keeps the session and its expiry', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey());
    env.table.set(wallet.address, { [APES_CONTRACT]: '2' });
    const { accessToken } = await env.picket.login(wallet);
    const res = await post(env.api, '/authz', { accessToken, requirements: { contractAddress: APES_CONTRACT } });
    expect(res.status).toBe(200);
    const upgraded = ((await res.json()) as { accessToken: string }).accessToken;
    const before = decodeJwt(accessToken);
    const after = decodeJwt(upgraded);
    expect(after.sid).toBe(before.sid);
    expect(after.exp).toBe(before.exp);
    expect(after.tid).not.toBe(before.tid);
    await request(env.app).get('/apes').set('Authorization', `Bearer ${upgraded}`).expect(200);
    env.table.set(wallet.address, {});
    const refused = await post(env.api, '/authz', {
      accessToken,
      requirements: { contractAddress: APES_CONTRACT },
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      code: 'insufficient_balance',
      requirements: { contractAddress: APES_CONTRACT },
    });
  });

  describe('logout ends the session', () => {
    test('a logged-out token sent to /authz or /auth/validate is refused, and the gate refuses it', async () => {
      const wallet = privateKeyToAccount(generatePrivateKey());
      env.table.set(wallet.address, { [APES_CONTRACT]: '1' });
      const { accessToken } = await env.picket.login(wallet);
      expect((await post(env.api, '/auth/logout', { accessToken })).status).toBe(204);

      const authz = await post(env.api, '/authz', { accessToken, requirements: { contractAddress: APES_CONTRACT } });
      expect(authz.status).toBe(401);
      expect(await authz.json()).toMatchObject({ code: 'session_ended' });
      const validate = await post(env.api, '/auth/validate', { accessToken });
      expect(validate.status).toBe(401);
      expect(await validate.json()).toMatchObject({ code: 'session_ended' });
      const gate = await request(env.app).get('/me').set('Authorization', `Bearer ${accessToken}`).expect(401);
      expect(gate.body.reason).toBe('token_revoked');
    });

    test('a token upgraded before the logout belongs to the ended session: /authz refuses it too', async () => {
      const wallet = privateKeyToAccount(generatePrivateKey());
      env.table.set(wallet.address, { [APES_CONTRACT]: '1' });
      const { accessToken } = await env.picket.login(wallet);
      const res = await post(env.api, '/authz', { accessToken, requirements: { contractAddress: APES_CONTRACT } });
      const upgraded = ((await res.json()) as { accessToken: string }).accessToken;
      expect((await post(env.api, '/auth/logout', { accessToken })).status).toBe(204);
      const again = await post(env.api, '/authz', {
        accessToken: upgraded,
        requirements: { contractAddress: APES_CONTRACT },
      });
      expect(again.status).toBe(401);
      expect(await again.json()).toMatchObject({ code: 'session_ended' });
    });

    test('a revocation in the app (revocations.revoke) is refused by /authz as well', async () => {
      const revocations = createRevocationList();
      const local = await start({ revocations });
      try {
        const wallet = privateKeyToAccount(generatePrivateKey());
        const { accessToken } = await local.picket.login(wallet);
        const claims = await createTokenGate(local.issuer.gateOptions).verify(accessToken);
        await revocations.revoke(claims);
        const authz = await post(local.api, '/authz', { accessToken, requirements: {} });
        expect(authz.status).toBe(401);
        expect(await authz.json()).toMatchObject({ code: 'token_revoked' });
      } finally {
        await local.close();
        await revocations.close();
      }
    });

    test('another session of the same wallet is untouched', async () => {
      const wallet = privateKeyToAccount(generatePrivateKey());
      const first = await env.picket.login(wallet);
      const second = await env.picket.login(wallet);
      expect((await post(env.api, '/auth/logout', { accessToken: first.accessToken })).status).toBe(204);
      expect((await post(env.api, '/auth/validate', { accessToken: second.accessToken })).status).toBe(200);
    });

    test('a token of no session (no sid) is refused by /authz and /auth/validate: 401 session_invalid', async () => {
      const accessToken = await env.issuer.internals.signer.sign({ walletAddress: WALLET });
      for (const path of ['/authz', '/auth/validate']) {
        const res = await post(env.api, path, { accessToken, requirements: {} });
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ code: 'session_invalid' });
      }
    });

    test('a token that does not verify cannot log anyone out: 401', async () => {
      const res = await post(env.api, '/auth/logout', { accessToken: 'not.a.token' });
      expect(res.status).toBe(401);
    });
  });

  test('the router passes paths it does not serve to the next handler', async () => {
    await request(env.app).get('/api/v1/nothing-here').expect(404);
    const res = await request(env.app).get('/me').expect(401);
    expect(res.body.reason).toBe('token_missing');
  });
});
