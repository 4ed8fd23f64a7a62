/**
 * A revalidating gate bounds its resolver calls across wallets: single flight and back-off are per
 * (wallet, requirement), so without a gate-wide bound 2,000 fresh wallets made 2,000 concurrent
 * calls, and 500 fresh wallets still made 500 calls to a resolver answering 429.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, OptionsError, type OwnershipResolver } from '../../lib';
import { compileRequirements } from '../../lib/ownership/requirements';
import { parseRevalidateOptions, Revalidator } from '../../lib/ownership/revalidate';
import { FAILURES_TO_OPEN } from '../../lib/ownership/admission';
import { UnsupportedRequirementError } from '../../lib/ownership/resolvers/types';
import type { AccessTokenClaims } from '../../lib/token/claims';
import { APES_CONTRACT } from '../helpers/fixtures';
import { useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

/** A distinct 0x wallet per index. */
const walletNo = (i: number) => `0x${(i + 1).toString(16).padStart(40, '0')}`;
const claimsOf = (wallet: string) => ({ walletAddress: wallet, chain: 'ethereum' }) as AccessTokenClaims;

/** A resolver whose calls wait until the test lets them answer (or fail); it records the peak in flight. */
function gatedResolver() {
  const state = { calls: 0, inFlight: 0, peak: 0, failing: false };
  let open!: () => void;
  let opened = new Promise<void>((resolve) => (open = resolve));
  const resolver: OwnershipResolver = {
    async resolve() {
      state.calls += 1;
      state.inFlight += 1;
      state.peak = Math.max(state.peak, state.inFlight);
      try {
        await opened;
        if (state.failing) throw new Error('429 Too Many Requests');
        return { balance: '1' };
      } finally {
        state.inFlight -= 1;
      }
    },
  };
  return {
    state,
    resolver,
    release() {
      open();
    },
    block() {
      opened = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

/** Polls a condition the test is waiting for (events, not time, decide when it holds). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('a gate-wide bound on concurrent resolver calls', () => {
  test.each([
    ['deny', 503, 'ownership_unavailable'],
    ['useToken', 403, 'insufficient_balance'],
  ] as const)(
    'under %s: 50 fresh wallets make 4 calls at once, 10 wait, the rest get the policy at once',
    async (policy, status, reason) => {
      const gated = gatedResolver();
      const gate = createTokenGate({
        ...env.issuer.options,
        revalidate: { resolver: gated.resolver, onResolverError: policy, maxConcurrent: 4, maxQueued: 10 },
      });
      let arrived = 0;
      const app = express();
      app.get(
        '/r',
        (_req, _res, next) => {
          arrived += 1;
          next();
        },
        gate.requireTokens({ contractAddress: APES_CONTRACT }),
        (_req, res) => res.json({ ok: true }),
      );
      app.use(authErrorHandler());
      const server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        const tokens = await Promise.all(
          Array.from({ length: 50 }, (_, i) => env.issuer.sign({ walletAddress: walletNo(i) })),
        );
        const answers: request.Response[] = [];
        const pending = tokens.map((token) =>
          request(server)
            .get('/r')
            .set('Authorization', `Bearer ${token}`)
            .then((res) => answers.push(res)),
        );
        // Every request reached the gate and the refused ones were answered, with the resolver still holding 4.
        await until(() => arrived === 50 && answers.length === 36);
        expect(gated.state).toMatchObject({ calls: 4, inFlight: 4, peak: 4 });
        for (const res of answers) {
          expect(res.status).toBe(status);
          expect(res.body.reason).toBe(reason);
          if (status === 503) expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        }
        gated.release();
        await Promise.all(pending);
        expect(answers.slice(36).map((res) => res.status)).toEqual(Array(14).fill(200));
        expect(gated.state).toMatchObject({ calls: 14, peak: 4 });
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  test('2,000 fresh wallets at once: 16 calls in flight (the default), 256 waiting, the rest refused at once', async () => {
    const gated = gatedResolver();
    const check = new Revalidator(parseRevalidateOptions({ resolver: gated.resolver, maxAgeMs: 0 })!, () => 0).checkFor(
      compileRequirements({ contractAddress: APES_CONTRACT }),
    );
    const outcomes = Array.from({ length: 2000 }, (_, i) =>
      Promise.resolve(check(claimsOf(walletNo(i)))).then(
        () => 'passed',
        (error: Error) => error.name,
      ),
    );
    await until(() => gated.state.inFlight === 16);
    gated.release();
    const counted = new Map<string, number>();
    for (const outcome of await Promise.all(outcomes)) counted.set(outcome, (counted.get(outcome) ?? 0) + 1);
    expect(Object.fromEntries(counted)).toEqual({ passed: 272, OwnershipUnavailableError: 1728 });
    expect(gated.state).toMatchObject({ calls: 272, peak: 16 });
  });

  test('a question that waits past timeoutMs leaves the queue and fails; the slot of a call that never settles is freed', async () => {
    const hanging: OwnershipResolver = { resolve: () => new Promise(() => {}) };
    const gate = createTokenGate({
      ...env.issuer.options,
      revalidate: { resolver: hanging, timeoutMs: 50, maxConcurrent: 1, maxQueued: 5 },
    });
    const app = express();
    app.get('/r', gate.requireTokens({ contractAddress: APES_CONTRACT }), (_req, res) => res.json({ ok: true }));
    app.use(authErrorHandler());
    for (let round = 0; round < 3; round += 1) {
      const answers = await Promise.all(
        [0, 1, 2].map(async (i) =>
          request(app)
            .get('/r')
            .set('Authorization', `Bearer ${await env.issuer.sign({ walletAddress: walletNo(round * 3 + i) })}`),
        ),
      );
      expect(answers.map((res) => [res.status, res.body.reason])).toEqual(
        Array(3).fill([503, 'ownership_unavailable']),
      );
    }
  });
});

describe('a shared back-off when the resolver itself is failing', () => {
  test(`after ${FAILURES_TO_OPEN} failures in a row (any wallets) the gate stops asking, then probes once, doubling the wait`, async () => {
    let now = 0;
    const state = { calls: 0, failing: true };
    const tooMany: OwnershipResolver = {
      async resolve() {
        state.calls += 1;
        if (state.failing) throw new Error('429 Too Many Requests');
        return { balance: '1' };
      },
    };
    const check = new Revalidator(parseRevalidateOptions({ resolver: tooMany })!, () => now).checkFor(
      compileRequirements({ contractAddress: APES_CONTRACT }),
    );
    let next = 0;
    const fresh = async () => {
      try {
        await check(claimsOf(walletNo(next++)));
        return 'passed';
      } catch (error) {
        return (error as { retryAfter: number }).retryAfter;
      }
    };
    const retryAfters: unknown[] = [];
    for (let i = 0; i < 500; i += 1) retryAfters.push(await fresh());
    expect(state.calls).toBe(FAILURES_TO_OPEN);
    expect(new Set(retryAfters)).toEqual(new Set([1]));

    now += 1000; // the wait is over: one probe, which fails, and the wait doubles
    const probes = await Promise.all(Array.from({ length: 20 }, fresh));
    expect(state.calls).toBe(FAILURES_TO_OPEN + 1);
    expect(probes).toEqual(Array(20).fill(1)); // the probe failed; the others were refused while it was out
    expect(await fresh()).toBe(2);

    now += 1000;
    expect(await fresh()).toBe(1); // still waiting: nothing asked
    expect(state.calls).toBe(FAILURES_TO_OPEN + 1);

    state.failing = false;
    now += 1000; // the probe succeeds: the gate asks as usual again
    expect(await fresh()).toBe('passed');
    expect(await Promise.all(Array.from({ length: 10 }, fresh))).toEqual(Array(10).fill('passed'));
    expect(state.calls).toBe(FAILURES_TO_OPEN + 12);
  });

  test(`500 fresh wallets at once against a resolver answering 429: 16 + ${FAILURES_TO_OPEN - 1} calls, not 500`, async () => {
    const gated = gatedResolver();
    gated.state.failing = true;
    const check = new Revalidator(parseRevalidateOptions({ resolver: gated.resolver })!, () => 0).checkFor(
      compileRequirements({ contractAddress: APES_CONTRACT }),
    );
    const outcomes = Array.from({ length: 500 }, (_, i) =>
      Promise.resolve(check(claimsOf(walletNo(i)))).then(
        () => 'passed',
        (error: Error) => error.name,
      ),
    );
    gated.release();
    expect(new Set(await Promise.all(outcomes))).toEqual(new Set(['OwnershipUnavailableError']));
    // 16 in flight; each of the first failures lets one waiting question out, the fifth empties the queue.
    expect(gated.state.calls).toBe(16 + FAILURES_TO_OPEN - 1);
  });

  test('a requirement the resolver does not take does not count as the resolver failing', async () => {
    let calls = 0;
    const ethereumOnly: OwnershipResolver = {
      async resolve({ chain }) {
        calls += 1;
        if (chain !== 'ethereum') throw new UnsupportedRequirementError(`no ${chain}`);
        return { balance: '1' };
      },
    };
    const revalidator = new Revalidator(parseRevalidateOptions({ resolver: ethereumOnly })!, () => 0);
    const polygon = revalidator.checkFor(compileRequirements({ chain: 'polygon', contractAddress: APES_CONTRACT }));
    const ethereum = revalidator.checkFor(compileRequirements({ contractAddress: APES_CONTRACT }));
    for (let i = 0; i < 10; i += 1) {
      await expect(
        Promise.resolve(polygon({ walletAddress: walletNo(i), chain: 'polygon' } as AccessTokenClaims)),
      ).rejects.toThrow('cannot be checked');
    }
    await expect(Promise.resolve(ethereum(claimsOf(walletNo(99))))).resolves.toBeUndefined();
    expect(calls).toBe(11);
  });
});

describe('options', () => {
  test.each([
    [{ maxConcurrent: 0 }, 'revalidate.maxConcurrent'],
    [{ maxConcurrent: 1.5 }, 'revalidate.maxConcurrent'],
    [{ maxConcurrent: '16' }, 'revalidate.maxConcurrent'],
    [{ maxQueued: -1 }, 'revalidate.maxQueued'],
    [{ maxQueued: Infinity }, 'revalidate.maxQueued'],
  ])('%j is refused at startup, naming %s', (bad, name) => {
    const resolver: OwnershipResolver = { resolve: async () => ({ balance: '1' }) };
    expect(() => createTokenGate({ ...env.issuer.options, revalidate: { resolver, ...bad } as never })).toThrow(
      OptionsError,
    );
    expect(() => createTokenGate({ ...env.issuer.options, revalidate: { resolver, ...bad } as never })).toThrow(name);
  });

  test('maxQueued 0 refuses every question that finds the calls busy', async () => {
    const gated = gatedResolver();
    const check = new Revalidator(
      parseRevalidateOptions({ resolver: gated.resolver, maxConcurrent: 1, maxQueued: 0 })!,
      () => 0,
    ).checkFor(compileRequirements({ contractAddress: APES_CONTRACT }));
    const first = check(claimsOf(walletNo(0)));
    await expect(Promise.resolve(check(claimsOf(walletNo(1))))).rejects.toThrow('cannot be checked');
    gated.release();
    await first;
  });
});
