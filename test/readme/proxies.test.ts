/**
 * The "Proxies and custom fetch" sample of docs/key-sets.md, run as written: the gate's key set is fetched
 * through a forward proxy on loopback (undici's ProxyAgent from HTTPS_PROXY), and the header the
 * resolver's function adds reaches the tokenOwnership API.
 */
import express from 'express';
import request from 'supertest';
import {
  createTokenGate,
  evmOwnershipResolver,
  picketOwnershipResolver,
  type OwnershipResolver,
  type TokenGate,
} from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { block } from '../helpers/docs';
import { APES_CONTRACT, AUDIENCE, WALLET } from '../helpers/fixtures';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { startOwnershipServer, type OwnershipServer } from '../helpers/ownership-server';

const sample = () => block('docs/key-sets.md', 'Proxies and custom fetch');

const API_KEY = 'sk_test_proxies';
let issuer: TestIssuer;
let proxy: ForwardProxy;
let api: OwnershipServer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  proxy = await startForwardProxy();
  api = await startOwnershipServer(API_KEY);
  api.hold(WALLET, APES_CONTRACT, '1');
});
afterAll(async () => {
  await issuer.close();
  await proxy.close();
  await api.close();
});

test('the gate fetches its keys through the proxy, and the resolver sends the header the function adds', async () => {
  let gate: TokenGate | undefined;
  let picket: OwnershipResolver | undefined;
  const env = { HTTPS_PROXY: proxy.url, RPC_URL: 'http://127.0.0.1:8545' };
  new Function(
    'require',
    'process',
    'createTokenGate',
    'evmOwnershipResolver',
    'picketOwnershipResolver',
    'audience',
    'apiKey',
    'id',
    sample(),
  )(
    require,
    { env },
    // The sample's own options, pointed at the loopback issuer and API.
    (options: Parameters<typeof createTokenGate>[0]) =>
      (gate = createTokenGate({ ...options, issuer: issuer.options.issuer, jwksUri: issuer.options.jwksUri })),
    evmOwnershipResolver,
    (options: Parameters<typeof picketOwnershipResolver>[0]) =>
      (picket = picketOwnershipResolver({ ...options, baseUrl: api.baseUrl })),
    AUDIENCE,
    API_KEY,
    'trace-7',
  );

  const app = express().get('/me', gate!.requireAuth(), (_req, res) => {
    res.json({ ok: true });
  });
  await request(app)
    .get('/me')
    .set('Authorization', `Bearer ${await issuer.sign()}`)
    .expect(200);
  expect(proxy.targets()).toEqual([new URL(issuer.options.jwksUri).host]);

  await expect(
    picket!.resolve({
      chain: 'ethereum',
      walletAddress: WALLET,
      requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, minTokenBalance: '0' },
      signal: new AbortController().signal,
    }),
  ).resolves.toEqual({ balance: '1', allowed: true });
  expect(api.requests.at(-1)!.headers['x-trace']).toBe('trace-7');
});
