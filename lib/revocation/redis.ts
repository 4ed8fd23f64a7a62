/**
 * Redis revocation store (`express-token-gate/redis`): one shared list for every instance of an
 * API. Costs, freshness and failure policy as users see them: docs/logout.md.
 *
 * Invariants: node-redis (an optional peer dependency) is loaded only when a store is created from
 * a `url`; a check is at most one command and every command has a deadline; a "not revoked"
 * answer is reused only if it was asked while the events subscription was confirmed (Redis
 * answered the SUBSCRIBE) and that subscription still stands; a refused or lost subscription is
 * retried on a fresh connection and reported; after a failure, checks fail at once for a second,
 * then one probe goes out.
 */
import { LRUCache } from 'lru-cache';
import { revocationStoreChannel, type RevocationStoreMessage } from '../diagnostics';
import { OptionsError, rejectUnknownKeys } from '../errors';
import { consoleLogger, type Logger } from '../jwks/warn';
import type { RevocationStore } from './store';
import { withDeadline } from '../net/deadline';
import { checkRedisConnection, checkRedisOptionsObject, loadRedis, parseRedisUrl } from '../net/redis';

/**
 * The part of a node-redis (5 or 6) client this store uses. Pass your own connected client as
 * `client`; it stays yours (`close()` leaves it open) and needs its own `'error'` listener.
 */
export interface RedisClientLike {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(overrides?: Record<string, unknown>): RedisClientLike;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  /** `'error'` and `'end'` are listened to: on the store's subscriber connections, they mean the subscription is gone. */
  on(event: string, listener: (...args: any[]) => void): unknown;
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
  /**
   * Where a refused or lost subscription and a failed `PUBLISH` are reported (one line when it
   * starts, one when the subscription is back): a function or an object with `warn`. Default
   * `console.warn`; `false` silences it.
   */
  logger?: Logger | false;
}

/**
 * A Redis store. `ready` resolves at the first confirmed events subscription and rejects if Redis
 * refuses that first `SUBSCRIBE` (the store keeps retrying either way): for tests and readiness probes.
 */
export interface RedisRevocationStore extends RevocationStore {
  readonly ready: Promise<void>;
}

const KNOWN_KEYS = new Set(['url', 'client', 'keyPrefix', 'timeoutMs', 'cacheMs', 'logger']);
/** Answers kept per instance; an evicted one is asked again. */
const LOCAL_ENTRIES = 10_000;
/** After a failure, checks fail without a command for this long, then one probe goes out. */
const PROBE_INTERVAL_MS = 1000;
/** A refused or failed subscription is tried again after 1 s, 2 s, 4 s… at most this long. */
const SUBSCRIBE_RETRY_MAX_MS = 10_000;
/** node-redis's own queue never grows past this while Redis is slow. */
const QUEUE_LIMIT = 10_000;
const EVENT = /^([0-9]{1,16}) (\S{1,300})$/;

function bounded(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptionsError(name, `must be a whole number of milliseconds from ${min} to ${max}`);
  }
  return value;
}

