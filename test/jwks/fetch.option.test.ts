/**
 * `jwks.fetch`: key sets fetch through the application's function (a proxy, mTLS, extra
 * headers), and every bound of a fetch still holds for what that function answers.
 */
import express from 'express';
import request from 'supertest';
import { ProxyAgent } from 'undici';
import { createTokenGate } from '../../lib';
import { keySetFor } from '../../lib/jwks/key-set';
import { parseKeySetOptions } from '../../lib/jwks/options';
import type { FetchFunction } from '../../lib/net/fetch';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy';
import { signAccessToken } from '../helpers/jwks-server';
import { expectKeys, keySetFixture, type Fixture } from '../helpers/key-set';

let f: Fixture;
afterEach(() => f.server.close());

const hostOf = (uri: string) => new URL(uri).host;

/** A stream of `chunk`-sized zero blocks that never ends on its own; counts what was pulled. */
function endlessBody(chunk = 65_536) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.pulled += chunk;
      controller.enqueue(new Uint8Array(chunk));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe('key sets fetch through an HTTP proxy', () => {
  let proxy: ForwardProxy;
  let dispatcher: ProxyAgent;
  beforeEach(async () => {
    proxy = await startForwardProxy();
    dispatcher = new ProxyAgent(proxy.url);
  });
  afterEach(async () => {
    await dispatcher.close();
    await proxy.close();
  });

  test('an undici ProxyAgent as the dispatcher of a custom fetch: the set is fetched through the proxy', async () => {
    const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher } as RequestInit);
    f = await keySetFixture({ fetch: viaProxy });
    await expectKeys(f.set.getKeys('ES256', f.key.kid), f.key.jwk);
    expect(proxy.targets()).toEqual([hostOf(f.server.uri)]);
    expect(f.server.hits).toBe(1);
  });

  test("a gate's jwks.fetch is used for its key set: the token verifies, and the proxy saw the fetch", async () => {
    f = await keySetFixture();
    const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher } as RequestInit);
    const gate = createTokenGate({
      audience: AUDIENCE,
      issuer: ISSUER,
      jwksUri: f.server.uri,
      jwks: { fetch: viaProxy },
    });
    const app = express().get('/me', gate.requireAuth(), (_req, res) => {
      res.json({ ok: true });
    });
    const token = await signAccessToken(f.key);
    await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(proxy.targets()).toEqual([hostOf(f.server.uri)]);
  });
});

describe('what the fetch option is called with, and what it may add', () => {
  test('GET, no redirects, no credentials, a plain headers object and the deadline signal', async () => {
    const calls: Array<[string, RequestInit]> = [];
    f = await keySetFixture({
      fetch: (url, init) => {
        calls.push([url, init]);
        return fetch(url, init);
      },
    });
    await f.set.getKeys('ES256', f.key.kid);
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0]!;
    expect(url).toBe(f.server.uri);
    expect(init).toMatchObject({
      method: 'GET',
      redirect: 'manual',
      credentials: 'omit',
      headers: { accept: 'application/json, application/jwk-set+json' },
    });
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });

  test('a header the function adds reaches the JWKS server', async () => {
    f = await keySetFixture({
      fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'x-api-key': 'k-123' } }),
    });
    await f.set.getKeys('ES256', f.key.kid);
    expect(f.server.lastRequestHeaders?.['x-api-key']).toBe('k-123');
  });
});

