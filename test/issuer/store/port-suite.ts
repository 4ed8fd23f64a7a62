/**
 * The behaviour every IssuerStore shares, run against each adapter (memory, Redis). `pair()` gives
 * two handles on one store's data: two instances (two connections) for Redis, the same object
 * twice for memory, so the races and the "seen from the other instance" cases run on both.
 *
 * Expiry is tested by letting a short lifetime pass on the real clock (waiting for the clock, never
 * asserting how long anything took); exact boundaries are in the memory store's own tests, on a
 * manual clock.
 */
import { IssuerStoreUnavailableError } from '../../../lib/errors';
import type { IssuerStore } from '../../../lib/issuer/store/store';
import { OTHER_WALLET as OTHER_ADDRESS, WALLET as ADDRESS } from '../../helpers/fixtures';

export interface StoreFixture {
  /** Two handles on one fresh, empty store. */
  pair(): Promise<[IssuerStore, IssuerStore]>;
}

/** Wallet keys as the issuer forms them: the chain and the normalised address. */
const WALLET = `ethereum:${ADDRESS.toLowerCase()}`;
const OTHER_WALLET = `ethereum:${OTHER_ADDRESS.toLowerCase()}`;
const HOUR = 3_600_000;
const RECORD = { chain: 'ethereum', format: 'siwe', statement: 'Sign in', issuedAtMs: 1_700_000_000_000 };

/** Resolves once the real clock has passed `time` (epoch ms). */
async function clockPasses(time: number): Promise<void> {
  while (Date.now() <= time) await new Promise((resolve) => setTimeout(resolve, Math.max(1, time - Date.now() + 1)));
}

let serial = 0;
const fresh = (label: string) => `${label}-${++serial}-${Math.random().toString(36).slice(2)}`;

/** Bad arguments: each call must reject with a TypeError naming the argument. */
type BadCall = [string, (store: IssuerStore) => Promise<unknown>, RegExp];

