import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTokenGate, verifyAccessToken } from '../../lib';
import { keySetFor, RemoteKeySet } from '../../lib/jwks/key-set';
import { parseKeySetOptions, type KeySetEvent } from '../../lib/jwks/options';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';
import { makeSigningKey, signAccessToken, startJwksServer } from '../helpers/jwks-server';
import { ManualClock } from '../helpers/manual-clock';
import { expectKeys } from '../helpers/key-set';

describe('jwks options are validated at startup', () => {
  test('defaults', () => {
    expect(parseKeySetOptions(undefined)).toEqual({
      timeoutMs: 5_000,
      cooldownMs: 30_000,
      maxAgeMs: 600_000,
      staleIfErrorMs: 86_400_000,
      maxBytes: 262_144,
      maxKeys: 100,
    });
  });

  test.each([
    [{ timeoutMs: 0 }, 'jwks.timeoutMs" must be a whole number from 1 to 120000'],
    [{ timeoutMs: 120_001 }, 'jwks.timeoutMs" must be a whole number from 1 to 120000'],
    [{ timeoutMs: 1.5 }, 'jwks.timeoutMs'],
    [{ timeoutMs: '5000' }, 'jwks.timeoutMs'],
    [{ cooldownMs: -1 }, 'jwks.cooldownMs" must be a whole number from 0 to 86400000'],
    [{ maxAgeMs: 0 }, 'jwks.maxAgeMs'],
    [{ maxAgeMs: 8 * 86_400_000 }, 'jwks.maxAgeMs'],
    [{ staleIfErrorMs: Number.NaN }, 'jwks.staleIfErrorMs'],
    [{ maxBytes: 16 * 1024 * 1024 + 1 }, 'jwks.maxBytes'],
    [{ maxKeys: 0 }, 'jwks.maxKeys'],
    [{ maxkeys: 10 }, 'jwks.maxkeys" is not a known option'],
    [{ onKeySetEvent: 'log' }, 'jwks.onKeySetEvent" must be a function'],
    [[], 'option "jwks" must be an object'],
    [null, 'option "jwks" must be an object'],
  ])('%j is refused when the gate is created', (jwks, message) => {
    expect(() => createTokenGate({ audience: AUDIENCE, jwks: jwks as never })).toThrow(message);
  });

  test('the bounds themselves are accepted', () => {
    expect(() =>
      parseKeySetOptions({ timeoutMs: 1, cooldownMs: 0, maxAgeMs: 1, staleIfErrorMs: 0, maxBytes: 1, maxKeys: 1 }),
    ).not.toThrow();
    expect(() => parseKeySetOptions({ timeoutMs: 120_000, maxBytes: 16 * 1024 * 1024, maxKeys: 10_000 })).not.toThrow();
  });
});

describe('onKeySetEvent cannot break verification', () => {
  test('a throwing observer: keys still resolve, failures still answer 503', async () => {
    const key = await makeSigningKey();
    const server = await startJwksServer({ keys: [key.jwk] });
    try {
      let calls = 0;
      const options = parseKeySetOptions({
        onKeySetEvent: () => {
          calls += 1;
          throw new Error('observer failed');
        },
      });
      const clock = new ManualClock();
      const good = new RemoteKeySet(server.uri, options, clock.now, clock.schedule);
      await expectKeys(good.getKeys('ES256', key.kid), key.jwk);
      server.answer = 'error';
      const failing = new RemoteKeySet(server.uri, options, clock.now, clock.schedule);
      await expect(failing.getKeys('ES256', key.kid)).rejects.toMatchObject({
        status: 503,
        reason: 'jwks_unavailable',
      });
      expect(calls).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('a rejecting async observer causes no unhandled rejection', async () => {
    const key = await makeSigningKey();
    const server = await startJwksServer({ keys: [key.jwk] });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const options = parseKeySetOptions({
        onKeySetEvent: async () => Promise.reject(new Error('async observer failed')),
      });
      await expectKeys(new RemoteKeySet(server.uri, options).getKeys('ES256', key.kid), key.jwk);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await server.close();
    }
  });

  test('every gate sharing a set observes its events, each function once', async () => {
    const key = await makeSigningKey();
    const server = await startJwksServer({ keys: [key.jwk] });
    try {
      const seenA: KeySetEvent[] = [];
      const seenB: KeySetEvent[] = [];
      const onA = (e: KeySetEvent) => seenA.push(e);
      const a = keySetFor(server.uri, parseKeySetOptions({ onKeySetEvent: onA }));
      const b = keySetFor(server.uri, parseKeySetOptions({ onKeySetEvent: (e: KeySetEvent) => seenB.push(e) }));
      const again = keySetFor(server.uri, parseKeySetOptions({ onKeySetEvent: onA }));
      await a.getKeys('ES256', key.kid);
      await b.getKeys('ES256', key.kid);
      await again.getKeys('ES256', key.kid);
      expect(server.hits).toBe(1);
      expect(seenA).toEqual([{ type: 'fetched', uri: server.uri, keys: 1, skipped: 0 }]);
      expect(seenB).toEqual(seenA);
    } finally {
      await server.close();
    }
  });
});

describe('observers live as long as their gate', () => {
  /** A full collection on demand: V8's gc, reached without starting Node with --expose-gc. */
  function collector(): () => void {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  test('verifyAccessToken with fresh options each call leaves no observer behind once the options are dropped', async () => {
    const gc = collector();
    const key = await makeSigningKey();
    const server = await startJwksServer({ keys: [key.jwk] });
    try {
      const token = await signAccessToken(key);
      let calls = 0;
      const jwks = { cooldownMs: 0, timeoutMs: 4321 };
      for (let i = 0; i < 200; i += 1) {
        // A new options object (and so a new gate) each call, each with its own observer.
        await verifyAccessToken(token, {
          audience: AUDIENCE,
          issuer: ISSUER,
          jwksUri: server.uri,
          jwks: { ...jwks, onKeySetEvent: () => (calls += 1) },
        });
      }
      const shared = keySetFor(server.uri, parseKeySetOptions(jwks)) as RemoteKeySet;
      for (let i = 0; i < 3; i += 1) {
        await tick();
        gc();
      }
      const before = calls;
      // A refetch (an unknown kid, no cooldown) reaches no observer of a gate that is gone.
      await expect(shared.getKeys('ES256', 'unknown-kid')).rejects.toMatchObject({ reason: 'key_not_found' });
      expect(server.hits).toBe(2);
      expect(calls).toBe(before);
      expect(shared.observerCount).toBe(0);
    } finally {
      await server.close();
    }
  });

  test('a gate that is still referenced keeps observing', async () => {
    const key = await makeSigningKey();
    const server = await startJwksServer({ keys: [key.jwk] });
    try {
      const seen: KeySetEvent[] = [];
      const gate = createTokenGate({
        audience: AUDIENCE,
        issuer: ISSUER,
        jwksUri: server.uri,
        jwks: { timeoutMs: 4322, onKeySetEvent: (e) => seen.push(e) },
      });
      collector()();
      await gate.verify(await signAccessToken(key));
      expect(seen).toEqual([expect.objectContaining({ type: 'fetched' })]);
    } finally {
      await server.close();
    }
  });
});
