'use strict';
// Memory scenario: 200,000 distinct valid tokens, then 1,000,000 distinct invalid ones (random
// junk and well-formed tokens naming unknown kids, half each), through this library's middleware.
// It calls `gate.requireAuth()` directly with minimal request objects instead of going through
// HTTP: over HTTP the 1.2 million requests would take longer than the whole benchmark may.
// Tokens are minted in batches and dropped after use, so the only thing that can keep memory is
// the library (its verified-token cache, key set and anything it leaks).
const fs = require('node:fs');
const { createTokenGate } = require('..');
const tokens = require('./lib/tokens');

const scale = Number(process.env.BENCH_MEMORY_SCALE ?? 1);
const VALID = Math.round(200_000 * scale);
const GARBAGE = Math.round(1_000_000 * scale);
const BATCH = 1000;
const CONCURRENCY = 64;

const key = tokens.importKey(process.env.BENCH_KEY);
const gate = createTokenGate({
  audience: process.env.BENCH_AUDIENCE,
  issuer: process.env.BENCH_ISSUER,
  jwksUri: process.env.BENCH_JWKS_URI,
});
const middleware = gate.requireAuth();
const res = {};

function call(token) {
  const value = `Bearer ${token}`;
  const req = { headers: { authorization: value }, rawHeaders: ['Authorization', value] };
  return new Promise((resolve) => middleware(req, res, resolve));
}

async function drive(list) {
  let ok = 0;
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const err = await call(list[next++]);
      if (err === undefined) ok += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return ok;
}

const mb = (bytes) => bytes / 2 ** 20;
const rssMb = () => mb(process.memoryUsage.rss());
function peakMb() {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
}

async function main() {
  process.send({ type: 'ready' });
  const began = Date.now();
  // The start: the library loaded, its key set fetched, one token verified, garbage collected.
  if ((await call(tokens.sign(key))) !== undefined) throw new Error('the first valid token was rejected');
  global.gc();
  const startMb = rssMb();
  const heapStartMb = mb(process.memoryUsage().heapUsed);
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* the peak then covers the whole process */
  }

  let validOk = 0;
  for (let done = 0; done < VALID; done += BATCH) validOk += await drive(tokens.validTokens(key, Math.min(BATCH, VALID - done)));
  const afterValidMb = rssMb();

  let accepted = 0;
  for (let done = 0; done < GARBAGE; done += BATCH) {
    const n = Math.min(BATCH, GARBAGE - done);
    const list = new Array(n);
    for (let i = 0; i < n; i++) list[i] = i % 2 === 0 ? tokens.garbage() : tokens.unknownKid();
    accepted += await drive(list);
  }
  const endMb = rssMb();
  const heapEndMb = mb(process.memoryUsage().heapUsed);
  const peak = peakMb();
  global.gc();
  const endAfterGcMb = rssMb();
  process.send({
    type: 'result',
    result: {
      valid: VALID,
      validOk,
      garbage: GARBAGE,
      garbageRejected: GARBAGE - accepted,
      startMb,
      afterValidMb,
      endMb,
      endAfterGcMb,
      peakMb: peak,
      heapStartMb,
      heapEndMb,
      growthMb: endMb - startMb,
      growthAfterGcMb: endAfterGcMb - startMb,
      peakGrowthMb: peak - startMb,
      seconds: (Date.now() - began) / 1000,
    },
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