export function describeIssuerStore(name: string, fixture: StoreFixture): void {
  describe(`${name} implements the IssuerStore port`, () => {
    let a: IssuerStore;
    let b: IssuerStore;
    beforeEach(async () => {
      [a, b] = await fixture.pair();
    });

    describe('nonces', () => {
      test('a nonce is taken once, with its record, from either instance', async () => {
        const nonce = fresh('n');
        await a.issueNonce(WALLET, nonce, RECORD, HOUR);
        expect(await b.consumeNonce(WALLET, nonce)).toEqual(RECORD);
        expect(await a.consumeNonce(WALLET, nonce)).toBeUndefined();
        expect(await b.consumeNonce(WALLET, nonce)).toBeUndefined();
      });

      test('the record comes back as its JSON copy', async () => {
        const nonce = fresh('n');
        const record: Record<string, unknown> = { kept: 'yes', dropped: undefined, nested: { list: [1, 'two'] } };
        await a.issueNonce(WALLET, nonce, record, HOUR);
        (record.nested as { list: unknown[] }).list.push('added later');
        expect(await b.consumeNonce(WALLET, nonce)).toEqual({ kept: 'yes', nested: { list: [1, 'two'] } });
      });

      test.each([
        ['a wrong nonce', (n: string) => [WALLET, `${n}x`]],
        ['a prefix of it', (n: string) => [WALLET, n.slice(0, -1)]],
        ['it in upper case', (n: string) => [WALLET, n.toUpperCase()]],
        ['the right nonce under another wallet', (n: string) => [OTHER_WALLET, n]],
        ['the wallet with the nonce glued on', (n: string) => [`${WALLET}${n}`, n]],
        ['an empty nonce', () => [WALLET, '']],
        ['a 257-character nonce', () => [WALLET, 'n'.repeat(257)]],
        ['a nonce that is not a string', () => [WALLET, 42]],
      ])(
        "a stranger who knows the wallet but tries %s gets nothing, and the wallet's nonce still works",
        async (_, attempt) => {
          const nonce = `N${fresh('n')}`;
          const other = fresh('n');
          await a.issueNonce(WALLET, nonce, RECORD, HOUR);
          await a.issueNonce(WALLET, other, RECORD, HOUR);
          const [walletKey, guess] = attempt(nonce) as [string, string];
          for (let i = 0; i < 20; i++) expect(await b.consumeNonce(walletKey, guess)).toBeUndefined();
          expect(await b.consumeNonce(WALLET, nonce)).toEqual(RECORD);
          expect(await a.consumeNonce(WALLET, other)).toEqual(RECORD);
        },
      );

      test('a wallet holds several pending nonces, taken in any order', async () => {
        const nonces = [fresh('n'), fresh('n'), fresh('n')];
        for (const [i, nonce] of nonces.entries()) await a.issueNonce(WALLET, nonce, { i }, HOUR);
        expect(await b.consumeNonce(WALLET, nonces[1]!)).toEqual({ i: 1 });
        expect(await b.consumeNonce(WALLET, nonces[2]!)).toEqual({ i: 2 });
        expect(await b.consumeNonce(WALLET, nonces[0]!)).toEqual({ i: 0 });
      });

      test("a ninth pending nonce pushes out the wallet's oldest, and only that one", async () => {
        const wallet = `ethereum:${fresh('w')}`;
        const nonces = Array.from({ length: 9 }, () => fresh('n'));
        for (const [i, nonce] of nonces.entries()) await a.issueNonce(wallet, nonce, { i }, HOUR);
        expect(await b.consumeNonce(wallet, nonces[0]!)).toBeUndefined();
        for (const [i, nonce] of nonces.entries()) {
          if (i > 0) expect(await b.consumeNonce(wallet, nonce)).toEqual({ i });
        }
      });

      test("a flood of nonces for one wallet leaves another wallet's nonce pending", async () => {
        const victim = fresh('n');
        await a.issueNonce(OTHER_WALLET, victim, RECORD, HOUR);
        for (let i = 0; i < 20; i++) await b.issueNonce(WALLET, fresh('flood'), RECORD, HOUR);
        expect(await a.consumeNonce(OTHER_WALLET, victim)).toEqual(RECORD);
      });

      test('issuing a pending nonce again replaces its record', async () => {
        const nonce = fresh('n');
        await a.issueNonce(WALLET, nonce, { version: 1 }, HOUR);
        await b.issueNonce(WALLET, nonce, { version: 2 }, HOUR);
        expect(await a.consumeNonce(WALLET, nonce)).toEqual({ version: 2 });
        expect(await a.consumeNonce(WALLET, nonce)).toBeUndefined();
      });

      test('an expired nonce is never returned, and no longer counts against the wallet', async () => {
        const wallet = `ethereum:${fresh('w')}`;
        const short = Array.from({ length: 8 }, () => fresh('short'));
        const issued = Date.now();
        for (const nonce of short) await a.issueNonce(wallet, nonce, RECORD, 20);
        await clockPasses(issued + 40);
        const long = Array.from({ length: 8 }, () => fresh('long'));
        for (const nonce of long) await a.issueNonce(wallet, nonce, RECORD, HOUR);
        for (const nonce of short) expect(await b.consumeNonce(wallet, nonce)).toBeUndefined();
        for (const nonce of long) expect(await b.consumeNonce(wallet, nonce)).toEqual(RECORD);
      });

      test("pendingNonces lists the wallet's live nonces with their records, newest first, taking none", async () => {
        const wallet = `ethereum:${fresh('w')}`;
        const nonces = [fresh('n'), fresh('n'), fresh('n')];
        for (const [i, nonce] of nonces.entries()) await a.issueNonce(wallet, nonce, { i }, HOUR);
        await a.issueNonce(OTHER_WALLET, fresh('other'), RECORD, HOUR);
        const expected = [
          { nonce: nonces[2], record: { i: 2 } },
          { nonce: nonces[1], record: { i: 1 } },
          { nonce: nonces[0], record: { i: 0 } },
        ];
        expect(await b.pendingNonces(wallet)).toEqual(expected);
        expect(await a.pendingNonces(wallet)).toEqual(expected);
        expect(await b.consumeNonce(wallet, nonces[1]!)).toEqual({ i: 1 });
        expect(await a.pendingNonces(wallet)).toEqual([expected[0], expected[2]]);
      });

      test('pendingNonces of a wallet without any is empty, and never lists more than its cap', async () => {
        expect(await a.pendingNonces(`ethereum:${fresh('w')}`)).toEqual([]);
        expect(await a.pendingNonces('')).toEqual([]);
        const wallet = `ethereum:${fresh('w')}`;
        const nonces = Array.from({ length: 12 }, () => fresh('n'));
        for (const [i, nonce] of nonces.entries()) await b.issueNonce(wallet, nonce, { i }, HOUR);
        const listed = await a.pendingNonces(wallet);
        expect(listed.map((p) => p.nonce)).toEqual(nonces.slice(4).reverse());
      });

      test('pendingNonces leaves expired nonces out', async () => {
        const wallet = `ethereum:${fresh('w')}`;
        const issued = Date.now();
        await a.issueNonce(wallet, fresh('short'), RECORD, 20);
        const long = fresh('long');
        await a.issueNonce(wallet, long, RECORD, HOUR);
        await clockPasses(issued + 40);
        expect(await b.pendingNonces(wallet)).toEqual([{ nonce: long, record: RECORD }]);
      });

      test('many consumers racing on both instances: exactly one takes each nonce', async () => {
        // Two wallets of five nonces each, within a wallet's cap of 8.
        const nonces = Array.from({ length: 10 }, () => fresh('race'));
        const walletOf = (i: number) => (i < 5 ? WALLET : OTHER_WALLET);
        await Promise.all(nonces.map((nonce, i) => (i % 2 ? a : b).issueNonce(walletOf(i), nonce, { i }, HOUR)));
        const attempts = nonces.flatMap((nonce, i) =>
          Array.from({ length: 20 }, (_, j) =>
            (j % 2 ? a : b).consumeNonce(walletOf(i), nonce).then((r) => [nonce, r]),
          ),
        );
        const results = (await Promise.all(attempts)) as [string, unknown][];
        for (const [i, nonce] of nonces.entries()) {
          const won = results.filter(([n, record]) => n === nonce && record !== undefined);
          expect(won.map(([, record]) => record)).toEqual([{ i }]);
        }
      });
    });

    describe('sessions', () => {
      test('a created session is seen from either instance, live until its expiry', async () => {
        const sid = fresh('sid');
        const expiresAt = Date.now() + HOUR;
        expect(await a.createSession(sid, { wallet: WALLET }, expiresAt)).toBe(true);
        expect(await b.getSession(sid)).toEqual({ record: { wallet: WALLET }, expiresAt });
      });

      test('an unknown session is undefined', async () => {
        expect(await a.getSession(fresh('sid'))).toBeUndefined();
        expect(await a.getSession('')).toBeUndefined();
      });

      test('an ended session keeps its record and says when it ended', async () => {
        const sid = fresh('sid');
        const expiresAt = Date.now() + HOUR;
        await a.createSession(sid, { wallet: WALLET }, expiresAt);
        const before = Date.now();
        await b.endSession(sid, expiresAt);
        const after = Date.now();
        const state = await a.getSession(sid);
        expect(state).toMatchObject({ record: { wallet: WALLET }, expiresAt });
        expect(state!.endedAt).toBeGreaterThanOrEqual(before);
        expect(state!.endedAt).toBeLessThanOrEqual(after);
      });

      test('an ended session is never brought back by a later create, on either instance', async () => {
        const sid = fresh('sid');
        const expiresAt = Date.now() + HOUR;
        await a.createSession(sid, { v: 1 }, expiresAt);
        await b.endSession(sid, expiresAt);
        expect(await a.createSession(sid, { v: 2 }, expiresAt)).toBe(false);
        expect(await b.createSession(sid, { v: 3 }, expiresAt + HOUR)).toBe(false);
        const state = await a.getSession(sid);
        expect(state).toMatchObject({ record: { v: 1 }, expiresAt });
        expect(state!.endedAt).toEqual(expect.any(Number));
      });

      test('ending a session unknown here remembers the end, and a later create is refused', async () => {
        const sid = fresh('sid');
        const expiresAt = Date.now() + HOUR;
        await a.endSession(sid, expiresAt);
        const state = await b.getSession(sid);
        expect(state).toEqual({ expiresAt, endedAt: expect.any(Number) });
        expect(await b.createSession(sid, { v: 1 }, expiresAt)).toBe(false);
      });

      test('ending it again keeps the first end', async () => {
        const sid = fresh('sid');
        const expiresAt = Date.now() + HOUR;
        await a.createSession(sid, {}, expiresAt);
        await a.endSession(sid, expiresAt);
        const first = (await a.getSession(sid))!.endedAt!;
        await clockPasses(first + 5);
        await b.endSession(sid, expiresAt);
        expect((await a.getSession(sid))!.endedAt).toBe(first);
      });

      test('the end is remembered until the later of the two expiries', async () => {
        const now = Date.now();
        const long = fresh('sid');
        await a.createSession(long, {}, now + 2 * HOUR);
        await b.endSession(long, now + HOUR);
        expect((await a.getSession(long))!.expiresAt).toBe(now + 2 * HOUR);
        const short = fresh('sid');
        await a.createSession(short, {}, now + HOUR);
        await b.endSession(short, now + 2 * HOUR);
        expect((await a.getSession(short))!.expiresAt).toBe(now + 2 * HOUR);
      });

      test('creating a live session again replaces its record and never extends its expiry', async () => {
        const now = Date.now();
        const sid = fresh('sid');
        expect(await a.createSession(sid, { v: 1 }, now + HOUR)).toBe(true);
        expect(await b.createSession(sid, { v: 2 }, now + 2 * HOUR)).toBe(true);
        expect(await a.getSession(sid)).toEqual({ record: { v: 2 }, expiresAt: now + HOUR });
        expect(await b.createSession(sid, { v: 3 }, now + HOUR / 2)).toBe(true);
        expect(await a.getSession(sid)).toEqual({ record: { v: 3 }, expiresAt: now + HOUR / 2 });
      });

      test('a session whose expiry has passed is not stored', async () => {
        const sid = fresh('sid');
        expect(await a.createSession(sid, {}, Date.now() - 1)).toBe(false);
        expect(await b.getSession(sid)).toBeUndefined();
      });

      test('a session, live or ended, is forgotten at its expiry', async () => {
        const live = fresh('sid');
        const ended = fresh('sid');
        const expiresAt = Date.now() + 20;
        await a.createSession(live, {}, expiresAt);
        await a.createSession(ended, {}, expiresAt);
        await a.endSession(ended, expiresAt);
        await clockPasses(expiresAt + 20);
        expect(await b.getSession(live)).toBeUndefined();
        expect(await b.getSession(ended)).toBeUndefined();
      });
    });

    describe('rate counters', () => {
      test('counts hits in a fixed window opened by the first, shared by both instances', async () => {
        const key = fresh('ip');
        const before = Date.now();
        const counts = [];
        for (const store of [a, b, a, b]) counts.push(await store.hit(key, HOUR));
        const after = Date.now();
        expect(counts.map((c) => c.count)).toEqual([1, 2, 3, 4]);
        for (const { resetAt } of counts) {
          expect(resetAt).toBeGreaterThanOrEqual(before + HOUR - 1000);
          expect(resetAt).toBeLessThanOrEqual(after + HOUR);
        }
      });

      test('keys count apart', async () => {
        const [one, two] = [fresh('ip'), fresh('ip')];
        await a.hit(one, HOUR);
        await a.hit(one, HOUR);
        expect((await b.hit(two, HOUR)).count).toBe(1);
        expect((await b.hit(one, HOUR)).count).toBe(3);
      });

      test('a closed window starts again from 1', async () => {
        const key = fresh('ip');
        const { resetAt } = await a.hit(key, 20);
        await clockPasses(resetAt + 20);
        expect((await b.hit(key, 20)).count).toBe(1);
      });

      test('concurrent hits on both instances are each counted once', async () => {
        const key = fresh('ip');
        const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).hit(key, HOUR)));
        expect(counts.map((c) => c.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      });
    });

    describe('bad arguments reject with a TypeError naming them', () => {
      const big = { text: 'x'.repeat(9000) };
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const calls: BadCall[] = [
        ['an empty walletKey', (s) => s.issueNonce('', 'n', {}, HOUR), /walletKey/],
        ['a 257-character walletKey', (s) => s.issueNonce('w'.repeat(257), 'n', {}, HOUR), /walletKey/],
        ['an empty nonce', (s) => s.issueNonce(WALLET, '', {}, HOUR), /nonce/],
        ['a record that is a list', (s) => s.issueNonce(WALLET, 'n', [] as never, HOUR), /record/],
        ['a record that is null', (s) => s.issueNonce(WALLET, 'n', null as never, HOUR), /record/],
        ['a record over 8 KiB of JSON', (s) => s.issueNonce(WALLET, 'n', big, HOUR), /record/],
        ['a cyclic record', (s) => s.issueNonce(WALLET, 'n', cyclic, HOUR), /record/],
        ['a record holding a BigInt', (s) => s.issueNonce(WALLET, 'n', { n: 1n }, HOUR), /record/],
        ['ttlMs 0', (s) => s.issueNonce(WALLET, 'n', {}, 0), /ttlMs/],
        ['ttlMs 1.5', (s) => s.issueNonce(WALLET, 'n', {}, 1.5), /ttlMs/],
        ['ttlMs NaN', (s) => s.issueNonce(WALLET, 'n', {}, NaN), /ttlMs/],
        ['ttlMs over a day', (s) => s.issueNonce(WALLET, 'n', {}, 86_400_001), /ttlMs/],
        ['ttlMs in seconds as a string', (s) => s.issueNonce(WALLET, 'n', {}, '60' as never), /ttlMs/],
        ['an empty sid to create', (s) => s.createSession('', {}, Date.now() + HOUR), /sid/],
        ['a session expiry of NaN', (s) => s.createSession('sid', {}, NaN), /expiresAt/],
        ['a session expiry as a Date', (s) => s.createSession('sid', {}, new Date() as never), /expiresAt/],
        ['an empty sid to end', (s) => s.endSession('', Date.now() + HOUR), /sid/],
        ['an end expiry of Infinity', (s) => s.endSession('sid', Infinity), /expiresAt/],
        ['an empty counter key', (s) => s.hit('', HOUR), /key/],
        ['a window of 0', (s) => s.hit('k', 0), /windowMs/],
      ];
      test.each(calls)('%s', async (_, call, named) => {
        const error = await call(a).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(TypeError);
        expect((error as Error).message).toMatch(named);
      });
    });

    describe('a closed store', () => {
      test('rejects every call with a 503 IssuerStoreUnavailableError', async () => {
        await a.close();
        await a.close();
        const calls: [string, () => Promise<unknown>][] = [
          ['issueNonce', () => a.issueNonce(WALLET, 'n', {}, HOUR)],
          ['consumeNonce', () => a.consumeNonce(WALLET, 'n')],
          ['createSession', () => a.createSession('sid', {}, Date.now() + HOUR)],
          ['getSession', () => a.getSession('sid')],
          ['endSession', () => a.endSession('sid', Date.now() + HOUR)],
          ['hit', () => a.hit('k', HOUR)],
          ['pendingNonces', () => a.pendingNonces(WALLET)],
        ];
        for (const [method, call] of calls) {
          const error = await call().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect({ method, error }).toEqual({ method, error: expect.any(IssuerStoreUnavailableError) });
          expect(error).toMatchObject({ status: 503, reason: 'issuer_store_unavailable', message: /closed/ });
          expect((error as IssuerStoreUnavailableError).headers).toEqual({ 'Retry-After': '1' });
        }
      });
    });
  });
}
