/**
 * When current holdings cannot be known, the policy decides: 'deny' answers 503
 * ownership_unavailable with Retry-After, 'useToken' lets the token's snapshot decide. Never a 500,
 * never a hang. Each shipped resolver is made to fail by a real server on 127.0.0.1.
 */
import { createTokenGate, evmOwnershipResolver, picketOwnershipResolver, type OwnershipResolver } from '../../lib';
import { APES_CONTRACT } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';
import { closedPort } from '../helpers/net';
import { get, SECRET_KEY, useLiveEnv } from '../helpers/live';
import { startFailingServer, type Failure, type FailingServer } from '../helpers/failing-server';

const env = useLiveEnv();

/** A balance of 1 in any eth_call result (balanceOf, decimals, …). */
const ONE = `0x${'0'.repeat(63)}1`;
function rpcAnswer(body: unknown): unknown {
  const answer = (call: { id: unknown }) => ({ jsonrpc: '2.0', id: call.id, result: ONE });
  return Array.isArray(body) ? body.map(answer) : answer(body as { id: unknown });
}
function picketAnswer(_body: unknown, path: string): unknown {
  const wallet = decodeURIComponent(/\/wallets\/([^/]+)\//.exec(path)![1]!);
  return { allowed: true, walletAddress: wallet, tokenBalance: '1' };
}

type At = (url: string, timeoutMs: number) => OwnershipResolver;
const RESOLVERS: Array<{ name: string; at: At; answer: (body: unknown, path: string) => unknown }> = [
  {
    name: 'picketOwnershipResolver',
    at: (url, timeoutMs) => picketOwnershipResolver({ apiKey: SECRET_KEY, baseUrl: `${url}/api/v1`, timeoutMs }),
    answer: picketAnswer,
  },
  {
    name: 'evmOwnershipResolver',
    at: (url, timeoutMs) => evmOwnershipResolver({ rpcUrl: url, timeoutMs }),
    answer: rpcAnswer,
  },
];
/** Short enough for the hanging server; long enough that a huge body is refused for its size, not its time. */
const timeoutFor = (failure: Failure | 'refused') => (failure === 'hang' ? 300 : 10_000);
const FAILURES: Array<[string, Failure | 'refused']> = [
  ['times out (the server hangs)', 'hang'],
  ['is refused (nothing listens)', 'refused'],
  ['answers non-2xx', 'error'],
  ['answers malformed JSON', 'garbage'],
  ['answers JSON of the wrong shape', 'wrong-shape'],
  ['answers an oversized body (a valid answer, padded)', 'huge'],
];

describe.each(RESOLVERS)('$name failures', ({ at, answer }) => {
  let server: FailingServer;
  beforeAll(async () => {
    server = await startFailingServer('error', answer);
  });
  afterAll(() => server.close());

  const urlFor = async (failure: Failure | 'refused') => {
    if (failure === 'refused') return `http://127.0.0.1:${await closedPort()}`;
    server.failure = failure;
    return server.url;
  };

  test.each(FAILURES)(
    "'deny': a resolver that %s answers 503 ownership_unavailable with Retry-After",
    async (_kind, failure) => {
      const gate = createTokenGate({
        ...env.issuer.options,
        revalidate: { resolver: at(await urlFor(failure), timeoutFor(failure)) },
      });
      const res = await get(
        appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })),
        await env.holding('1'),
      ).expect(503);
      expect(res.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: "The wallet's current holdings cannot be checked right now",
        reason: 'ownership_unavailable',
      });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.headers['www-authenticate']).toBeUndefined();
    },
  );

  test.each(FAILURES)(
    "'useToken': a resolver that %s leaves the decision to the token's balances",
    async (_kind, failure) => {
      const resolver = at(await urlFor(failure), timeoutFor(failure));
      const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver, onResolverError: 'useToken' } });
      const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }));
      await get(app, await env.holding('1')).expect(200);
      const res = await get(app, await env.login()).expect(403);
      expect(res.body.reason).toBe('insufficient_balance');
      expect(res.body.error_description).toBe('The token does not prove the required balance');
    },
  );
});

describe('a resolver of your own that misbehaves', () => {
  const gateWith = (resolver: OwnershipResolver, extra: Record<string, unknown> = {}) =>
    createTokenGate({ ...env.issuer.options, revalidate: { resolver, ...extra } });
  const ask = async (resolver: OwnershipResolver, extra?: Record<string, unknown>) =>
    get(appWith(gateWith(resolver, extra).requireTokens({ contractAddress: APES_CONTRACT })), await env.holding('5'));

  test('one that never answers is given up on after timeoutMs, and its signal is aborted', async () => {
    let signal: AbortSignal | undefined;
    const silent: OwnershipResolver = {
      resolve: (query) => {
        signal = query.signal;
        return new Promise(() => undefined);
      },
    };
    const res = await ask(silent, { timeoutMs: 100 });
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('ownership_unavailable');
    expect(signal?.aborted).toBe(true);
  });

  test('one that throws synchronously is a failure, not a crash', async () => {
    const throwing: OwnershipResolver = {
      resolve: () => {
        throw new TypeError('bug');
      },
    };
    expect((await ask(throwing)).status).toBe(503);
    expect((await ask(throwing, { onResolverError: 'useToken' })).status).toBe(200);
  });

  test.each([
    ['nothing', undefined],
    ['a number balance', { balance: 5 }],
    ['a negative balance', { balance: '-1' }],
    ['an exponent', { balance: '1e3' }],
    ['a non-boolean allowed', { balance: '5', allowed: 'yes' }],
  ])('an answer of %s is a failure, never a grant', async (_kind, answer) => {
    const odd = { resolve: async () => answer } as unknown as OwnershipResolver;
    const res = await ask(odd);
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('ownership_unavailable');
  });

  test('the 503 keeps the resolver error as its cause, for your logs', async () => {
    const failing: OwnershipResolver = { resolve: async () => Promise.reject(new Error('rpc quota exceeded')) };
    const gate = gateWith(failing);
    const mw = gate.requireTokens({ contractAddress: APES_CONTRACT });
    const token = await env.holding('1');
    const error = await new Promise<unknown>((resolve) => {
      const req = { headers: { authorization: `Bearer ${token}` }, rawHeaders: ['Authorization', `Bearer ${token}`] };
      mw(req as never, {} as never, resolve);
    });
    expect(error).toMatchObject({ status: 503, reason: 'ownership_unavailable' });
    expect((error as { cause: Error }).cause.message).toBe('rpc quota exceeded');
  });
});
