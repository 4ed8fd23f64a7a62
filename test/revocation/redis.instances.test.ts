/**
 * Logout across instances: separate Node processes running the built package (fixtures/instance.js),
 * sharing one real redis-server, behind no load balancer but the test itself. A token logged out
 * through one instance is refused by the others within a second; Redis going away gives every
 * instance its configured policy, and they recover when it returns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { AUDIENCE, payloadOf } from '../helpers/fixtures';
import { revocationIdOf, twinOf } from '../helpers/revocation';

const ROOT = path.resolve(__dirname, '../..');
const SCRIPT = path.join(__dirname, 'fixtures/instance.js');

interface Instance {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

let server: RedisServer;
let issuer: TestIssuer;
const running: Instance[] = [];

async function startInstance(env: Record<string, string> = {}): Promise<Instance> {
  const child = spawn(process.execPath, [SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ...issuerEnv(), REDIS_URL: server.url, CLOCK_TOLERANCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start:\n${output}`)), 10_000);
    const look = () => {
      const found = /^listening (\d+)$/m.exec(output);
      if (found) {
        clearTimeout(timer);
        child.stdout!.off('data', look);
        resolve(Number(found[1]));
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`instance exited:\n${output}`));
    });
  });
  const instance: Instance = {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  running.push(instance);
  return instance;
}

function issuerEnv() {
  return { AUDIENCE, ISSUER: issuer.options.issuer as string, JWKS_URI: issuer.options.jwksUri! };
}

function get(instance: Instance, token: string) {
  return fetch(`${instance.url}/me`, { headers: { authorization: `Bearer ${token}` } });
}

async function reasonOf(response: Response): Promise<string | undefined> {
  return ((await response.json()) as { reason?: string }).reason;
}

async function logout(instance: Instance, token: string): Promise<number> {
  return (await fetch(`${instance.url}/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }))
    .status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, limitMs = 5000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

let a: Instance;
let b: Instance;

beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cjs/redis.js'))) {
    throw new Error('dist/ is missing: `npm test` builds before running jest (or run `npm run build`)');
  }
  [server, issuer] = await Promise.all([startRedisServer(), createTestIssuer({ audience: AUDIENCE })]);
  [a, b] = await Promise.all([startInstance({ ON_STORE_ERROR: 'deny' }), startInstance({ ON_STORE_ERROR: 'allow' })]);
}, 30_000);

afterAll(async () => {
  await Promise.all(running.map((instance) => instance.stop()));
  await Promise.all([server?.close(), issuer?.close()]);
});

describe('a logout through instance A holds on instance B', () => {
  test('B refuses the token within 1 s, though B had accepted it just before', async () => {
    const token = await issuer.sign();
    expect((await get(b, token)).status).toBe(200);
    expect(await logout(a, token)).toBe(204);
    const loggedOut = Date.now();
    let refusedOnPollStartedAt: number | undefined;
    while (refusedOnPollStartedAt === undefined && Date.now() - loggedOut < 3000) {
      const pollStartedAt = Date.now();
      const res = await get(b, token);
      if (res.status === 401 && (await reasonOf(res)) === 'token_revoked') refusedOnPollStartedAt = pollStartedAt;
      else await sleep(20);
    }
    expect(refusedOnPollStartedAt).toBeDefined();
    expect(refusedOnPollStartedAt! - loggedOut).toBeLessThan(1000);
  });

  test("the wallet's other tokens still pass on every instance", async () => {
    const revoked = await issuer.sign();
    const other = await issuer.sign();
    expect(await logout(a, revoked)).toBe(204);
    expect((await get(a, other)).status).toBe(200);
    expect((await get(b, other)).status).toBe(200);
  });

  test('a malleated spelling of the revoked token (ECDSA high-S twin) is refused on B', async () => {
    for (const claims of [{}, { tid: undefined }]) {
      const token = await issuer.sign(claims);
      expect(await logout(a, token)).toBe(204);
      expect(
        await eventually(async () => (await reasonOf(await get(b, twinOf(token)))) === 'token_revoked', 1000),
      ).toBe(true);
    }
  });

  test('an instance started after the logout refuses the token', async () => {
    const token = await issuer.sign();
    expect(await logout(a, token)).toBe(204);
    const later = await startInstance();
    expect(await reasonOf(await get(later, token))).toBe('token_revoked');
    await later.stop();
  });
});

describe('Redis entries', () => {
  test('are gone from Redis once the token has expired (exp plus the clock tolerance)', async () => {
    const token = await issuer.sign({}, { expiresIn: 1 });
    expect(await logout(a, token)).toBe(204);
    const key = `token-gate:revoked:${revocationIdOf(token)}`;
    expect(await server.cli('EXISTS', key)).toBe('1');
    const end = ((payloadOf(token).exp as number) + 1) * 1000;
    while (Date.now() < end) await sleep(100);
    expect(await eventually(async () => (await server.cli('EXISTS', key)) === '0', 2000)).toBe(true);
  });
});

describe('commands per request (INFO commandstats)', () => {
  const counted = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([name]) => !/^(info|config)/.test(name))
      .reduce((sum, [, calls]) => sum + calls, 0);

  test('a request costs at most one Redis command; a token seen again within a second costs none', async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, () => issuer.sign()));
    await server.cli('CONFIG', 'RESETSTAT');
    for (const [i, token] of tokens.entries()) expect((await get(i % 2 ? a : b, token)).status).toBe(200);
    const fresh = await server.commandCounts();
    expect(counted(fresh)).toBeLessThanOrEqual(tokens.length);
    expect(fresh.exists).toBeLessThanOrEqual(tokens.length);

    const session = tokens[0]!;
    await server.cli('CONFIG', 'RESETSTAT');
    const started = Date.now();
    for (let i = 0; i < 20; i++) expect((await get(b, session)).status).toBe(200);
    const seconds = Math.ceil((Date.now() - started) / 1000);
    expect(counted(await server.commandCounts())).toBeLessThanOrEqual(seconds + 1);
  });
});

describe('Redis stopped mid-run', () => {
  test('each instance applies its policy (A denies with 503, B allows and logs it), none crashes, both recover', async () => {
    const revoked = await issuer.sign();
    expect(await logout(a, revoked)).toBe(204);
    await eventually(async () => (await reasonOf(await get(b, revoked))) === 'token_revoked', 1000);
    await server.stop({ save: true });
    try {
      const fresh = await issuer.sign();
      const denied = await get(a, fresh);
      expect(denied.status).toBe(503);
      expect(denied.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect(await reasonOf(denied)).toBe('revocation_unavailable');
      expect((await get(b, fresh)).status).toBe(200);
      expect(b.output()).toMatch(/"type":"check-failed","outcome":"allowed"/);
      // A revocation made before the outage holds during it, on both.
      expect(await reasonOf(await get(a, revoked))).toBe('token_revoked');
      expect(await reasonOf(await get(b, revoked))).toBe('token_revoked');
      expect(await logout(a, fresh)).toBe(503);
      expect([a.process.exitCode, b.process.exitCode]).toEqual([null, null]);
    } finally {
      await server.start();
    }
    const after = await issuer.sign();
    expect(await eventually(async () => (await get(a, after)).status === 200)).toBe(true);
    expect(await logout(a, after)).toBe(204);
    expect(await eventually(async () => (await reasonOf(await get(b, after))) === 'token_revoked')).toBe(true);
    // And it still holds after it, even for an instance that never saw it.
    const later = await startInstance();
    expect(await reasonOf(await get(later, revoked))).toBe('token_revoked');
    await later.stop();
  }, 30_000);
});
