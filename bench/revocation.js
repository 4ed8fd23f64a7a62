#!/usr/bin/env node
'use strict';
// Revocation benchmark, on a real redis-server started here (free loopback port, no persistence):
//
// 1. Hot path: the cost of one `isRevoked(claims)` call, as the gate makes it on every request,
//    with the memory store, with the Redis store when the answer is cached locally (a token seen
//    within `cacheMs`), and with the Redis store when it must ask Redis (one EXISTS, `cacheMs: 0`),
//    one call at a time (latency) and 64 at a time (throughput of one instance).
// 2. Capacity: how many EXISTS per second one Redis answers with N instances, each one connection
//    (redis-benchmark, N clients, random keys under the store's prefix), for N = 1, 4, 16: one
//    command per round trip (a quiet instance) and 16 pipelined (a busy one: node-redis writes the
//    commands of concurrent requests together).
//
//   npm run build && node bench/revocation.js        (about 1 minute)
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { createRevocationList, createTokenGate } = require('..');
const { redisRevocationStore } = require('../dist/cjs/redis');
const { createTestIssuer } = require('../dist/cjs/testing');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-gate-bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    try {
      if (
        execFileSync('redis-cli', ['-p', String(port), 'PING'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim() === 'PONG'
      )
        break;
    } catch {
      // not up yet
    }
    await sleep(50);
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop() {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** ns per call of `fn` (sync or async) over about `ms` milliseconds, after a warm-up. */
async function timePerCall(fn, ms = 1000) {
  const run = async (budgetMs) => {
    let calls = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(budgetMs) * 1_000_000n;
    while (process.hrtime.bigint() < end) {
      for (let i = 0; i < 1000; i++) {
        const answer = fn();
        if (answer instanceof Promise) await answer;
      }
      calls += 1000;
    }
    return Number(process.hrtime.bigint() - start) / calls;
  };
  await run(200);
  return run(ms);
}

/** Calls per second of an async `fn` with `concurrency` calls in flight, over `ms`. */
async function throughput(fn, concurrency, ms = 2000) {
  let calls = 0;
  const end = Date.now() + ms;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await fn();
        calls++;
      }
    }),
  );
  return calls / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main() {
  const redis = await startRedis();
  const issuer = await createTestIssuer({ audience: 'bench' });
  const lists = [];
  try {
    const claims = await createTokenGate(issuer.options).verify(await issuer.sign());
    const rows = [];

    const memory = createRevocationList();
    lists.push(memory);
    rows.push(['memory store', `${(await timePerCall(() => memory.isRevoked(claims))).toFixed(0)} ns`]);

    const cachedStore = redisRevocationStore({ url: redis.url });
    await cachedStore.ready;
    const cached = createRevocationList({ store: cachedStore });
    lists.push(cached);
    await cached.isRevoked(claims);
    // Within one cacheMs (1 s) the answer comes from this instance's memory.
    rows.push([
      'Redis store, answer cached (token seen within 1 s)',
      `${(await timePerCall(() => cached.isRevoked(claims), 600)).toFixed(0)} ns`,
    ]);

    const askingStore = redisRevocationStore({ url: redis.url, cacheMs: 0 });
    await askingStore.ready;
    const asking = createRevocationList({ store: askingStore });
    lists.push(asking);
    rows.push([
      'Redis store, asking Redis (cacheMs 0), one at a time',
      `${((await timePerCall(() => asking.isRevoked(claims), 1000)) / 1000).toFixed(1)} µs`,
    ]);
    // Distinct tokens, so that concurrent checks are not merged into one command.
    const many = await Promise.all(
      Array.from({ length: 64 }, async () => createTokenGate(issuer.options).verify(await issuer.sign())),
    );
    let next = 0;
    const rate = await throughput(() => asking.isRevoked(many[next++ % many.length]), 64);
    rows.push([
      'Redis store, asking Redis, 64 in flight (one instance)',
      `${Math.round(rate).toLocaleString('en-US')} checks/s`,
    ]);

    console.log('## isRevoked hot path\n');
    console.log('| store | cost per call |\n|---|---|');
    for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);

    console.log('\n## One Redis, N instances (redis-benchmark EXISTS on random keys, one connection per instance)\n');
    console.log('| instances | EXISTS/s, one at a time | EXISTS/s, 16 pipelined |\n|---|---|---|');
    const existsPerSecond = (n, pipeline) => {
      const out = execFileSync(
        'redis-benchmark',
        [
          '-p',
          String(redis.port),
          '-c',
          String(n),
          '-P',
          String(pipeline),
          '-n',
          String(200_000 * pipeline ** 0.5),
          '-r',
          '1000000',
          '-q',
          'EXISTS',
          'token-gate:revoked:tid:__rand_int__',
        ],
        { encoding: 'utf8' },
      );
      const found = /([\d.]+) requests per second/.exec(out);
      return found ? Math.round(Number(found[1])).toLocaleString('en-US') : out.trim();
    };
    for (const n of [1, 4, 16]) console.log(`| ${n} | ${existsPerSecond(n, 1)} | ${existsPerSecond(n, 16)} |`);
    console.log(
      `\nNode ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}), load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, ` +
        execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').slice(0, 3).join(' '),
    );
  } finally {
    await Promise.all(lists.map((list) => list.close()));
    await issuer.close();
    redis.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
