/**
 * examples/issuer.js on a real chain and a real Redis: ganache (chain id 1, as mainnet answers)
 * with an ERC-721 deployed and minted to a wallet, redis-server for sessions and logouts. A wallet
 * logs in, the gated route answers 403 with its requirements, /authz proves them on chain, the
 * route opens, and a logout closes it.
 */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { compileContracts, startChain, type LocalChain } from '../helpers/chain';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { eventually, loginToken } from '../helpers/wallet-login';
import { assertBuilt } from './start-example';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createIssuerApp } = require('../../examples/issuer') as {
  createIssuerApp(options: Record<string, unknown>): { app: import('express').Express; close(): Promise<void> };
};

let chain: LocalChain;
let redis: RedisServer;
let nft: Address;
let example: { app: import('express').Express; close(): Promise<void> };
const holder = privateKeyToAccount(generatePrivateKey());
const stranger = privateKeyToAccount(generatePrivateKey());

beforeAll(async () => {
  assertBuilt();
  const { Nft721 } = compileContracts();
  [chain, redis] = await Promise.all([startChain({ chainId: 1 }), startRedisServer()]);
  nft = await chain.deploy(Nft721!);
  await chain.send(chain.accounts[0]!, nft, Nft721!, 'mint', [holder.address, 42n]);
  example = createIssuerApp({
    signingKeys: [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    ],
    rpcUrl: chain.rpcUrl,
    redisUrl: redis.url,
    membersContract: nft,
    domain: 'localhost:5173',
    origin: 'http://localhost:5173',
  });
}, 60_000);
afterAll(async () => {
  await example?.close();
  await Promise.all([chain?.close(), redis?.close()]);
});

/** The app on a loopback port (supertest's), as an API base for the login helper. */
async function withServer<T>(run: (api: string) => Promise<T>): Promise<T> {
  const server = example.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    return await run(`http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('examples/issuer.js', () => {
  test('log in, 403 with the requirements, /authz proves the ERC-721 on chain, the route opens, logout closes it', async () => {
    const token = await withServer((api) => loginToken(api, holder));
    const denied = await request(example.app).get('/members').set(bearer(token)).expect(403);
    expect(denied.body.requirements).toMatchObject({ chain: 'ethereum', contractAddress: nft.toLowerCase() });

    const upgraded = await request(example.app)
      .post('/api/v1/authz')
      .send({ accessToken: token, requirements: denied.body.requirements })
      .expect(200);
    const member = upgraded.body.accessToken as string;
    await request(example.app)
      .get('/members')
      .set(bearer(member))
      .expect(200, { welcome: holder.address.toLowerCase() });

    await request(example.app).post('/api/v1/auth/logout').send({ accessToken: member }).expect(204);
    expect(
      await eventually(async () => (await request(example.app).get('/members').set(bearer(member))).status === 401),
    ).toBe(true);
    const after = await request(example.app).post('/api/v1/authz').send({ accessToken: token, requirements: {} });
    expect(after.status).toBe(401);
  });

  test('a wallet that holds none of the collection is refused at /authz with 403 and the requirements', async () => {
    const token = await withServer((api) => loginToken(api, stranger));
    const denied = await request(example.app).get('/members').set(bearer(token)).expect(403);
    const refused = await request(example.app)
      .post('/api/v1/authz')
      .send({ accessToken: token, requirements: denied.body.requirements })
      .expect(403);
    expect(refused.body).toMatchObject({ reason: 'insufficient_balance', requirements: denied.body.requirements });
  });
});
