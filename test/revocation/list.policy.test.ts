/**
 * The revocation list around any store: its failure policy (`onStoreError`), how its answers
 * reach the client through the gate, its options, and the memory store's own bounds. A store
 * that fails here is a real adapter of the port written for the test, the way an application
 * writes one for its own database.
 */
import express from 'express';
import request from 'supertest';
import {
  OptionsError,
  RevocationUnavailableError,
  createRevocationList,
  createTokenGate,
  memoryRevocationStore,
  type RevocationEvent,
  type RevocationStore,
} from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { logout, me, revocationApp } from '../helpers/revocation';
import { AUDIENCE } from '../helpers/fixtures';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterAll(() => issuer.close());

/** A store on a memory store that can be made to fail, by throwing or by rejecting. */
function breakableStore(how: 'throws' | 'rejects') {
  const inner = memoryRevocationStore();
  const state = { broken: false, writesBroken: false };
  const fail = () => {
    const error = new Error('database unreachable');
    if (how === 'throws') throw error;
    return Promise.reject(error);
  };
  const store: RevocationStore = {
    add: (id, expiresAt) =>
      state.broken || state.writesBroken ? Promise.reject(new Error('database unreachable')) : inner.add(id, expiresAt),
    has: (id, expiresAt) => (state.broken ? fail() : inner.has(id, expiresAt)),
    close: () => inner.close(),
  };
  return { store, state };
}

