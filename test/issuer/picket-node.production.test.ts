/**
 * The issuer's own Node client, @picketapi/picket-node 0.0.12 unchanged, against `createIssuer`
 * configured as in production: a PEM signing key (its `kid` the RFC 7638 thumbprint), the Redis
 * store and revocation list on a real redis-server, rate limits on (the defaults), CORS origins
 * and login domains listed, ownership proven on a local chain (ganache, chain id 1) through
 * `evmOwnershipResolver`, sessions. The SDK's calls (`nonce`, `auth`, `authz`, `validate`,
 * `tokenOwnership`, `chains`) with `baseURL` pointed at it; the SDK has no logout, so the test
 * posts `/auth/logout` itself.
 */
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Picket from '@picketapi/picket-node';
import express from 'express';
import request from 'supertest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createRevocationList, createTokenGate, evmOwnershipResolver } from '../../lib';
import { createIssuer, type Issuer } from '../../lib/issuer';
import { redisIssuerStore, redisRevocationStore } from '../../lib/redis';
import { compileContracts, startChain, type LocalChain } from '../helpers/chain';
import { closeServer, listen } from '../helpers/net';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { eventually, postJson } from '../helpers/wallet-login';
import { createSigningMessage } from '../testing/emulator/picket-js';
import { AUDIENCE } from '../helpers/fixtures';

const PAGE = 'http://localhost:5173';

let chain: LocalChain;
let redis: RedisServer;
let nft: Address;
let issuer: Issuer;
let server: Server;
let api: string;
let app: express.Express;
let picket: Picket;
let closeStores: () => Promise<void>;
const holder = privateKeyToAccount(generatePrivateKey());

beforeAll(async () => {
  const { Nft721 } = compileContracts();
  [chain, redis] = await Promise.all([startChain({ chainId: 1 }), startRedisServer()]);
  nft = await chain.deploy(Nft721!);
  await chain.send(chain.accounts[0]!, nft, Nft721!, 'mint', [holder.address, 42n]);

  const store = redisIssuerStore({ url: redis.url });
  const revocationStore = redisRevocationStore({ url: redis.url });
  const revocations = createRevocationList({ store: revocationStore });
  closeStores = async () => {
    await store.close();
    await revocationStore.close();
  };
  issuer = createIssuer({
    issuer: 'auth.example.com',
    audience: AUDIENCE,
    signingKeys: [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    ],
    login: { domains: ['localhost:5173'] },
    ownership: evmOwnershipResolver({ rpcUrl: chain.rpcUrl }),
    store,
    revocations,
    cors: { origins: [PAGE] },
  });
  const gate = createTokenGate({ ...issuer.gateOptions, isRevoked: revocations.isRevoked });
  app = express();
  app.use('/api/v1', issuer.router);
  app.get('/members', gate.requireTokens(nft), (req, res) => {
    res.json({ welcome: req.wallet!.address });
  });
  app.use(authErrorHandler());
  server = createServer(app);
  api = `http://127.0.0.1:${await listen(server)}/api/v1`;
  picket = new Picket('project-secret-key');
  picket.baseURL = api;
}, 120_000);

afterAll(async () => {
  if (server) await closeServer(server);
  await issuer?.close();
  await closeStores?.();
  await Promise.all([chain?.close(), redis?.close()]);
});

