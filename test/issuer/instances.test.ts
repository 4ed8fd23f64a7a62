/**
 * Many instances: two issuer processes (fixtures/instance.js, the built package) sharing one real
 * redis-server for their nonces, sessions and logouts, each with a gate on the shared revocation
 * list, and a gate in this process on the same list. A token logged in at A is upgraded at B; a
 * logout at A is refused at B's /authz and /auth/validate and at every gate; Redis stopped answers
 * 503 with Retry-After, never a 500.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createRevocationList, createTokenGate, type RevocationList } from '../../lib';
import { redisRevocationStore } from '../../lib/redis';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { APES_CONTRACT, AUDIENCE } from '../helpers/fixtures';
import { eventually, loginToken, postJson } from '../helpers/wallet-login';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(__dirname, 'fixtures/instance.js');
const ISSUER = 'auth.example.com';
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;
const holder = privateKeyToAccount(generatePrivateKey());

interface Instance {
  api: string;
  url: string;
  stop(): Promise<void>;
}

let redis: RedisServer;
let a: Instance;
let b: Instance;
let revocations: RevocationList;
let app: express.Express;
const running: ChildProcess[] = [];

async function startInstance(): Promise<Instance> {
  const child = spawn(process.execPath, [SCRIPT], {
    cwd: ROOT,
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      ISSUER_KEY: KEY,
      ISSUER,
      AUDIENCE,
      HOLDINGS: JSON.stringify({ [holder.address.toLowerCase()]: { [APES_CONTRACT]: '3' } }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${output}`)), 20_000);
    const look = () => {
      const found = /^listening (\d+)$/m.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`instance exited:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    api: `${url}/api/v1`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cjs/issuer/index.js'))) {
    throw new Error('dist/ is missing: `npm test` builds before running jest (or run `npm run build`)');
  }
  redis = await startRedisServer();
  [a, b] = await Promise.all([startInstance(), startInstance()]);
  // A gate of another service: trusts A's JWKS and honours the same revocation list.
  const store = redisRevocationStore({ url: redis.url, timeoutMs: 300, logger: false });
  await store.ready;
  revocations = createRevocationList({ store });
  const gate = createTokenGate({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${a.api}/.well-known/jwks.json`,
    isRevoked: revocations.isRevoked,
  });
  app = express();
  app.get('/me', gate.requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
  app.use(authErrorHandler());
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await revocations?.close();
  await redis?.close();
});

const me = (instance: Instance, token: string) =>
  fetch(`${instance.url}/me`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.status);
const here = async (token: string) => (await request(app).get('/me').set('Authorization', `Bearer ${token}`)).status;

describe('two issuer processes on one Redis', () => {
  test('a token logged in at A is upgraded at B, and both gates and the gate here accept both tokens', async () => {
    const token = await loginToken(a.api, holder);
    const upgraded = await postJson(b.api, '/authz', {
      accessToken: token,
      requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, minTokenBalance: '2' },
    });
    expect(upgraded.status).toBe(200);
    const next = upgraded.body.accessToken as string;
    expect(decodeJwt(next)).toMatchObject({ sid: decodeJwt(token).sid, tokenBalances: expect.anything() });
    for (const t of [token, next]) {
      expect([await me(a, t), await me(b, t), await here(t)]).toEqual([200, 200, 200]);
      expect((await postJson(b.api, '/auth/validate', { accessToken: t })).status).toBe(200);
    }
  });

  test('a logout at A: B refuses the session at /authz and /auth/validate, and every gate refuses the tokens (polled)', async () => {
    const token = await loginToken(a.api, holder);
    const next = (await postJson(b.api, '/authz', { accessToken: token, requirements: {} })).body.accessToken as string;
    expect(await me(b, token)).toBe(200);
    expect(await here(token)).toBe(200);

    expect((await postJson(a.api, '/auth/logout', { accessToken: token })).status).toBe(204);

    for (const t of [token, next]) {
      const authz = await postJson(b.api, '/authz', { accessToken: t, requirements: {} });
      const validate = await postJson(b.api, '/auth/validate', { accessToken: t });
      expect([authz.status, validate.status]).toEqual([401, 401]);
      expect(['session_ended', 'token_revoked']).toContain(authz.body.reason);
      expect(['session_ended', 'token_revoked']).toContain(validate.body.reason);
      // The gates learn of the logout through Redis (pushed, or within the 1 s cache): wait for it.
      expect(await eventually(async () => (await me(b, t)) === 401)).toBe(true);
      expect(await eventually(async () => (await me(a, t)) === 401)).toBe(true);
      expect(await eventually(async () => (await here(t)) === 401)).toBe(true);
    }
    // Another session of the same wallet is untouched.
    const other = await loginToken(b.api, holder);
    expect((await postJson(a.api, '/auth/validate', { accessToken: other })).status).toBe(200);
  });

  test('Redis stopped: /authz and /auth/logout answer 503 with Retry-After at both instances, never a 500', async () => {
    const token = await loginToken(a.api, holder);
    await redis.stop();
    try {
      for (const instance of [a, b]) {
        const authz = await postJson(instance.api, '/authz', { accessToken: token, requirements: {} });
        const logout = await postJson(instance.api, '/auth/logout', { accessToken: token });
        for (const answer of [authz, logout]) {
          expect(answer.status).toBe(503);
          expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
          expect(['issuer_store_unavailable', 'revocation_unavailable']).toContain(answer.body.reason);
        }
      }
    } finally {
      await redis.start();
    }
  });
});
