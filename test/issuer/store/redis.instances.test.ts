/**
 * Several issuer instances on one Redis: separate Node processes running the built package
 * (fixtures/instance.js), each with its own store and connection, beside a store in this process.
 * A nonce is taken exactly once however many instances race for it, an end of a session made in
 * one holds in all, and a rate counter counts every instance's hits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { redisIssuerStore, type RedisIssuerStore } from '../../../lib/redis';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server';

const ROOT = path.resolve(__dirname, '../../..');
const SCRIPT = path.join(__dirname, 'fixtures/instance.js');
const KEY_PREFIX = 'issuer-instances:';
const HOUR = 3_600_000;

type Result = { value?: unknown; error?: { name: string; message: string; status?: number } };

interface Instance {
  /** Runs the calls concurrently in that process; one result per call. */
  run(calls: unknown[][]): Promise<Result[]>;
  stop(): Promise<void>;
}

let server: RedisServer;
let local: RedisIssuerStore;
const instances: Instance[] = [];

async function startInstance(): Promise<Instance> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: server.url, KEY_PREFIX },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (chunk) => (errors += chunk));
  const waiting = new Map<number, (results: Result[]) => void>();
  let ready!: () => void;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    child.once('exit', () => reject(new Error(`instance exited:\n${errors}`)));
  });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'ready') return ready();
    const { id, results } = JSON.parse(line) as { id: number; results: Result[] };
    waiting.get(id)?.(results);
    waiting.delete(id);
  });
  await started;
  let next = 0;
  const instance: Instance = {
    run(calls) {
      const id = next++;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.stdin!.write(`${JSON.stringify({ id, calls })}\n`);
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await exited;
    },
  };
  instances.push(instance);
  return instance;
}

let b: Instance;
let c: Instance;

beforeAll(async () => {
  if (!fs.existsSync(path.join(ROOT, 'dist/cjs/issuer/store/redis.js'))) {
    throw new Error(
      'dist/ is missing the issuer store: `npm test` builds before running jest (or run `npm run build`)',
    );
  }
  server = await startRedisServer();
  local = redisIssuerStore({ url: server.url, keyPrefix: KEY_PREFIX, timeoutMs: 5000 });
  await local.ready;
  [b, c] = await Promise.all([startInstance(), startInstance()]);
}, 30_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  await local?.close();
  await server?.close();
});

describe('a nonce issued by one instance', () => {
  test('is taken by another, once', async () => {
    await local.issueNonce('ethereum:0xabc', 'once', { from: 'A' }, HOUR);
    expect(await b.run([['consumeNonce', 'ethereum:0xabc', 'once']])).toEqual([{ value: { from: 'A' } }]);
    expect(await c.run([['consumeNonce', 'ethereum:0xabc', 'once']])).toEqual([{}]);
    expect(await local.consumeNonce('ethereum:0xabc', 'once')).toBeUndefined();
  });

  test('three processes racing with many consumers each: exactly one wins each nonce', async () => {
    const nonces = Array.from({ length: 20 }, (_, i) => [`ethereum:wallet-${i % 4}`, `race-${i}`] as const);
    // Five nonces a wallet, within its cap of 8.
    await Promise.all(nonces.map(([wallet, nonce], i) => local.issueNonce(wallet, nonce, { i }, HOUR)));
    const calls = nonces.flatMap(([wallet, nonce]) =>
      Array.from({ length: 10 }, () => ['consumeNonce', wallet, nonce]),
    );
    const [here, there, elsewhere] = await Promise.all([
      Promise.all(calls.map(([, wallet, nonce]) => local.consumeNonce(wallet!, nonce!))),
      b.run(calls),
      c.run(calls),
    ]);
    const wins = nonces.map((_, i) => {
      const won = (results: unknown[]) =>
        results.filter((r, j) => Math.floor(j / 10) === i && r !== undefined && r !== null).length;
      const remote = (results: Result[]) => won(results.map((r) => r.value));
      return won(here) + remote(there) + remote(elsewhere);
    });
    expect(wins).toEqual(nonces.map(() => 1));
    for (const results of [there, elsewhere]) expect(results.filter((r) => r.error)).toEqual([]);
  });

  test("a stranger's wrong guesses in another process leave it pending", async () => {
    await local.issueNonce('ethereum:0xvictim', 'secret-nonce', { ok: true }, HOUR);
    const guesses = ['secret-nonc', 'SECRET-NONCE', 'secret-nonce ', 'x'].map((n) => [
      'consumeNonce',
      'ethereum:0xvictim',
      n,
    ]);
    expect(await b.run(guesses)).toEqual(guesses.map(() => ({})));
    expect(await c.run([['consumeNonce', 'ethereum:0xvictim', 'secret-nonce']])).toEqual([{ value: { ok: true } }]);
  });
});

describe('sessions and counters across processes', () => {
  test('a session ended in one process is ended in all, and no process can create it again', async () => {
    const expiresAt = Date.now() + HOUR;
    expect(await local.createSession('sid-1', { wallet: 'w' }, expiresAt)).toBe(true);
    await b.run([['endSession', 'sid-1', expiresAt]]);
    const [created] = await c.run([['createSession', 'sid-1', { wallet: 'w' }, expiresAt]]);
    expect(created).toEqual({ value: false });
    expect(await local.createSession('sid-1', { wallet: 'w' }, expiresAt)).toBe(false);
    expect(await local.getSession('sid-1')).toMatchObject({ record: { wallet: 'w' }, endedAt: expect.any(Number) });
  });

  test("a rate counter counts every process's hits once", async () => {
    const calls = Array.from({ length: 15 }, () => ['hit', 'ip:203.0.113.7', HOUR]);
    const [there, elsewhere, here] = await Promise.all([
      b.run(calls),
      c.run(calls),
      Promise.all(calls.map(() => local.hit('ip:203.0.113.7', HOUR))),
    ]);
    const counts = [...there, ...elsewhere].map((r) => (r.value as { count: number }).count);
    counts.push(...here.map((r) => r.count));
    expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
  });
});
