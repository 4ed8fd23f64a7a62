'use strict';
// Memory scenario: 200,000 distinct valid tokens, then 1,000,000 distinct invalid ones (random
// junk and well-formed tokens naming unknown kids, half each), through this library's middleware.
// It calls `gate.requireAuth()` directly with minimal request objects instead of going through
// HTTP: over HTTP the 1.2 million requests would take longer than the whole benchmark may.
// Tokens are minted in batches and dropped after use, so only the library (its verified-token
// cache, its key set and anything it leaked) can keep memory.
//
// Two starting points are reported. The cold start is the process right after the first token.
// The warmed start follows a warm-up through a second gate with `cache: false` on the same key
// set (so the measured gate's cache is still empty): by then the JIT has compiled the hot code and
// V8 and the allocator have grown to the working size of this load, which they keep afterwards.
const fs = require('node:fs');
const { createTokenGate } = require('..');
const tokens = require('./lib/tokens');
const { call, drive } = require('./lib/drive');

const scale = Number(process.env.BENCH_MEMORY_SCALE ?? 1);
const VALID = Math.round(200_000 * scale);
const GARBAGE = Math.round(1_000_000 * scale);
const WARMUP_VALID = Math.round(20_000 * scale);
const WARMUP_GARBAGE = Math.round(100_000 * scale);
const BATCH = 1000;

const key = tokens.importKey(process.env.BENCH_KEY);
const options = {
  audience: process.env.BENCH_AUDIENCE,
  issuer: process.env.BENCH_ISSUER,
  jwksUri: process.env.BENCH_JWKS_URI,
};
const measured = createTokenGate(options).requireAuth();
const warmup = createTokenGate({ ...options, cache: false }).requireAuth();
async function validPhase(middleware, count) {
  let ok = 0;
  for (let done = 0; done < count; done += BATCH)
    ok += await drive(middleware, tokens.validTokens(key, Math.min(BATCH, count - done)));
  return ok;
}

async function garbagePhase(middleware, count) {
  let accepted = 0;
  for (let done = 0; done < count; done += BATCH) {
    const n = Math.min(BATCH, count - done);
    const list = new Array(n);
    for (let i = 0; i < n; i++) list[i] = i % 2 === 0 ? tokens.garbage() : tokens.unknownKid();
    accepted += await drive(middleware, list);
  }
  return accepted;
}

const mb = (bytes) => bytes / 2 ** 20;
const rssMb = () => mb(process.memoryUsage.rss());
const heapMb = () => mb(process.memoryUsage().heapUsed);
function peakMb() {
  return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
}

async function main() {
  process.send({ type: 'ready' });
  const began = Date.now();
  if ((await call(measured, tokens.sign(key))) !== undefined) throw new Error('the first valid token was rejected');
  global.gc();
  const coldStartMb = rssMb();

  await validPhase(warmup, WARMUP_VALID);
  await garbagePhase(warmup, WARMUP_GARBAGE);
  global.gc();
  const startMb = rssMb();
  const heapStartMb = heapMb();
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* the peak then covers the whole process */
  }

  const validOk = await validPhase(measured, VALID);
  const afterValidMb = rssMb();
  const accepted = await garbagePhase(measured, GARBAGE);
  const endMb = rssMb();
  const heapEndMb = heapMb();
  const peak = peakMb();
  global.gc();
  const endAfterGcMb = rssMb();
  const heapAfterGcMb = heapMb();
  process.send({
    type: 'result',
    result: {
      valid: VALID,
      validOk,
      garbage: GARBAGE,
      garbageRejected: GARBAGE - accepted,
      coldStartMb,
      startMb,
      afterValidMb,
      endMb,
      endAfterGcMb,
      peakMb: peak,
      heapStartMb,
      heapEndMb,
      heapAfterGcMb,
      growthMb: endMb - startMb,
      growthAfterGcMb: endAfterGcMb - startMb,
      growthFromColdMb: endMb - coldStartMb,
      peakGrowthMb: peak - startMb,
      seconds: (Date.now() - began) / 1000,
    },
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
