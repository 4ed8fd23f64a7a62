'use strict';
// Micro-benchmark of requireTokens' hot path with and without live ownership (`revalidate`).
// It calls the middleware directly with minimal request objects, in process, on one token that the
// verified-token cache already knows, so what is left is the ownership decision itself:
//   plain      a gate with no revalidate option at all (the code path every existing route takes)
//   opted-out  a revalidating gate's route with { revalidate: false } (the snapshot decides)
//   live       a revalidating route whose answer is cached (one LRU lookup per request)
// Rounds are interleaved so that JIT and GC drift hit every variant alike; the median is reported.
//   npm run bench:revalidate          BENCH_CALLS=500000 BENCH_ROUNDS=7 npm run bench:revalidate
const { createTokenGate } = require('express-token-gate');
const { createTestIssuer } = require('express-token-gate/testing');

const CALLS = Number(process.env.BENCH_CALLS ?? 300_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const NFT = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
const res = {};

/** Runs `middleware` `CALLS` times; every call must pass synchronously (cache hits only). */
function round(middleware, req) {
  let passed = 0;
  const next = (err) => {
    if (err) throw err;
    passed += 1;
  };
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) middleware(req, res, next);
  const ns = Number(process.hrtime.bigint() - start);
  if (passed !== CALLS) throw new Error(`only ${passed} of ${CALLS} calls passed synchronously`);
  return (CALLS / ns) * 1e9;
}

/** One call that may wait (the first verification, the first resolver answer). */
function warm(middleware, req) {
  return new Promise((resolve, reject) => middleware(req, res, (err) => (err ? reject(err) : resolve())));
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];

async function main() {
  const issuer = await createTestIssuer({ audience: 'bench' });
  try {
    const token = await issuer.sign({ tokenBalances: { contractAddress: { [NFT]: '1' } } });
    const value = `Bearer ${token}`;
    const resolver = { resolve: async () => ({ balance: '1' }) };
    const plainGate = createTokenGate(issuer.options);
    const liveGate = createTokenGate({ ...issuer.options, revalidate: { resolver, maxAgeMs: 3_600_000 } });
    const variants = {
      plain: plainGate.requireTokens({ contractAddress: NFT }),
      'opted-out': liveGate.requireTokens({ contractAddress: NFT }, { revalidate: false }),
      live: liveGate.requireTokens({ contractAddress: NFT }),
    };
    // Each variant gets its own request object, as each request would.
    const request = () => ({ headers: { authorization: value }, rawHeaders: ['Authorization', value] });
    const results = {};
    for (const [name, middleware] of Object.entries(variants)) {
      await warm(middleware, request());
      results[name] = [];
    }
    for (let r = 0; r < ROUNDS; r += 1) {
      for (const [name, middleware] of Object.entries(variants)) results[name].push(round(middleware, request()));
    }
    const plain = median(results.plain);
    console.log(`requireTokens hot path, ${CALLS} calls x ${ROUNDS} rounds (median), node ${process.version}`);
    for (const name of Object.keys(variants)) {
      const ops = median(results[name]);
      console.log(
        `  ${name.padEnd(10)} ${Math.round(ops).toLocaleString('en-US').padStart(11)} calls/s  ${(ops / plain).toFixed(2)} x plain`,
      );
    }
  } finally {
    await issuer.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