describe('the bounds hold for what a custom fetch answers', () => {
  test('a body that never ends is read only until it passes maxBytes', async () => {
    const body = endlessBody();
    f = await keySetFixture({
      fetch: () => Promise.resolve(new Response(body.stream, { headers: { 'content-type': 'application/json' } })),
    });
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('body is larger than 262144 bytes');
    expect(body.seen.cancelled).toBe(true);
    expect(body.seen.pulled).toBeLessThan(1_048_576);
  });

  test('a declared Content-Length over maxBytes is refused before the body is read', async () => {
    const body = endlessBody();
    f = await keySetFixture({
      fetch: () =>
        Promise.resolve(
          new Response(body.stream, { headers: { 'content-type': 'application/json', 'content-length': '99999999' } }),
        ),
    });
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('declared body of 99999999 bytes is larger than 262144');
  });

  test('a function that never answers and ignores the signal still fails after timeoutMs', async () => {
    f = await keySetFixture({ timeoutMs: 2_000, fetch: () => new Promise<Response>(() => undefined) });
    const result = f.set.getKeys('ES256', f.key.kid);
    f.clock.advance(1_999);
    expect(f.eventsOf('failed')).toHaveLength(0);
    f.clock.advance(1);
    await expect(result).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('no complete answer within 2000 ms');
  });

  test('a body that stalls after its first bytes still fails after timeoutMs, and its stream is cancelled', async () => {
    const seen = { pulled: 0 };
    let cancelled!: () => void;
    const whenCancelled = new Promise<void>((resolve) => (cancelled = resolve));
    const stalled = new ReadableStream<Uint8Array>({
      pull(controller) {
        seen.pulled += 1;
        if (seen.pulled === 1) controller.enqueue(new TextEncoder().encode('{"keys":['));
        return new Promise(() => undefined); // and nothing more, ever
      },
      cancel: () => cancelled(),
    });
    f = await keySetFixture({
      timeoutMs: 2_000,
      fetch: () => Promise.resolve(new Response(stalled, { headers: { 'content-type': 'application/json' } })),
    });
    const result = f.set.getKeys('ES256', f.key.kid);
    await new Promise((resolve) => setImmediate(resolve));
    f.clock.advance(2_000);
    await expect(result).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('no complete answer within 2000 ms');
    await whenCancelled; // the stream is let go, not left waiting
    expect(seen.pulled).toBeGreaterThan(0);
  });

  test('a redirect the function follows is refused: the keys at the redirect target are not used', async () => {
    f = await keySetFixture({ fetch: (url, init) => fetch(url, { ...init, redirect: 'follow' }) });
    f.server.answer = 'redirect';
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.server.redirectTargetHits).toBe(1); // the function did follow
    expect(f.eventsOf('failed')[0]!.error).toBe('redirect refused (followed by the fetch option)');
  });

  test.each<[string, unknown]>([
    ['undefined', undefined],
    ['a string', 'ok'],
    ['an object without headers', { status: 200 }],
  ])('an answer that is not a Response (%s) is a failed fetch', async (_what, answer) => {
    f = await keySetFixture({ fetch: () => Promise.resolve(answer as Response) });
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('the fetch option did not return a Response');
  });

  test('a function that throws is a failed fetch with its message', async () => {
    f = await keySetFixture({
      fetch: () => {
        throw new Error('proxy refused');
      },
    });
    await expect(f.set.getKeys('ES256', f.key.kid)).rejects.toMatchObject({ status: 503 });
    expect(f.eventsOf('failed')[0]!.error).toBe('proxy refused');
  });
});

describe('jwks.fetch at startup and in sharing', () => {
  test.each<[string, unknown]>([
    ['a string', 'fetch'],
    ['an object (a dispatcher given as the function)', { dispatch: () => true }],
    ['null', null],
  ])('%s is refused when the gate is created, naming jwks.fetch', (_what, value) => {
    expect(() => createTokenGate({ audience: AUDIENCE, jwks: { fetch: value as never } })).toThrow(
      'option "jwks.fetch" must be a function (url, init) => Promise<Response>',
    );
  });

  test('gates with different fetch functions get separate key sets; the same function shares one', () => {
    const uri = 'https://issuer.example/.well-known/jwks.json';
    const a: FetchFunction = (url, init) => fetch(url, init);
    const b: FetchFunction = (url, init) => fetch(url, init);
    const plain = keySetFor(uri, parseKeySetOptions({}));
    const viaA = keySetFor(uri, parseKeySetOptions({ fetch: a }));
    expect(viaA).not.toBe(plain);
    expect(keySetFor(uri, parseKeySetOptions({ fetch: b }))).not.toBe(viaA);
    expect(keySetFor(uri, parseKeySetOptions({ fetch: a }))).toBe(viaA);
  });
});