describe.each(['throws', 'rejects'] as const)("onStoreError 'deny' (the default): a store that %s", (how) => {
  test('answers 503 revocation_unavailable with Retry-After and no challenge, for new and cached tokens alike', async () => {
    const { store, state } = breakableStore(how);
    const events: RevocationEvent[] = [];
    const app = revocationApp(issuer, createRevocationList({ store, onRevocationEvent: (e) => events.push(e) }));
    const cached = await issuer.sign();
    expect((await me(app, cached)).status).toBe(200);
    state.broken = true;
    for (const token of [cached, await issuer.sign()]) {
      const res = await me(app, token);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.body).toMatchObject({ error: 'temporarily_unavailable', reason: 'revocation_unavailable' });
    }
    expect(events).toEqual([
      { type: 'check-failed', outcome: 'denied', error: 'database unreachable' },
      { type: 'check-failed', outcome: 'denied', error: 'database unreachable' },
    ]);
  });

  test('keeps the store error as err.cause of the 503, for the logs only', async () => {
    const { store, state } = breakableStore(how);
    const list = createRevocationList({ store, onRevocationEvent: () => {} });
    const claims = await createTokenGate(issuer.options).verify(await issuer.sign());
    state.broken = true;
    const error: unknown = await Promise.resolve()
      .then(() => list.isRevoked(claims))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RevocationUnavailableError);
    expect((error as Error).cause).toEqual(new Error('database unreachable'));
    expect(JSON.stringify(error)).not.toContain('database unreachable');
  });

  test("Express's default error handler sends the same 503 and Retry-After (the error reaches it as itself)", async () => {
    const { store, state } = breakableStore(how);
    const list = createRevocationList({ store, onRevocationEvent: () => {} });
    const gate = createTokenGate({ ...issuer.options, isRevoked: list.isRevoked });
    const app = express();
    app.get('/me', gate.requireAuth(), (_req, res) => {
      res.json({});
    });
    state.broken = true;
    const res = await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await issuer.sign()}`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  });

  test('recovers with the store: requests pass again and revocations made before still hold', async () => {
    const { store, state } = breakableStore(how);
    const app = revocationApp(issuer, createRevocationList({ store, onRevocationEvent: () => {} }));
    const revoked = await issuer.sign();
    const other = await issuer.sign();
    await logout(app, revoked).expect(204);
    state.broken = true;
    expect((await me(app, other)).status).toBe(503);
    state.broken = false;
    expect((await me(app, other)).status).toBe(200);
    expect((await me(app, revoked)).body.reason).toBe('token_revoked');
  });
});

describe("onStoreError 'allow'", () => {
  test('lets the request through and reports it', async () => {
    const { store, state } = breakableStore('rejects');
    const events: RevocationEvent[] = [];
    const app = revocationApp(
      issuer,
      createRevocationList({ store, onStoreError: 'allow', onRevocationEvent: (e) => events.push(e) }),
    );
    state.broken = true;
    expect((await me(app, await issuer.sign())).status).toBe(200);
    expect(events).toEqual([{ type: 'check-failed', outcome: 'allowed', error: 'database unreachable' }]);
  });

  test('without an observer, an outage is logged once, when it starts, and again after a recovery', async () => {
    const { store, state } = breakableStore('throws');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const app = revocationApp(issuer, createRevocationList({ store, onStoreError: 'allow' }));
      const token = await issuer.sign();
      state.broken = true;
      for (let i = 0; i < 3; i++) expect((await me(app, token)).status).toBe(200);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/revocation store failed .*onStoreError: 'allow'/);
      state.broken = false;
      expect((await me(app, token)).status).toBe(200);
      state.broken = true;
      expect((await me(app, token)).status).toBe(200);
      expect(warn).toHaveBeenCalledTimes(2);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('a revocation the store cannot record', () => {
  test.each(['deny', 'allow'] as const)(
    "fails the logout with 503 revocation_unavailable (onStoreError '%s')",
    async (onStoreError) => {
      const { store, state } = breakableStore('rejects');
      const events: RevocationEvent[] = [];
      const list = createRevocationList({ store, onStoreError, onRevocationEvent: (e) => events.push(e) });
      const app = revocationApp(issuer, list);
      const token = await issuer.sign();
      expect((await me(app, token)).status).toBe(200);
      state.writesBroken = true;
      const res = await logout(app, token);
      expect(res.status).toBe(503);
      expect(res.body.reason).toBe('revocation_unavailable');
      expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      const error: unknown = await list.revoke(token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RevocationUnavailableError);
      // The store's own error stays on the server, for the logs.
      expect((error as Error).cause).toEqual(new Error('database unreachable'));
      expect(events).toContainEqual({ type: 'revoke-failed', error: 'database unreachable' });
    },
  );
});

describe('an observer that throws', () => {
  test('changes no answer', async () => {
    const { store, state } = breakableStore('rejects');
    const app = revocationApp(
      issuer,
      createRevocationList({
        store,
        onStoreError: 'allow',
        onRevocationEvent: () => {
          throw new Error('observer bug');
        },
      }),
    );
    state.broken = true;
    expect((await me(app, await issuer.sign())).status).toBe(200);
  });
});

describe('isRevoked plugs straight into the gate', () => {
  test('answers synchronously with the memory store, so cached tokens stay off the Promise path', async () => {
    const list = createRevocationList();
    const claims = await createTokenGate(issuer.options).verify(await issuer.sign());
    expect(list.isRevoked(claims)).toBe(false);
    await list.revoke(claims);
    expect(list.isRevoked(claims)).toBe(true);
  });

  test('the default store is the memory store, per list', async () => {
    const first = createRevocationList();
    const second = createRevocationList();
    const claims = await createTokenGate(issuer.options).verify(await issuer.sign());
    await first.revoke(claims);
    expect(first.isRevoked(claims)).toBe(true);
    expect(second.isRevoked(claims)).toBe(false);
  });
});

describe('options are checked at startup', () => {
  test.each<[string, Record<string, unknown>]>([
    ['onStoreError', { onStoreError: 'maybe' }],
    ['store', { store: {} }],
    ['store', { store: 'redis://127.0.0.1' }],
    ['clockTolerance', { clockTolerance: -1 }],
    ['maxTokenLifetime', { maxTokenLifetime: Number.POSITIVE_INFINITY }],
    ['onRevocationEvent', { onRevocationEvent: 'log' }],
    ['onStoreEror', { onStoreEror: 'allow' }],
  ])('a bad %s throws an OptionsError naming it', (name, options) => {
    expect(() => createRevocationList(options as never)).toThrow(OptionsError);
    expect(() => createRevocationList(options as never)).toThrow(`"${name}"`);
  });

  test.each<[string, unknown]>([
    ['maxEntries', { maxEntries: 0 }],
    ['maxEntries', { maxEntries: 1.5 }],
    ['max', { max: 10 }],
  ])('memoryRevocationStore: a bad %s throws an OptionsError naming it', (name, options) => {
    expect(() => memoryRevocationStore(options as never)).toThrow(`"${name}"`);
  });
});

describe('the memory store is bounded, and never drops a live revocation', () => {
  test('full of live revocations, add rejects saying so; every entry stays, and one already held is taken again', async () => {
    const store = memoryRevocationStore({ maxEntries: 2 });
    const later = Date.now() + 60_000;
    await store.add('a', later);
    await store.add('b', later);
    await expect(store.add('c', later)).rejects.toThrow(
      'memory revocation store is full (maxEntries 2): a revocation is never dropped to make room',
    );
    expect(store.size).toBe(2);
    expect([store.has('a', later), store.has('b', later), store.has('c', later)]).toEqual([true, true, false]);
    await store.add('a', later + 1000);
    expect(store.size).toBe(2);
  });

  test('an entry whose token has expired makes room', async () => {
    const store = memoryRevocationStore({ maxEntries: 1 });
    await store.add('short', Date.now() + 20);
    // Waits for the expiry itself, not for a fixed time.
    while (store.has('short', 0)) await new Promise((resolve) => setTimeout(resolve, 10));
    await store.add('next', Date.now() + 60_000);
    expect(store.has('next', 0)).toBe(true);
  });
});

/** A memory store that records every entry written, with its expiry. */
function recordingStore() {
  const inner = memoryRevocationStore();
  const added: { id: string; expiresAt: number }[] = [];
  const store: RevocationStore = {
    add: (id, expiresAt) => (added.push({ id, expiresAt }), inner.add(id, expiresAt)),
    has: (id, expiresAt) => inner.has(id, expiresAt),
    close: () => inner.close(),
  };
  return { store, added };
}

describe('an entry lives as long as any gate using the list could accept its token', () => {
  test.each<[string, Record<string, number>, Record<string, number>, number]>([
    // [case, gate options, token: expiresIn seconds, tolerance that must be added to exp]
    ['a gate with a longer clockTolerance than the default', { clockTolerance: 60 }, { expiresIn: 120 }, 60],
    ['a gate with a shorter clockTolerance than the default', { clockTolerance: 0 }, { expiresIn: 120 }, 5],
    ['a gate accepting tokens of a week', { maxTokenLifetime: 7 * 86_400 }, { expiresIn: 3 * 86_400 }, 5],
  ])('%s: the entry lasts until exp plus the longest tolerance', async (_what, gateOptions, sign, tolerance) => {
    const { store, added } = recordingStore();
    const list = createRevocationList({ store });
    const gate = createTokenGate({ ...issuer.options, ...gateOptions, isRevoked: list.isRevoked });
    const token = await issuer.sign({}, sign);
    await list.revoke(await gate.verify(token));
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(added.map((entry) => entry.expiresAt)).toEqual([(exp + tolerance) * 1000]);
    expect(await gate.verify(token).catch((e: { reason?: string }) => e.reason)).toBe('token_revoked');
  });

  test('two gates on one list: the entry outlives the token in the more tolerant gate', async () => {
    const { store, added } = recordingStore();
    const list = createRevocationList({ store });
    const strict = createTokenGate({ ...issuer.options, clockTolerance: 0, isRevoked: list.isRevoked });
    createTokenGate({ ...issuer.options, clockTolerance: 120, isRevoked: list.isRevoked });
    const token = await issuer.sign({}, { expiresIn: 60 });
    await list.revoke(await strict.verify(token));
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(added[0]!.expiresAt).toBe((exp + 120) * 1000);
  });

  test.each<[string, Record<string, number>, Record<string, number>, boolean]>([
    ['clockTolerance', { clockTolerance: 5 }, { clockTolerance: 30 }, true],
    ['clockTolerance', { clockTolerance: 30 }, { clockTolerance: 30 }, false],
    ['clockTolerance', { clockTolerance: 60 }, { clockTolerance: 30 }, false],
    ['maxTokenLifetime', { maxTokenLifetime: 3600 }, { maxTokenLifetime: 86_400 }, true],
    ['maxTokenLifetime', { maxTokenLifetime: 86_400 }, { maxTokenLifetime: 3600 }, false],
    ['maxTokenLifetime', {}, { maxTokenLifetime: 7 * 86_400 }, false],
  ])('list %s %p, gate %p: gate creation throws: %p', (name, listOptions, gateOptions, throws) => {
    const list = createRevocationList(listOptions);
    const create = () => createTokenGate({ ...issuer.options, ...gateOptions, isRevoked: list.isRevoked });
    if (!throws) {
      expect(create).not.toThrow();
      return;
    }
    expect(create).toThrow(OptionsError);
    // Both values are named, so the fix is obvious.
    expect(create).toThrow(`"isRevoked"`);
    expect(create).toThrow(new RegExp(`${name} ${listOptions[name]}.*${name} ${gateOptions[name]}`));
  });
});

describe('every store call has a deadline (timeoutMs)', () => {
  /** A custom store, written as an application would, whose database never answers. */
  function silentStore(): RevocationStore {
    return {
      add: () => new Promise<void>(() => {}),
      has: () => new Promise<boolean>(() => {}),
      close: async () => {},
    };
  }

  test("a check that never settles answers 503 revocation_unavailable under 'deny'", async () => {
    const events: RevocationEvent[] = [];
    const list = createRevocationList({
      store: silentStore(),
      timeoutMs: 100,
      onRevocationEvent: (e) => events.push(e),
    });
    const res = await me(revocationApp(issuer, list), await issuer.sign());
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('revocation_unavailable');
    expect(events).toEqual([
      { type: 'check-failed', outcome: 'denied', error: 'revocation store did not answer within 100 ms' },
    ]);
  });

  test("a check that never settles lets the request on under 'allow'", async () => {
    const list = createRevocationList({
      store: silentStore(),
      timeoutMs: 100,
      onStoreError: 'allow',
      onRevocationEvent: () => {},
    });
    expect((await me(revocationApp(issuer, list), await issuer.sign())).status).toBe(200);
  });

  test('a revocation that never settles rejects with RevocationUnavailableError', async () => {
    const events: RevocationEvent[] = [];
    const list = createRevocationList({
      store: silentStore(),
      timeoutMs: 100,
      onRevocationEvent: (e) => events.push(e),
    });
    const gate = createTokenGate({ ...issuer.options, isRevoked: () => false });
    const claims = await gate.verify(await issuer.sign());
    const error: unknown = await list.revoke(claims).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RevocationUnavailableError);
    expect(events).toEqual([{ type: 'revoke-failed', error: 'revocation store did not answer within 100 ms' }]);
  });

  test.each([[0], [-1], [1.5], [60_001], ['100']])('timeoutMs %p throws an OptionsError naming it', (timeoutMs) => {
    expect(() => createRevocationList({ timeoutMs } as never)).toThrow(`"timeoutMs"`);
  });
});
