#!/usr/bin/env node
'use strict';
// In-process micro-benchmark of this library's middleware (from dist/, so run `npm run build`
// first): CPU per request for hot, cold and hostile tokens, without HTTP, against the floor (the
// bare ES256 check), plus where each µs of a cold token goes. Seconds, not minutes: for iterating
// on the verification path. Whole-process CPU (all threads, so work off the event loop counts).
//
//   node bench/micro.js [floor|hot|cold|hostile|kinds|issuers|jose|budget|cache-cost|steps|ecdsa ...]
//   default: floor, hot, cold, hostile, kinds, issuers, jose, steps, ecdsa
//   MICRO_N (requests per measurement, default 20000), MICRO_ROUNDS (default 3), MICRO_CACHE=0,
//   MICRO_PACKAGE (the package directory to measure, default this one: e.g. an older build's copy)
const crypto = require('node:crypto');
const http = require('node:http');
const tokens = require('./lib/tokens');
const { CONCURRENCY, call, drive } = require('./lib/drive');
const path = require('node:path');

const PACKAGE = path.resolve(__dirname, process.env.MICRO_PACKAGE ?? '..');
const { createTokenGate } = require(PACKAGE);
/** A module of the measured build's dist/cjs (internals, for the steps and the budget). */
const internal = (name) => require(path.join(PACKAGE, 'dist/cjs', name));

const N = Number(process.env.MICRO_N ?? 20000);
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 3);
const key = tokens.makeKey();
/** The keys of the other issuers of the `issuers` scenario, each served at its own path. */
const otherKeys = [tokens.makeKey(), tokens.makeKey()];

