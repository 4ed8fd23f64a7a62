/**
 * Live answers are cached per (chain, wallet, requirement) for maxAgeMs, concurrent questions share
 * one call, and failures are remembered only for a short back-off.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTokenGate, type OwnershipAnswer, type OwnershipResolver } from '../../lib';
import { compileRequirements } from '../../lib/ownership/requirements';
import { Revalidator } from '../../lib/ownership/revalidate';
import { APES_CONTRACT, OTHER_WALLET, WALLET } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';
import { get, sleep, useLiveEnv } from '../helpers/live';

const env = useLiveEnv();

beforeEach(() => {
  env.server.answer = 'good';
  env.server.delayMs = 0;
  env.server.hold(WALLET, APES_CONTRACT, '1');
  env.server.hold(OTHER_WALLET, APES_CONTRACT, '1');
});

describe('cache hits', () => {
  test('a second request within maxAgeMs is answered from the cache', async () => {
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: env.resolver() } });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    const before = env.server.calls;
    const login = await env.login();
    await get(app, login).expect(200);
    await get(app, login).expect(200);
    await get(app, await env.login()).expect(200); // another token of the same wallet
    expect(env.server.calls).toBe(before + 1);
  });

  test('wallets and requirements are cached apart; routes with the same requirement share answers', async () => {
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: env.resolver() } });
    const one = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    const same = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    const two = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT, minTokenBalance: '2' }));
    const before = env.server.calls;
    await get(one, await env.login()).expect(200);
    await get(same, await env.login()).expect(200);
    expect(env.server.calls).toBe(before + 1);
    await get(one, await env.login(OTHER_WALLET)).expect(200);
    await get(two, await env.login()).expect(403);
    expect(env.server.calls).toBe(before + 3);
  });

  test('an answer is never reused past maxAgeMs: a sale shows once it expires', async () => {
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: env.resolver(), maxAgeMs: 200 } });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    const login = await env.login();
    await get(app, login).expect(200);
    env.server.hold(WALLET, APES_CONTRACT, '0');
    await get(app, login).expect(200); // still the cached answer
    await sleep(250);
    await get(app, login).expect(403);
  });

  test('maxAgeMs 0 asks on every request', async () => {
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: env.resolver(), maxAgeMs: 0 } });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    const before = env.server.calls;
    const login = await env.login();
    await get(app, login).expect(200);
    await get(app, login).expect(200);
    expect(env.server.calls).toBe(before + 2);
  });
});

describe('concurrent requests', () => {
  let http: Server;
  afterEach(() => new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve())));

  test('100 concurrent requests for one wallet and requirement make exactly one resolver call', async () => {
    env.server.delayMs = 100;
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: env.resolver() } });
    http = createServer(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/r`;
    const login = await env.login();
    const before = env.server.calls;
    const statuses = await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(url, { headers: { authorization: `Bearer ${login}` } }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(100).fill(200));
    expect(env.server.calls).toBe(before + 1);
  });

  test('questions asked while one is pending share it, even with maxAgeMs 0', async () => {
    let calls = 0;
    let answer!: (a: OwnershipAnswer) => void;
    const pending: OwnershipResolver = {
      resolve: () => {
        calls += 1;
        return new Promise((resolve) => (answer = resolve));
      },
    };
    const check = new Revalidator({
      resolver: pending,
      maxAgeMs: 0,
      onResolverError: 'deny',
      timeoutMs: 5000,
      maxConcurrent: 16,
      maxQueued: 256,
    }).checkFor(compileRequirements({ contractAddress: APES_CONTRACT }));
    const claims = { walletAddress: WALLET, chain: 'ethereum' } as Parameters<typeof check>[0];
    const outcomes = Array.from({ length: 100 }, () => check(claims));
    expect(calls).toBe(1);
    answer({ balance: '1' });
    await expect(Promise.all(outcomes)).resolves.toHaveLength(100);
    const later = check(claims); // settled: maxAgeMs 0 keeps nothing
    expect(calls).toBe(2);
    answer({ balance: '1' });
    await later;
  });
});

describe('failures are not cached beyond a short back-off', () => {
  test('right after a failure the key is refused at once; after the back-off it is asked again', async () => {
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: env.resolver() } });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    const login = await env.login();
    env.server.answer = 'error';
    const before = env.server.calls;
    await get(app, login).expect(503);
    const during = await get(app, login).expect(503);
    expect(Number(during.headers['retry-after'])).toBe(1);
    expect(env.server.calls).toBe(before + 1);
    env.server.answer = 'good';
    await sleep(1050);
    await get(app, login).expect(200);
    expect(env.server.calls).toBe(before + 2);
  });

  test('a failure for one wallet does not hold back another', async () => {
    let failing = true;
    const flaky: OwnershipResolver = {
      resolve: async ({ walletAddress }) => {
        if (failing && walletAddress === WALLET) throw new Error('down');
        return { balance: '1' };
      },
    };
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: flaky } });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
    await get(app, await env.login()).expect(503);
    await get(app, await env.login(OTHER_WALLET)).expect(200);
    failing = false;
  });

  test('consecutive failures of one key double the back-off, announced in Retry-After', async () => {
    let now = 0;
    let calls = 0;
    const down: OwnershipResolver = {
      resolve: async () => {
        calls += 1;
        throw new Error('down');
      },
    };
    const check = new Revalidator(
      { resolver: down, maxAgeMs: 60_000, onResolverError: 'deny', timeoutMs: 5000, maxConcurrent: 16, maxQueued: 256 },
      () => now,
    ).checkFor(compileRequirements({ contractAddress: APES_CONTRACT }));
    const claims = { walletAddress: WALLET, chain: 'ethereum' } as Parameters<typeof check>[0];
    const retryAfter = async () => {
      try {
        await check(claims);
      } catch (error) {
        return (error as { retryAfter: number }).retryAfter;
      }
      throw new Error('expected a refusal');
    };
    expect(await retryAfter()).toBe(1);
    now += 1000;
    expect(await retryAfter()).toBe(2);
    now += 2000;
    expect(await retryAfter()).toBe(4);
    now += 1000;
    expect(await retryAfter()).toBe(3); // still backing off: no call
    expect(calls).toBe(3);
  });
});
