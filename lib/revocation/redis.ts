/**
 * Redis revocation store (`express-token-gate/redis`): one shared list for every instance of an
 * API. Costs, freshness and failure policy as users see them: README, "Logout and many instances".
 *
 * Invariants: node-redis (an optional peer dependency) is loaded only when a store is created from
 * a `url`; a check is at most one command and every command has a deadline; a "not revoked"
 * answer is reused only while the events subscription is up; after a failure, checks fail at once
 * for a second, then one probe goes out.
 */
import { LRUCache } from 'lru-cache';
import { OptionsError } from '../errors';
import type { RevocationStore } from './store';

/**
 * The part of a node-redis (5 or 6) client this store uses. Pass your own connected client as
 * `client`; it stays yours (`close()` leaves it open) and needs its own `'error'` listener.
 */
export interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(overrides?: Record<string, unknown>): RedisClientLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  destroy(): unknown;
  readonly isReady: boolean;
}

export interface RedisRevocationStoreOptions {
  /** `redis://` or `rediss://` URL; the store creates and owns its connections. */
  url?: string;
  /** A connected node-redis client instead of `url`; the store adds one subscriber connection of its own. */
  client?: RedisClientLike;
  /** Prefix of the keys (and of the `events` channel). Default `'token-gate:revoked:'`. */
  keyPrefix?: string;
  /** Deadline of one Redis command, in ms. Default 500. */
  timeoutMs?: number;
  /** How long a "not revoked" answer is reused, in ms (0: ask on every check). Default 1000. */
  cacheMs?: number;
}

/** A Redis store: `ready` resolves once the events subscription is active (for tests and readiness probes). */
export interface RedisRevocationStore extends RevocationStore {
  readonly ready: Promise<void>;
}

const KNOWN_KEYS = new Set(['url', 'client', 'keyPrefix', 'timeoutMs', 'cacheMs']);
/** Answers kept per instance; an evicted one is asked again. */
const LOCAL_ENTRIES = 10_000;
/** After a failure, checks fail without a command for this long, then one probe goes out. */
const PROBE_INTERVAL_MS = 1000;
/** node-redis's own queue never grows past this while Redis is slow. */
const QUEUE_LIMIT = 10_000;
const EVENT = /^([0-9]{1,16}) (\S{1,300})$/;

function loadRedis(): { createClient(options: Record<string, unknown>): RedisClientLike } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('redis') as { createClient(options: Record<string, unknown>): RedisClientLike };
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') {
      throw new Error(
        'express-token-gate/redis needs the `redis` package (node-redis), an optional peer dependency: npm install redis',
      );
    }
    throw error;
  }
}

function bounded(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptionsError(name, `must be a whole number of milliseconds from ${min} to ${max}`);
  }
  return value;
}

function parseUrl(value: unknown): string {
  if (typeof value !== 'string') throw new OptionsError('url', 'must be a redis:// or rediss:// URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError('url', 'is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new OptionsError('url', 'must use redis:// or rediss://');
  }
  return value;
}

function isClient(value: unknown): value is RedisClientLike {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as Record<string, unknown>;
  return typeof client.sendCommand === 'function' && typeof client.duplicate === 'function';
}

/** Settles like `promise`, or rejects after `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * A revocation store in Redis, shared by every instance that uses the same Redis and `keyPrefix`.
 *
 * @example
 * const { redisRevocationStore } = require('express-token-gate/redis');
 * const revocations = createRevocationList({ store: redisRevocationStore({ url: process.env.REDIS_URL }) });
 */