function jwksServer() {
  const bodies = new Map(otherKeys.map((k, i) => [`/issuer-${i + 1}.json`, JSON.stringify({ keys: [k.jwk] })]));
  const body = JSON.stringify({ keys: [key.jwk] });
  const server = http.createServer((req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' })
      .end(bodies.get(req.url) ?? body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * A full garbage collection, run after a list of tokens is minted and before it is measured, so
 * the minting's garbage is not collected on the measured code's time.
 */
const collect = (() => {
  require('node:v8').setFlagsFromString('--expose-gc');
  return require('node:vm').runInNewContext('gc');
})();

const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function measure(name, middleware, make) {
  const results = [];
  for (let round = 0; round < ROUNDS; round++) {
    const list = make();
    collect();
    const c0 = cpu();
    const t0 = performance.now();
    const ok = await drive(middleware, list);
    const wall = ((performance.now() - t0) * 1000) / list.length;
    results.push({ cpu: (cpu() - c0) / list.length, wall, ok });
  }
  const best = results.reduce((a, b) => (b.cpu < a.cpu ? b : a));
  console.log(
    `${name.padEnd(10)} cpu ${best.cpu.toFixed(1).padStart(6)} µs/req  wall ${best.wall.toFixed(1).padStart(6)} µs/req  accepted ${best.ok}/${N}  (cpu per round: ${results.map((r) => r.cpu.toFixed(1)).join(', ')})`,
  );
}

function deepFreeze(value) {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function steps() {
  const { precheckJws, decodePayload } = internal('token/precheck');
  const { normaliseClaims } = internal('token/claims');
  const list = tokens.validTokens(key, N);
  const time = (name, fn) => {
    // The least of several runs: on a shared machine, noise only ever adds time.
    let best = Infinity;
    for (let r = 0; r < 7; r++) {
      const c0 = cpu();
      for (let i = 0; i < list.length; i++) fn(list[i]);
      best = Math.min(best, (cpu() - c0) / list.length);
    }
    console.log(`  ${name.padEnd(34)} ${best.toFixed(2).padStart(6)} µs/token`);
  };
  const opts = { algorithms: ['ES256'], typ: undefined };
  time('precheckJws', (t) => precheckJws(t, opts));
  time('precheckJws + decodePayload', (t) => decodePayload(precheckJws(t, opts)));
  time('… + normaliseClaims', (t) => normaliseClaims(decodePayload(precheckJws(t, opts))));
  time('… + freezing (as the verifier does)', (t) => deepFreeze(normaliseClaims(decodePayload(precheckJws(t, opts)))));
  time('JSON.parse(payload) alone', (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()));
  const { VerifiedTokenCache } = internal('token/cache');
  const claims = list.map((t) => normaliseClaims(decodePayload(precheckJws(t, opts))));
  const cache = new VerifiedTokenCache(10000, Date.now);
  const until = Date.now() + 3600e3;
  const cacheKey = {};
  let i = 0;
  time('cache.set (full cache, evicting)', (t) => cache.set(t, claims[i++ % claims.length], cacheKey, until));
}

/** CPU time of the event-loop thread alone, in µs (from /proc: 10 ms resolution). */
function mainThreadCpu() {
  const fields = require('node:fs')
    .readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e4;
}

/** Runs `fn` over `list`, CONCURRENCY calls in flight, as `drive` does for middleware. */
async function inFlight(fn, list) {
  let next = 0;
  const worker = async () => {
    while (next < list.length) await fn(list[next++]);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** The floor: `crypto.verify` with a callback (the libuv pool) on prepared signing input and signature. */
function floorForm(keyObject) {
  const check = ({ data, sig }) =>
    new Promise((resolve) =>
      crypto.verify('sha256', data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, sig, (e, ok) => resolve(ok)),
    );
  return {
    make: () =>
      tokens.validTokens(key, N).map((t) => {
        const dot = t.lastIndexOf('.');
        return { data: Buffer.from(t.slice(0, dot)), sig: Buffer.from(t.slice(dot + 1), 'base64url') };
      }),
    run: (list) => inFlight(check, list),
  };
}

/**
 * Forms measured side by side: in every round each form once, on a fresh list, in turn, so that
 * load on a shared machine hits all alike. The first round warms up and is not counted. Returns
 * per form the CPU (whole process) and event-loop CPU per item of each counted round.
 */
async function sideBySide(forms, rounds = ROUNDS) {
  const out = Object.fromEntries(Object.keys(forms).map((name) => [name, []]));
  for (let round = 0; round <= rounds; round++) {
    for (const [name, form] of Object.entries(forms)) {
      const list = form.make();
      collect();
      const c0 = cpu();
      const m0 = mainThreadCpu();
      await form.run(list);
      if (round > 0) out[name].push({ cpu: (cpu() - c0) / list.length, main: (mainThreadCpu() - m0) / list.length });
    }
  }
  return out;
}

const sorted = (values) => values.slice().sort((a, b) => a - b);
const median = (values) => sorted(values)[values.length >> 1];
const fixed = (value, width = 6) => value.toFixed(1).padStart(width);

/**
 * The goals of the cold and hostile paths, side by side with the floor: a new valid token and a
 * bad signature on a published kid against the bare check (ratios are medians of the per-round
 * ratios), an unknown kid and junk in µs.
 */
async function floor(gate, keyObject) {
  const middleware = (make) => ({ make, run: (list) => drive(gate, list) });
  const results = await sideBySide({
    floor: floorForm(keyObject),
    cold: middleware(() => tokens.validTokens(key, N)),
    'bad sig': middleware(() => Array.from({ length: N }, () => tokens.badSignature(key.kid))),
    'unknown kid': middleware(() => Array.from({ length: N }, () => tokens.unknownKid())),
    junk: middleware(() => Array.from({ length: N }, () => tokens.garbage())),
  });
  const goals = { cold: 1.15, 'bad sig': 1.1, 'unknown kid': 5, junk: 5 };
  for (const [name, rounds] of Object.entries(results)) {
    const cpus = rounds.map((r) => r.cpu);
    let line = `${name.padEnd(11)} cpu ${fixed(sorted(cpus)[0])} µs/token (median ${fixed(median(cpus))}), event loop ${fixed(median(rounds.map((r) => r.main)))}`;
    if (name === 'floor') line += '   the bare crypto.verify callback, same key and tokens, 32 in flight';
    else if (name === 'cold' || name === 'bad sig') {
      const ratios = rounds.map((r, i) => r.cpu / results.floor[i].cpu);
      line += `   × floor ${median(ratios).toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}; goal ≤ ${goals[name]})`;
    } else line += `   (goal ≤ ${goals[name]} µs)`;
    console.log(line);
  }
}

/**
 * Where each µs of a cold token goes, measured where it is spent: a ladder of forms, each adding
 * one step of the verification to the one before, all side by side at 32 in flight on fresh
 * valid tokens. A step's cost is its form's median CPU less the previous form's; "event loop" is
 * the part on the event-loop thread. The steps use the measured build's own modules.
 */
async function budget(options, keyObject) {
  const { precheckJws, decodePayload } = internal('token/precheck');
  const { verifySignature } = internal('token/signature');
  const { normaliseClaims } = internal('token/claims');
  // Builds before this one kept the token on the claims with bindSource; now markVerified takes it.
  const { bindSource = (claims) => claims, markVerified } = internal('token/identity');
  const { importJWK } = await import('jose');
  const cryptoKey = await importJWK(key.jwk, 'ES256');
  const pre = { algorithms: ['ES256'], typ: undefined };
  const fresh = () => tokens.validTokens(key, N);
  const form = (fn) => ({ make: fresh, run: (list) => inFlight(fn, list) });
  const segmentsOf = (t) => {
    const [protectedHeader, payload, signature] = t.split('.');
    return { protected: protectedHeader, payload, signature };
  };
  const uncached = createTokenGate({ ...options, cache: false });
  const cached = createTokenGate(options);
  const middleware = cached.requireAuth();
  await uncached.verify(tokens.sign(key));
  await cached.verify(tokens.sign(key));
  const ladder = {
    'the bare check (floor)': floorForm(keyObject),
    "the library's ES256 check (verifySignature)": form((t) =>
      verifySignature(segmentsOf(t), cryptoKey, ['ES256'], 'ES256'),
    ),
    '+ pre-checks (size, segments, header)': form((t) =>
      verifySignature(precheckJws(t, pre).segments, cryptoKey, ['ES256'], 'ES256'),
    ),
    '+ payload (base64url, strict JSON)': form((t) => {
      const jws = precheckJws(t, pre);
      decodePayload(jws);
      return verifySignature(jws.segments, cryptoKey, ['ES256'], 'ES256');
    }),
    '+ claims, freezing, verified mark': form((t) => {
      const jws = precheckJws(t, pre);
      const payload = decodePayload(jws);
      return verifySignature(jws.segments, cryptoKey, ['ES256'], 'ES256').then(() =>
        markVerified(deepFreeze(bindSource(normaliseClaims(payload), t)), t),
      );
    }),
    'gate.verify, cache off (+ key lookup, iss/aud/time, Promises)': form((t) => uncached.verify(t)),
    'gate.verify (+ cache insert)': form((t) => cached.verify(t)),
    'requireAuth (+ header, wallet, next)': { make: fresh, run: (list) => drive(middleware, list) },
  };
  const results = await sideBySide(ladder);
  let previous;
  console.log(`${'step (cumulative)'.padEnd(64)} cpu µs/token   step   event loop   step`);
  for (const [name, rounds] of Object.entries(results)) {
    const c = median(rounds.map((r) => r.cpu));
    const m = median(rounds.map((r) => r.main));
    const step = previous === undefined ? '' : fixed(c - previous.c);
    const mainStep = previous === undefined ? '' : fixed(m - previous.m);
    console.log(`${name.padEnd(64)} ${fixed(c, 8)}   ${step.padStart(6)}   ${fixed(m, 8)}   ${mainStep.padStart(6)}`);
    previous = { c, m };
  }
}

/**
 * The ES256 check alone, 32 at a time as under load: jose's flattenedVerify, the WebCrypto call it
 * makes, and node:crypto's verify on a KeyObject on this thread and on the thread pool. CPU is
 * the whole process's; "main" is the event-loop thread's alone (from /proc, 10 ms resolution).
 */
async function ecdsa() {
  const fs = require('node:fs');
  const crypto = require('node:crypto');
  const { flattenedVerify, importJWK } = await import('jose');
  const cryptoKey = await importJWK(key.jwk, 'ES256');
  const keyObject = crypto.KeyObject.from(cryptoKey);
  const mainThread = () => {
    const f = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 1e4;
  };
  const list = tokens.validTokens(key, N).map((t) => {
    const [protectedHeader, payload, signature] = t.split('.');
    return {
      protected: protectedHeader,
      payload,
      signature,
      data: Buffer.from(`${protectedHeader}.${payload}`),
      sig: Buffer.from(signature, 'base64url'),
    };
  });
  const forms = {
    'jose flattenedVerify': (t) => flattenedVerify(t, cryptoKey, { algorithms: ['ES256'] }),
    'WebCrypto verify': (t) => crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, cryptoKey, t.sig, t.data),
    'crypto.verify, this thread': (t) =>
      crypto.verify('sha256', t.data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, t.sig),
    'crypto.verify, thread pool': (t) =>
      new Promise((resolve) =>
        crypto.verify('sha256', t.data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, t.sig, (e, ok) => resolve(ok)),
      ),
  };
  for (const [name, fn] of Object.entries(forms)) {
    let best;
    for (let round = 0; round < ROUNDS + 1; round++) {
      let i = 0;
      const c0 = cpu();
      const m0 = mainThread();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (i < list.length) await fn(list[i++]);
        }),
      );
      const r = {
        cpu: (cpu() - c0) / list.length,
        main: (mainThread() - m0) / list.length,
        wall: ((performance.now() - t0) * 1000) / list.length,
      };
      if (round > 0 && (!best || r.cpu < best.cpu)) best = r;
    }
    console.log(
      `  ${name.padEnd(28)} cpu ${best.cpu.toFixed(1).padStart(5)} µs  main thread ${best.main.toFixed(1).padStart(5)} µs  wall ${best.wall.toFixed(1).padStart(5)} µs per check`,
    );
  }
}

/**
 * Junk before the issuer is chosen: one gate with a single issuer and one with three (each its own
 * key set, all loaded), alternating round by round so that load on a shared machine hits both
 * alike. Prints each gate's CPU per request, the reason it answered and the ratio three : one.
 * The key sets stay within their refetch cooldown (an hour here, so the state holds for the whole
 * run), the state in which a set can tell that a kid is absent: with the default 30 s, that is
 * the 30 s after each fetch, and afterwards an unknown kid is read up to its `iss` (what 'no kid'
 * costs) until the named issuer's set refetches.
 */
async function issuers(options) {
  const jwks = { cooldownMs: 3_600_000 };
  const three = createTokenGate({
    jwks,
    issuers: [
      { issuer: options.issuer, audience: options.audience, jwksUri: options.jwksUri },
      ...otherKeys.map((_, i) => ({
        issuer: `issuer-${i + 1}.example`,
        audience: options.audience,
        jwksUri: options.jwksUri.replace('/jwks.json', `/issuer-${i + 1}.json`),
      })),
    ],
    ...(options.cache === false ? { cache: false } : {}),
  });
  const gates = { one: createTokenGate({ ...options, jwks }).requireAuth(), three: three.requireAuth() };
  // Every key set loaded, as in steady state: only then can a key set tell that a kid is unknown.
  for (const gate of Object.values(gates)) await drive(gate, tokens.validTokens(key, 200));
  for (const [i, other] of otherKeys.entries()) {
    const token = tokens.sign(other, { ...tokens.claims(), iss: `issuer-${i + 1}.example` });
    if ((await call(gates.three, token)) !== undefined) throw new Error('a valid token was rejected');
  }
  const count = Math.min(N, 5000);
  const kinds = {
    'unknown kid': () => Array.from({ length: count }, () => tokens.unknownKid()),
    'unknown kid, 7 KB': () => Array.from({ length: count }, () => tokens.largeJunk(crypto.randomUUID())),
    'no kid, 7 KB': () => Array.from({ length: count }, () => tokens.largeJunk(undefined)),
  };
  for (const [kind, make] of Object.entries(kinds)) {
    const cpuOf = { one: [], three: [] };
    const reasonOf = {};
    for (let round = 0; round < ROUNDS * 2 + 1; round++) {
      for (const [name, gate] of Object.entries(gates)) {
        const list = make();
        reasonOf[name] = (await call(gate, list[0]))?.reason;
        const c0 = cpu();
        const ok = await drive(gate, list);
        if (ok !== 0) throw new Error(`${name}: ${ok} junk tokens accepted`);
        // The first round warms the JIT for this kind.
        if (round > 0) cpuOf[name].push((cpu() - c0) / list.length);
      }
    }
    const best = (name) => Math.min(...cpuOf[name]);
    const median = (name) => cpuOf[name].slice().sort((a, b) => a - b)[cpuOf[name].length >> 1];
    const line = (name) =>
      `${name} ${best(name).toFixed(1).padStart(6)} µs (median ${median(name).toFixed(1).padStart(6)}, ${reasonOf[name]})`;
    console.log(
      `${kind.padEnd(18)} ${line('one')}  ${line('three')}  three : one ${(best('three') / best('one')).toFixed(2)}`,
    );
  }
}

async function main() {
  const which = process.argv.slice(2);
  const want = (name) => which.length === 0 || which.includes(name);
  const server = await jwksServer();
  const options = {
    audience: tokens.AUDIENCE,
    issuer: tokens.ISSUER,
    jwksUri: `http://127.0.0.1:${server.address().port}/jwks.json`,
    ...(process.env.MICRO_CACHE === '0' ? { cache: false } : {}),
  };
  const gate = createTokenGate(options).requireAuth();
  if ((await call(gate, tokens.sign(key))) !== undefined) throw new Error('a valid token was rejected');
  // Warm-up: JIT and key set.
  await drive(gate, tokens.validTokens(key, 2000));
  await drive(gate, tokens.hostileTokens(key.kid, 3000));
  const keyObject = crypto.createPublicKey({ key: key.jwk, format: 'jwk' });
  if (want('floor')) await floor(gate, keyObject);
  const hot = tokens.validTokens(key, 64);
  if (want('hot')) await measure('hot', gate, () => Array.from({ length: N }, (_, i) => hot[i % hot.length]));
  if (want('cold')) await measure('cold', gate, () => tokens.validTokens(key, N));
  if (want('hostile')) await measure('hostile', gate, () => tokens.hostileTokens(key.kid, N));
  if (want('kinds')) {
    await measure('bad sig', gate, () => Array.from({ length: N }, () => tokens.badSignature(key.kid)));
    await measure('unknown kid', gate, () => Array.from({ length: N }, () => tokens.unknownKid()));
    await measure('junk', gate, () => Array.from({ length: N }, () => tokens.garbage()));
  }
  if (want('issuers')) await issuers(options);
  if (want('jose')) {
    // The best peer, in-process: jose's createRemoteJWKSet + jwtVerify, as in bench/targets/jose.js.
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const keys = createRemoteJWKSet(new URL(options.jwksUri));
    const verifyOptions = { issuer: options.issuer, audience: options.audience, algorithms: ['ES256'] };
    const jose = (req, _res, next) => {
      const match = /^Bearer ([^ ]+)$/i.exec(req.headers.authorization ?? '');
      if (!match) return next(new Error('no token'));
      jwtVerify(match[1], keys, verifyOptions).then(
        ({ payload }) => {
          req.auth = payload;
          next();
        },
        (e) => next(e),
      );
    };
    await drive(jose, tokens.validTokens(key, 2000));
    await measure('jose cold', jose, () => tokens.validTokens(key, N));
    await measure('jose hostile', jose, () => tokens.hostileTokens(key.kid, N));
    if (which.includes('jose')) {
      await measure('jose badsig', jose, () => Array.from({ length: N }, () => tokens.badSignature(key.kid)));
      await measure('jose unk kid', jose, () => Array.from({ length: N }, () => tokens.unknownKid()));
      await measure('jose junk', jose, () => Array.from({ length: N }, () => tokens.garbage()));
    }
  }
  if (which.includes('cache-cost')) {
    // Cold traffic through a gate with the default cache and one without, alternating, so that
    // load changes on a shared machine hit both alike.
    const uncached = createTokenGate({ ...options, cache: false }).requireAuth();
    await drive(uncached, tokens.validTokens(key, 2000));
    const cpuOf = { cached: [], uncached: [] };
    for (let round = 0; round < ROUNDS * 3; round++) {
      for (const [name, middleware] of [
        ['cached', gate],
        ['uncached', uncached],
      ]) {
        const list = tokens.validTokens(key, N);
        const c0 = cpu();
        await drive(middleware, list);
        cpuOf[name].push((cpu() - c0) / list.length);
      }
    }
    for (const [name, values] of Object.entries(cpuOf)) {
      const sorted = values.slice().sort((a, b) => a - b);
      console.log(
        `cold ${name.padEnd(9)} cpu min ${sorted[0].toFixed(1)}  median ${sorted[sorted.length >> 1].toFixed(1)} µs/req`,
      );
    }
  }
  if (which.includes('budget')) await budget(options, keyObject);
  if (want('steps')) steps();
  if (want('ecdsa')) await ecdsa();
  server.close();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