function parseLogger(value: unknown): Logger | undefined {
  if (value === undefined) return consoleLogger;
  if (value === false) return undefined;
  if (typeof value === 'function') return value as Logger;
  if (typeof value === 'object' && value !== null && typeof (value as { warn?: unknown }).warn === 'function') {
    return value as Logger;
  }
  throw new OptionsError('logger', 'must be false, a function or an object with a warn method (such as console)');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A revocation store in Redis, shared by every instance that uses the same Redis and `keyPrefix`.
 *
 * @example
 * const { redisRevocationStore } = require('express-token-gate/redis');
 * const revocations = createRevocationList({ store: redisRevocationStore({ url: process.env.REDIS_URL }) });
 */
export function redisRevocationStore(options: RedisRevocationStoreOptions): RedisRevocationStore {
  checkRedisOptionsObject(options);
  rejectUnknownKeys(options, KNOWN_KEYS);
  const keyPrefix = checkRedisConnection(options, ['sendCommand', 'duplicate'], 'token-gate:revoked:');
  const timeoutMs = bounded('timeoutMs', options.timeoutMs, 500, 1, 60_000);
  const cacheMs = bounded('cacheMs', options.cacheMs, 1000, 0, 60_000);
  const url = options.url === undefined ? undefined : parseRedisUrl(options.url);
  const logger = parseLogger(options.logger);
  const channel = `${keyPrefix}events`;

  const ownClient = url !== undefined;
  const reconnect = (retries: number) => Math.min(50 * 2 ** retries, 2000);
  const connectTimeoutMs = Math.max(timeoutMs, 1000);
  const client: RedisClientLike = ownClient
    ? loadRedis<RedisClientLike>().createClient({
        url,
        disableOfflineQueue: true,
        commandsQueueMaxLength: QUEUE_LIMIT,
        socket: { connectTimeout: connectTimeoutMs, reconnectStrategy: reconnect },
      })
    : options.client!;
  // node-redis emits 'error' on every failed (re)connection; without a listener that would crash
  // the process. The failures reach callers as rejected commands instead.
  if (ownClient) client.on('error', () => {});

  // id → epoch ms until which it is known revoked (from a revocation here, an event or an answer).
  const revoked = new LRUCache<string, number>({ max: LOCAL_ENTRIES });
  // id → epoch ms when Redis was asked and said "not revoked", while the subscription was confirmed.
  const clear = new LRUCache<string, number>({ max: LOCAL_ENTRIES });
  const pending = new Map<string, Promise<boolean>>();
  let failedAt: number | undefined;
  let probing = false;
  let closed = false;

  // The events subscription. Subscribed connections take no other commands, so events get a
  // connection of their own (a duplicate: the client's settings). Each attempt is a fresh
  // connection and a SUBSCRIBE whose reply is awaited, so "confirmed" never rests on a
  // resubscription node-redis may have made, or had refused, on its own.
  let subscriber: RedisClientLike | undefined;
  let confirmed = false;
  // Changes whenever the subscription is confirmed or lost: an answer asked under another
  // generation is not cached, since an event sent meanwhile may have been missed.
  let generation = 0;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let subscriptionWarned = false;
  let publishFailing = false;
  let settleReady: { resolve(): void; reject(error: unknown): void } | undefined;
  const subscribed = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));

  function warn(line: string): void {
    if (logger === undefined) return;
    try {
      if (typeof logger === 'function') logger(line);
      else logger.warn(line);
    } catch {
      // A broken logger must never change an answer.
    }
  }

  function publish(message: RevocationStoreMessage): void {
    if (revocationStoreChannel.hasSubscribers) revocationStoreChannel.publish(message);
  }

  function onEvent(message: string): void {
    const event = EVENT.exec(message);
    if (event === null) return;
    const [, until, id] = event as unknown as [string, string, string];
    revoked.set(id, Math.max(Number(until), revoked.get(id) ?? 0));
    clear.delete(id);
  }

  function drop(connection: RedisClientLike): void {
    if (subscriber === connection) subscriber = undefined;
    try {
      connection.destroy();
    } catch {
      // Already closed.
    }
  }

  /** The subscription on `connection` failed or was lost: no more cached answers, a new attempt later. */
  function subscriptionFailed(connection: RedisClientLike, error: unknown): void {
    if (subscriber !== connection || closed) return;
    drop(connection);
    const wasConfirmed = confirmed;
    if (confirmed) {
      confirmed = false;
      generation++;
      clear.clear();
    }
    // A lost subscription is tried again at once; a failed attempt after 1 s, 2 s, 4 s…
    const retryInMs = wasConfirmed ? 0 : Math.min(PROBE_INTERVAL_MS * 2 ** failures++, SUBSCRIBE_RETRY_MAX_MS);
    publish({ store: 'redis', type: 'subscription-failed', channel, error: describe(error), retryInMs });
    if (!subscriptionWarned) {
      subscriptionWarned = true;
      warn(
        `express-token-gate: the Redis revocation store cannot subscribe to ${channel} (${describe(error)}); ` +
          'until it can, every check asks Redis (no cached "not revoked" answers). Retrying. (logger: false silences this)',
      );
    }
    retryTimer = setTimeout(subscribe, retryInMs);
    retryTimer.unref();
  }

  function subscribe(): void {
    retryTimer = undefined;
    if (closed) return;
    let connection: RedisClientLike;
    try {
      connection = client.duplicate();
    } catch (error) {
      settleReady?.reject(error);
      return;
    }
    subscriber = connection;
    let lose: (error: unknown) => void = () => {};
    const lost = new Promise<never>((_, reject) => (lose = reject));
    lost.catch(() => {});
    let gone = false;
    const onLoss = (error: unknown) => {
      gone = true;
      if (confirmed && subscriber === connection) subscriptionFailed(connection, error);
      else lose(error);
    };
    // Also what keeps node-redis's 'error' events from crashing the process.
    connection.on('error', onLoss);
    connection.on('end', () => onLoss(new Error('the subscriber connection closed')));
    let refusal: unknown;
    void (async () => {
      await Promise.race([withDeadline(connection.connect(), connectTimeoutMs, 'Redis'), lost]);
      const reply = connection.subscribe(channel, onEvent).catch((error: unknown) => {
        // Redis's own answer, not a connection that went away (node-redis emits 'error' first).
        if (!gone) refusal = error;
        throw error;
      });
      await Promise.race([withDeadline(reply, timeoutMs, 'Redis'), lost]);
    })().then(
      () => {
        if (subscriber !== connection || closed) return;
        confirmed = true;
        generation++;
        failures = 0;
        if (subscriptionWarned) {
          subscriptionWarned = false;
          warn(`express-token-gate: the Redis revocation store is subscribed to ${channel} again`);
        }
        publish({ store: 'redis', type: 'subscribed', channel });
        settleReady?.resolve();
        settleReady = undefined;
      },
      (error: unknown) => {
        // The first SUBSCRIBE that Redis answers with an error (an ACL without the channel) rejects `ready`.
        if (refusal !== undefined && subscriber === connection && !closed) {
          settleReady?.reject(refusal);
          settleReady = undefined;
        }
        subscriptionFailed(connection, error);
      },
    );
  }

  const connected = ownClient ? client.connect() : Promise.resolve();
  subscribe();
  const ready = Promise.all([connected, subscribed]).then(() => {});
  // Until Redis answers, checks fail (and the list applies its policy); nothing waits for this.
  ready.catch(() => {});

  function unavailable(): Error {
    return new Error(closed ? 'The Redis revocation store is closed' : 'Redis is unavailable (retrying)');
  }

  /** Whether a command may go out: not while Redis is known down, except one probe a second. */
  function admit(): { probe: boolean } | undefined {
    if (closed) return undefined;
    const probe = failedAt !== undefined;
    if (probe && (probing || Date.now() - failedAt! < PROBE_INTERVAL_MS)) return undefined;
    probing = probe;
    return { probe };
  }

  /** One command under the deadline. */
  function command(args: string[]): Promise<unknown> {
    try {
      return withDeadline(client.sendCommand(args), timeoutMs, 'Redis');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The reply of an admitted command, which tells whether Redis is down. */
  function tracked(reply: Promise<unknown>, probe: boolean): Promise<unknown> {
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

  /** Sends one command under the deadline, failing fast while Redis is known to be down. */
  function send(args: string[]): Promise<unknown> {
    const admitted = admit();
    if (admitted === undefined) return Promise.reject(unavailable());
    return tracked(command(args), admitted.probe);
  }

  function has(id: string, expiresAt: number): boolean | Promise<boolean> {
    const now = Date.now();
    const until = revoked.get(id);
    if (until !== undefined) {
      if (until > now) return true;
      revoked.delete(id);
    }
    const cacheable = cacheMs > 0 && confirmed;
    if (cacheable) {
      const askedAt = clear.get(id);
      if (askedAt !== undefined && now - askedAt < cacheMs) return false;
    }
    let answer = pending.get(id);
    if (answer === undefined) {
      const askedIn = generation;
      answer = send(['EXISTS', keyPrefix + id])
        .then((reply) => {
          // EXISTS answers 1 or 0 (RESP2 and RESP3 alike).
          if (Number(reply) > 0) {
            revoked.set(id, expiresAt);
            return true;
          }
          // Dated from the question, so the answer is never trusted past `cacheMs` after a
          // revocation that Redis saw after answering it; and kept only if the subscription that
          // would have brought such a revocation stood from the question to the answer.
          if (cacheable && generation === askedIn && !revoked.has(id)) clear.set(id, now);
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
    const admitted = admit();
    if (admitted === undefined) throw unavailable();
    // Sent in the same tick, so node-redis writes both in one round trip. The entry is the SET:
    // once it is stored, the revocation holds. A failed PUBLISH costs only speed (other instances
    // find the key once their cached answer ages out, within cacheMs), so it is reported, not
    // thrown, and tells nothing about Redis being down.
    const stored = tracked(command(['SET', keyPrefix + id, '1', 'PX', String(ttl)]), admitted.probe);
    const published = command(['PUBLISH', channel, `${expiresAt} ${id}`]).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    await stored;
    revoked.set(id, expiresAt);
    clear.delete(id);
    const failure = await published;
    if (failure === undefined) {
      publishFailing = false;
      return;
    }
    publish({ store: 'redis', type: 'publish-failed', channel, error: describe(failure.error) });
    if (!publishFailing) {
      publishFailing = true;
      warn(
        `express-token-gate: a revocation was recorded in Redis but its PUBLISH on ${channel} failed (${describe(failure.error)}); ` +
          'other instances refuse the token once their cached "not revoked" answer ages out (cacheMs). (logger: false silences this)',
      );
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    confirmed = false;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    settleReady?.reject(unavailable());
    settleReady = undefined;
    revoked.clear();
    clear.clear();
    if (subscriber !== undefined) drop(subscriber);
    if (ownClient) {
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    }
  }

  return { add, has, close, ready };
}