export function redisRevocationStore(options: RedisRevocationStoreOptions): RedisRevocationStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object with url or client');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new OptionsError(key, 'is not a known option');
  }
  if ((options.url === undefined) === (options.client === undefined)) {
    throw new OptionsError('url', 'or client is required (one of them, not both)');
  }
  if (options.client !== undefined && !isClient(options.client)) {
    throw new OptionsError('client', 'must be a node-redis client (createClient from the redis package)');
  }
  const keyPrefix = options.keyPrefix ?? 'token-gate:revoked:';
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 100) {
    throw new OptionsError('keyPrefix', 'must be a string of at most 100 characters');
  }
  const timeoutMs = bounded('timeoutMs', options.timeoutMs, 500, 1, 60_000);
  const cacheMs = bounded('cacheMs', options.cacheMs, 1000, 0, 60_000);
  const url = options.url === undefined ? undefined : parseUrl(options.url);
  const channel = `${keyPrefix}events`;

  const ownClient = url !== undefined;
  const reconnect = (retries: number) => Math.min(50 * 2 ** retries, 2000);
  const client: RedisClientLike = ownClient
    ? loadRedis().createClient({
        url,
        disableOfflineQueue: true,
        commandsQueueMaxLength: QUEUE_LIMIT,
        socket: { connectTimeout: Math.max(timeoutMs, 1000), reconnectStrategy: reconnect },
      })
    : options.client!;
  // Subscribed connections take no other commands: events get a connection of their own, with
  // the client's settings (an own client's reconnection strategy included).
  const subscriber = client.duplicate();
  // node-redis emits 'error' on every failed (re)connection; without a listener that would crash
  // the process. The failures reach callers as rejected commands instead.
  if (ownClient) client.on('error', () => {});
  subscriber.on('error', () => {});

  // id → epoch ms until which it is known revoked (from a revocation here, an event or an answer).
  const revoked = new LRUCache<string, number>({ max: LOCAL_ENTRIES });
  // id → epoch ms when Redis was asked and said "not revoked".
  const clear = new LRUCache<string, number>({ max: LOCAL_ENTRIES });
  const pending = new Map<string, Promise<boolean>>();
  let failedAt: number | undefined;
  let probing = false;
  let closed = false;

  function onEvent(message: string): void {
    const event = EVENT.exec(message);
    if (event === null) return;
    const [, until, id] = event as unknown as [string, string, string];
    revoked.set(id, Math.max(Number(until), revoked.get(id) ?? 0));
    clear.delete(id);
  }

  const connected = ownClient ? client.connect() : Promise.resolve();
  const ready = (async () => {
    await Promise.all([connected, subscriber.connect()]);
    await subscriber.subscribe(channel, onEvent);
  })();
  // Until Redis answers, checks fail (and the list applies its policy); nothing waits for this.
  ready.catch(() => {});

  function unavailable(): Error {
    return new Error(closed ? 'The Redis revocation store is closed' : 'Redis is unavailable (retrying)');
  }

  /** Sends one command under the deadline, failing fast while Redis is known to be down. */
  function send(args: string[]): Promise<unknown> {
    if (closed) return Promise.reject(unavailable());
    const probe = failedAt !== undefined;
    if (probe && (probing || Date.now() - failedAt! < PROBE_INTERVAL_MS)) return Promise.reject(unavailable());
    probing = probe;
    let reply: Promise<unknown>;
    try {
      reply = withDeadline(client.sendCommand(args), timeoutMs);
    } catch (error) {
      reply = Promise.reject(error);
    }
    return reply.then(
      (value) => {
        if (probe) probing = false;
        failedAt = undefined;
        return value;
      },
      (error: unknown) => {
        if (probe) probing = false;
        failedAt = Date.now();
        throw error;
      },
    );
  }

  function has(id: string, expiresAt: number): boolean | Promise<boolean> {
    const now = Date.now();
    const until = revoked.get(id);
    if (until !== undefined) {
      if (until > now) return true;
      revoked.delete(id);
    }
    if (cacheMs > 0 && subscriber.isReady) {
      const askedAt = clear.get(id);
      if (askedAt !== undefined && now - askedAt < cacheMs) return false;
    }
    let answer = pending.get(id);
    if (answer === undefined) {
      answer = send(['EXISTS', keyPrefix + id])
        .then((reply) => {
          // EXISTS answers 1 or 0 (RESP2 and RESP3 alike).
          if (Number(reply) > 0) {
            revoked.set(id, expiresAt);
            return true;
          }
          // Dated from the question, so the answer is never trusted past `cacheMs` after a
          // revocation that Redis saw after answering it.
          if (cacheMs > 0 && !revoked.has(id)) clear.set(id, now);
          return false;
        })
        .finally(() => pending.delete(id));
      pending.set(id, answer);
    }
    return answer;
  }

  async function add(id: string, expiresAt: number): Promise<void> {
    const ttl = Math.ceil(expiresAt - Date.now());
    if (!(ttl > 0)) return;
    // Sent in the same tick, so node-redis writes both in one round trip. A lost PUBLISH costs
    // only speed: other instances still find the key once their cached answer ages out.
    const stored = send(['SET', keyPrefix + id, '1', 'PX', String(ttl)]);
    const published = send(['PUBLISH', channel, `${expiresAt} ${id}`]).catch(() => {});
    await stored;
    revoked.set(id, expiresAt);
    clear.delete(id);
    await published;
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    revoked.clear();
    clear.clear();
    for (const connection of ownClient ? [subscriber, client] : [subscriber]) {
      try {
        connection.destroy();
      } catch {
        // Already closed.
      }
    }
  }

  return { add, has, close, ready };
}
