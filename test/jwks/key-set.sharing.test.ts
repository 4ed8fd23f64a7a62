import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import request from 'supertest';
import { createTokenGate, verifyAccessToken, type TokenGate } from '../../lib';
import { keySetFor, registeredKeySets, RemoteKeySet } from '../../lib/jwks/key-set';
import { parseKeySetOptions } from '../../lib/jwks/options';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';
import {
  type JwksServer,
  makeSigningKey,
  signAccessToken,
  type SigningKey,
  startJwksServer,
} from '../helpers/jwks-server';
import { keySetFixture, xOf, type Fixture } from '../helpers/key-set';

describe('one key set per jwksUri per process', () => {
  let server: JwksServer;
  let key: SigningKey;
  beforeEach(async () => {
    key = await makeSigningKey();
    server = await startJwksServer({ keys: [key.jwk] });
  });
  afterEach(() => server.close());

  test('keySetFor returns the same instance for the same URI and limits', () => {
    const options = parseKeySetOptions(undefined);
    const a = keySetFor(server.uri, options);
    expect(keySetFor(server.uri, parseKeySetOptions({}))).toBe(a);
    // The same URL spelt differently (scheme case) is the same key set.
    expect(keySetFor(server.uri.replace('http:', 'HTTP:'), options)).toBe(a);
  });

  test('gates with different limits get separate sets, so none runs with the limits of another', () => {
    const a = keySetFor(server.uri, parseKeySetOptions({}));
    const b = keySetFor(server.uri, parseKeySetOptions({ cooldownMs: 1000 }));
    expect(b).not.toBe(a);
  });

  test('100 gates on 100 routes plus verifyAccessToken fetch the JWKS once', async () => {
    const app = express();
    const options = { audience: AUDIENCE, issuer: ISSUER, jwksUri: server.uri };
    for (let i = 0; i < 100; i += 1) {
      app.get(`/r${i}`, createTokenGate(options).requireAuth(), (_req, res) => {
        res.json({ ok: true });
      });
    }
    const token = await signAccessToken(key);
    for (const i of [0, 17, 42, 99]) {
      const response = await request(app).get(`/r${i}`).set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(200);
    }
    await expect(verifyAccessToken(token, { ...options, cache: false })).resolves.toMatchObject({ aud: AUDIENCE });
    expect(server.hits).toBe(1);
  });

  test('an isolated RemoteKeySet does not share its cache with the registry', async () => {
    const options = parseKeySetOptions({});
    const shared = keySetFor(server.uri, options);
    const isolated = new RemoteKeySet(server.uri, options);
    await shared.getKeys('ES256', key.kid);
    await isolated.getKeys('ES256', key.kid);
    expect(isolated).not.toBe(shared);
    expect(server.hits).toBe(2);
  });
});

describe('concurrent misses share one fetch', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await keySetFixture();
  });
  afterEach(() => f.server.close());

  test('50 concurrent first requests cause a single fetch and all get the key', async () => {
    f.server.answer = 'slow';
    const pending = Array.from({ length: 50 }, () => f.set.getKeys('ES256', f.key.kid));
    await f.server.waitForHits(1);
    f.server.release();
    const keys = await Promise.all(pending);
    expect(new Set(await Promise.all(keys.map(xOf)))).toEqual(new Set([f.key.jwk.x]));
    expect(f.server.hits).toBe(1);
  });

  test('concurrent first requests that fail share the failure: one fetch, every caller gets 503', async () => {
    f.server.answer = 'error';
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => f.set.getKeys('ES256', f.key.kid)));
    for (const result of results) {
      expect(result).toMatchObject({ status: 'rejected', reason: { status: 503, reason: 'jwks_unavailable' } });
    }
    expect(f.server.hits).toBe(1);
  });
});

describe('the whole set is cached, not each kid', () => {
  test('three kids from one document cost one fetch', async () => {
    const keys = [await makeSigningKey('a'), await makeSigningKey('b'), await makeSigningKey('c')];
    const server = await startJwksServer({ keys: keys.map((k) => k.jwk) });
    try {
      const set = new RemoteKeySet(server.uri, parseKeySetOptions({}));
      for (const k of keys) expect(await xOf(await set.getKeys('ES256', k.kid))).toBe(k.jwk.x);
      expect(server.hits).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('the fetch request itself', () => {
  test('asks for JSON and carries no credentials or cookies', async () => {
    const f = await keySetFixture();
    try {
      await f.set.getKeys('ES256', f.key.kid);
      const headers = f.server.lastRequestHeaders!;
      expect(headers.accept).toContain('application/json');
      expect(headers.authorization).toBeUndefined();
      expect(headers.cookie).toBeUndefined();
    } finally {
      await f.server.close();
    }
  });
});

describe('the registry releases a key set no gate uses', () => {
  /** A full collection on demand: V8's gc, reached without starting Node with --expose-gc. */
  function collector(): () => void {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  }
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  /**
   * Collects until `done` holds, at most 10 rounds. Each collection runs in a task of its own: a
   * WeakRef read keeps its target alive until the task ends, and finalizers run in a later task.
   */
  async function collectUntil(done: () => boolean): Promise<void> {
    const gc = collector();
    for (let round = 0; round < 10; round += 1) {
      await tick();
      gc();
      await tick();
      if (done()) return;
    }
  }
  const gateOn = (jwksUri: string) =>
    createTokenGate({ audience: AUDIENCE, issuer: ISSUER, jwksUri, cache: false, logger: false });
  /** More sets than the registry keeps alive without a gate, each for its own URI. */
  const churn = (name: string) => {
    for (let i = 0; i < 40; i += 1) keySetFor(`https://${name}-${i}.example/jwks.json`, parseKeySetOptions(undefined));
  };

  test('a set whose gates are gone is collected, and its registry entry removed', async () => {
    let gate: TokenGate | undefined = gateOn('https://gone.example/jwks.json');
    const ref = new WeakRef(gate.keySet);
    gate = undefined;
    churn('released');
    const peak = registeredKeySets();
    await collectUntil(() => ref.deref() === undefined && registeredKeySets() < peak - 20);
    expect(ref.deref()).toBeUndefined();
    expect(registeredKeySets()).toBeLessThan(peak - 20);
  });

  test('a set a live gate holds is kept and shared, however many others come and go', async () => {
    const gate = gateOn('https://kept.example/jwks.json');
    churn('kept');
    const peak = registeredKeySets();
    await collectUntil(() => registeredKeySets() < peak - 20);
    expect(registeredKeySets()).toBeLessThan(peak - 20);
    expect(keySetFor('https://kept.example/jwks.json', parseKeySetOptions(undefined))).toBe(gate.keySet);
  });
});