/** Logs `account` in through the SDK: `nonce`, the message picket-js builds, `auth`. */
async function sdkLogin(account: typeof holder) {
  const { nonce, statement, format } = (await picket.nonce({ chain: 'ethereum', walletAddress: account.address })) as {
    nonce: string;
    statement: string;
    format: 'siwe' | 'simple';
  };
  expect(format).toBe('siwe');
  const context = {
    domain: 'localhost:5173',
    uri: PAGE,
    chainId: 1,
    issuedAt: new Date().toISOString(),
    chainType: 'ethereum' as const,
  };
  const message = createSigningMessage({ format, nonce, statement, walletAddress: account.address, ...context });
  return picket.auth({
    chain: 'ethereum',
    walletAddress: account.address,
    signature: await account.signMessage({ message }),
    context,
  } as Parameters<Picket['auth']>[0]);
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('picket-node against the production configuration', () => {
  test('nonce, auth, authz on chain, validate, the gate; logout ends the session at /authz, /auth/validate and the gate', async () => {
    const state = await sdkLogin(holder);
    expect(state.user).toMatchObject({
      walletAddress: holder.address,
      displayAddress: holder.address,
      chain: 'ethereum',
    });
    const token = state.accessToken;
    // Signed by the PEM key, naming its published kid; a session of its own.
    const { kid } = decodeProtectedHeader(token);
    expect(issuer.gateOptions.keys.keys.map((k) => k.kid)).toEqual([kid]);
    expect(decodeJwt(token)).toMatchObject({ iss: 'auth.example.com', aud: AUDIENCE, sid: expect.any(String) });

    const denied = await request(app).get('/members').set(bearer(token)).expect(403);
    const upgraded = await picket.authz({ accessToken: token, requirements: denied.body.requirements });
    expect(upgraded.user).toMatchObject({
      walletAddress: holder.address,
      tokenBalances: { contractAddress: { [nft.toLowerCase()]: '1' } },
    });
    expect(decodeJwt(upgraded.accessToken).sid).toBe(decodeJwt(token).sid);
    await request(app)
      .get('/members')
      .set(bearer(upgraded.accessToken))
      .expect(200, { welcome: holder.address.toLowerCase() });

    const validated = (await picket.validate(upgraded.accessToken, { contractAddress: nft })) as unknown as Record<
      string,
      unknown
    >;
    expect(validated).toMatchObject({ walletAddress: holder.address, sid: decodeJwt(token).sid });

    const ownership = (await picket.tokenOwnership({
      chain: 'ethereum',
      walletAddress: holder.address,
      contractAddress: nft,
    } as Parameters<Picket['tokenOwnership']>[0])) as unknown as Record<string, unknown>;
    expect(ownership).toMatchObject({ allowed: true, tokenBalance: '1' });

    const logout = await postJson(api, '/auth/logout', { accessToken: upgraded.accessToken });
    expect(logout.status).toBe(204);
    await expect(picket.authz({ accessToken: token, requirements: {} })).rejects.toMatchObject({
      code: 'session_ended',
    });
    await expect(picket.validate(upgraded.accessToken)).rejects.toMatchObject({ code: 'session_ended' });
    expect(
      await eventually(
        async () => (await request(app).get('/members').set(bearer(upgraded.accessToken))).status === 401,
      ),
    ).toBe(true);
  });

  test("a wallet that holds none is refused at authz with the SDK's { code, msg } and the requirements", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    const { accessToken } = await sdkLogin(stranger);
    await expect(picket.authz({ accessToken, requirements: { contractAddress: nft } })).rejects.toMatchObject({
      code: 'insufficient_balance',
      msg: expect.any(String),
      requirements: { chain: 'ethereum', contractAddress: nft.toLowerCase() },
    });
  });

  test('the SDK reads the chains it knows', async () => {
    // The SDK answers the list itself (it unwraps `data`).
    const chains = (await picket.chains()) as unknown as Array<{ chainSlug: string; chainId: number }>;
    expect(chains.find((c) => c.chainSlug === 'ethereum')).toMatchObject({ chainId: 1 });
  });

  test("rate limits are on: the store counts the SDK's nonces per wallet, past 20 → rejected rate_limited", async () => {
    const wallet = privateKeyToAccount(generatePrivateKey()).address;
    const answers: number[] = [];
    for (let i = 0; i < 21; i += 1) {
      answers.push(
        await picket.nonce({ chain: 'ethereum', walletAddress: wallet }).then(
          () => 200,
          (error: { code?: string }) => (error.code === 'rate_limited' ? 429 : 0),
        ),
      );
    }
    expect(answers).toEqual([...Array(20).fill(200), 429]);
    // The count lives in Redis, where every instance sharing it reads the same.
    expect(await redis.cli('KEYS', `*rate:nonce:wallet:*${wallet.toLowerCase()}*`)).toContain(wallet.toLowerCase());
  });
});
