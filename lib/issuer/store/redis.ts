/**
 * Redis issuer store (`express-token-gate/redis`): one set of nonces, sessions and rate counters
 * for every instance of an issuer.
 *
 * Invariants: node-redis (an optional peer dependency) is loaded only when a store is created from
 * a `url`; each method is one Lua script, so it is atomic against every other instance; each call
 * has one deadline (`timeoutMs`) covering the wait for the connection and the reply; a failure is
 * an `IssuerStoreUnavailableError` (503). Needs Redis 5 or later (the scripts read `TIME`).
 *
 * Keys, under `keyPrefix`:
 * - `nonces:<walletKey>`: a hash of the wallet's pending nonces, each field `<nonce>` holding
 *   `<issued µs> <expires ms> <record JSON>` by the Redis clock; the hash expires with its last nonce.
 * - `session:<sid>`: a hash of `record`, `expiresAt` and, once ended, `endedAt`; expires at `expiresAt`.
 * - `rate:<key>`: a counter that expires when its window closes.
 */
import { createHash } from 'node:crypto';
import { IssuerStoreUnavailableError, OptionsError } from '../../errors';
import { DeadlineError, withDeadline } from '../../net/deadline';
import { checkRedisConnection, checkRedisOptionsObject, loadRedis, parseRedisUrl } from '../../net/redis';
import {
  checkDuration,
  checkKey,
  checkTime,
  DEFAULT_NONCES_PER_WALLET,
  isStoreKey,
  MAX_NONCES_PER_WALLET,
  parseRecord,
  recordJson,
  type IssuerStore,
  type PendingNonce,
  type SessionState,
  type StoreRecord,
} from './store';

/**
 * The part of a node-redis (5 or 6) client this store uses. Pass your own connected client as
 * `client`; it stays yours (`close()` leaves it open) and needs its own `'error'` listener.
 */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
  connect(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  destroy(): unknown;
}

export interface RedisIssuerStoreOptions {
  /** `redis://` or `rediss://` URL; the store creates and owns its connection. */
  url?: string;
  /** A connected node-redis client instead of `url`. */
  client?: RedisCommandClient;
  /** Prefix of every key. Default `'token-gate:issuer:'`. */
  keyPrefix?: string;
  /** Deadline of one call (waiting for the connection included), in ms. Default 500. */
  timeoutMs?: number;
  /** Most pending nonces of one wallet; beyond it the wallet's oldest gives way. Default 8. */
  maxNoncesPerWallet?: number;
}

/** A Redis store: `ready` resolves once connected (for tests and readiness probes). */
export interface RedisIssuerStore extends IssuerStore {
  readonly ready: Promise<void>;
}

const KNOWN_KEYS = new Set(['url', 'client', 'keyPrefix', 'timeoutMs', 'maxNoncesPerWallet']);
/** node-redis's own queue never grows past this while Redis is slow. */
const QUEUE_LIMIT = 10_000;

/** The Redis clock in ms (`now`) and µs (`stamp`), read inside a script. */
const CLOCK = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stamp = tonumber(time[1]) * 1000000 + tonumber(time[2])
`;

class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/**
 * KEYS[1]: the wallet's nonces. ARGV: nonce, record JSON, ttl ms, most per wallet. Drops expired
 * and malformed fields, then the oldest beyond the cap, then writes the nonce; the hash lives as
 * long as its last nonce.
 */
const ISSUE_NONCE = new Script(`${CLOCK}
local ttl = tonumber(ARGV[3])
local most = tonumber(ARGV[4])
local live = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] ~= ARGV[1] then
    local issued, expires = string.match(fields[i + 1], '^(%d+) (%d+) ')
    if issued and tonumber(expires) > now then
      table.insert(live, { fields[i], tonumber(issued), tonumber(expires) })
    else
      redis.call('HDEL', KEYS[1], fields[i])
    end
  end
end
table.sort(live, function(a, b) return a[2] < b[2] end)
local latest = now + ttl
for i = 1, #live do
  if i <= #live - (most - 1) then
    redis.call('HDEL', KEYS[1], live[i][1])
  elseif live[i][3] > latest then
    latest = live[i][3]
  end
end
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d %d ', stamp, now + ttl) .. ARGV[2])
redis.call('PEXPIREAT', KEYS[1], string.format('%d', latest))
return 1
`);

/** KEYS[1]: the wallet's nonces. ARGV: nonce. Takes that one field; its record while unexpired. */
const CONSUME_NONCE = new Script(`
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
${CLOCK}
local expires, record = string.match(value, '^%d+ (%d+) (.*)$')
if not expires or tonumber(expires) <= now then return false end
return record
`);

/**
 * KEYS[1]: the wallet's nonces. ARGV: most per wallet. Reads, never writes: the live nonces as
 * a flat list of nonce, issued µs and record, at most `most` of them (the newest).
 */
const PENDING_NONCES = new Script(`${CLOCK}
local most = tonumber(ARGV[1])
local live = {}
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local issued, expires, record = string.match(fields[i + 1], '^(%d+) (%d+) (.*)$')
  if issued and tonumber(expires) > now then
    table.insert(live, { fields[i], tonumber(issued), record })
  end
end
table.sort(live, function(a, b) return a[2] > b[2] end)
local reply = {}
for i = 1, math.min(#live, most) do
  table.insert(reply, live[i][1])
  table.insert(reply, string.format('%d', live[i][2]))
  table.insert(reply, live[i][3])
end
return reply
`);

/**
 * KEYS[1]: the session. ARGV: record JSON, expiresAt. 0 when the session has been ended; the
 * earlier expiry stays.
 */
const CREATE_SESSION = new Script(`
if redis.call('HEXISTS', KEYS[1], 'endedAt') == 1 then return 0 end
local expires = tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'expiresAt') or '')
if current and current < expires then expires = current end
redis.call('HSET', KEYS[1], 'record', ARGV[1], 'expiresAt', string.format('%d', expires))
redis.call('PEXPIREAT', KEYS[1], string.format('%d', expires))
return 1
`);

/** KEYS[1]: the session. ARGV: endedAt, expiresAt. The first end stays; the later expiry stays. */
const END_SESSION = new Script(`
local expires = tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'expiresAt') or '')
if current and current > expires then expires = current end
redis.call('HSETNX', KEYS[1], 'endedAt', ARGV[1])
redis.call('HSET', KEYS[1], 'expiresAt', string.format('%d', expires))
redis.call('PEXPIREAT', KEYS[1], string.format('%d', expires))
return 1
`);

/** KEYS[1]: the counter. ARGV: window ms. The first hit opens the window. */
const HIT = new Script(`
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`);

function bounded(name: string, value: unknown, fallback: number, min: number, max: number, unit: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new OptionsError(name, `must be a whole number${unit} from ${min} to ${max}`);
  }
  return value;
}

function malformed(what: string): IssuerStoreUnavailableError {
  return new IssuerStoreUnavailableError(`The issuer store (Redis) holds a malformed ${what}`, 1);
}

/**
 * An issuer store in Redis, shared by every instance that uses the same Redis and `keyPrefix`.
 * Wallets hold at most `maxNoncesPerWallet` pending nonces; nothing else is bounded here but by
 * expiry (bound the traffic with the rate counters, and Redis with `maxmemory`).
 *
 * @example
 * const { redisIssuerStore } = require('express-token-gate/redis');
 * const store = redisIssuerStore({ url: process.env.REDIS_URL });
 */
export function redisIssuerStore(options: RedisIssuerStoreOptions): RedisIssuerStore {
  checkRedisOptionsObject(options);
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new OptionsError(key, 'is not a known option');
  }
  const keyPrefix = checkRedisConnection(options, ['sendCommand'], 'token-gate:issuer:');
  const timeoutMs = bounded('timeoutMs', options.timeoutMs, 500, 1, 60_000, ' of milliseconds');
  const perWallet = bounded(
    'maxNoncesPerWallet',
    options.maxNoncesPerWallet,
    DEFAULT_NONCES_PER_WALLET,
    1,
    MAX_NONCES_PER_WALLET,
    '',
  );
  const url = options.url === undefined ? undefined : parseRedisUrl(options.url);

  const ownClient = url !== undefined;
  const client: RedisCommandClient = ownClient
    ? loadRedis<RedisCommandClient>().createClient({
        url,
        // Without a connection a call fails at once instead of waiting in node-redis's queue.
        disableOfflineQueue: true,
        commandsQueueMaxLength: QUEUE_LIMIT,
        socket: {
          connectTimeout: Math.max(timeoutMs, 1000),
          reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
        },
      })
    : options.client!;
  // node-redis emits 'error' on every failed (re)connection; without a listener that would crash
  // the process. The failures reach callers as rejected calls instead.
  if (ownClient) client.on('error', () => {});
  const connected = ownClient ? client.connect().then(() => undefined) : Promise.resolve();
  // Until Redis answers, calls fail within their deadline; nothing else waits for this.
  connected.catch(() => {});
  let closed = false;

  function open(): void {
    if (closed) throw new IssuerStoreUnavailableError('The issuer store is closed', 1);
  }

  async function evaluate(script: Script, key: string, args: string[]): Promise<unknown> {
    try {
      return await client.sendCommand(['EVALSHA', script.sha, '1', keyPrefix + key, ...args]);
    } catch (error) {
      // A Redis that restarted (or flushed its scripts) has forgotten the script: send it whole.
      if (!/^NOSCRIPT/.test((error as Error).message)) throw error;
      return client.sendCommand(['EVAL', script.source, '1', keyPrefix + key, ...args]);
    }
  }

  /** Sends `command` once connected, under the deadline; every failure becomes a 503 with its cause. */
  async function run(command: () => Promise<unknown>): Promise<unknown> {
    open();
    try {
      return await withDeadline(
        connected.then(() => command()),
        timeoutMs,
        'The issuer store (Redis)',
      );
    } catch (error) {
      const description =
        error instanceof DeadlineError
          ? `The issuer store (Redis) did not answer within ${timeoutMs} ms`
          : closed
            ? 'The issuer store is closed'
            : 'The issuer store (Redis) is unavailable';
      throw new IssuerStoreUnavailableError(description, 1, error);
    }
  }

  function record(json: unknown, what: string): StoreRecord {
    if (typeof json !== 'string') throw malformed(what);
    try {
      const value = parseRecord(json);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
    } catch {
      // Reported below.
    }
    throw malformed(what);
  }

  return {
    ready: connected,

    async issueNonce(walletKey, nonce, value, ttlMs) {
      checkKey('walletKey', walletKey);
      checkKey('nonce', nonce);
      const json = recordJson(value);
      checkDuration('ttlMs', ttlMs);
      await run(() => evaluate(ISSUE_NONCE, `nonces:${walletKey}`, [nonce, json, String(ttlMs), String(perWallet)]));
    },

    async consumeNonce(walletKey, nonce) {
      open();
      // A nonce the store could never have issued is simply not pending.
      if (!isStoreKey(walletKey) || !isStoreKey(nonce)) return undefined;
      const reply = await run(() => evaluate(CONSUME_NONCE, `nonces:${walletKey}`, [nonce]));
      if (reply === null || reply === undefined) return undefined;
      return record(reply, 'nonce');
    },

    async pendingNonces(walletKey) {
      open();
      if (!isStoreKey(walletKey)) return [];
      const reply = await run(() => evaluate(PENDING_NONCES, `nonces:${walletKey}`, [String(perWallet)]));
      if (!Array.isArray(reply) || reply.length % 3 !== 0) throw malformed('nonce list');
      const listed: PendingNonce[] = [];
      for (let i = 0; i < reply.length; i += 3) {
        const nonce: unknown = reply[i];
        if (typeof nonce !== 'string') throw malformed('nonce list');
        listed.push({ nonce, record: record(reply[i + 2], 'nonce') });
      }
      return listed;
    },

    async createSession(sid, value, expiresAt) {
      checkKey('sid', sid);
      const json = recordJson(value);
      checkTime('expiresAt', expiresAt);
      open();
      if (!(expiresAt > Date.now())) return false;
      const reply = await run(() => evaluate(CREATE_SESSION, `session:${sid}`, [json, String(Math.ceil(expiresAt))]));
      return Number(reply) === 1;
    },

    async getSession(sid) {
      open();
      if (!isStoreKey(sid)) return undefined;
      // HMGET answers an array (nil where absent) in RESP2 and RESP3 alike.
      const reply = await run(() =>
        client.sendCommand(['HMGET', `${keyPrefix}session:${sid}`, 'record', 'expiresAt', 'endedAt']),
      );
      if (!Array.isArray(reply) || reply.length !== 3) throw malformed('session');
      const [json, expires, ended] = reply as unknown[];
      if (expires === null || expires === undefined) return undefined;
      const state: SessionState = { expiresAt: Number(expires) };
      if (!Number.isSafeInteger(state.expiresAt)) throw malformed('session');
      if (json !== null && json !== undefined) state.record = record(json, 'session');
      if (ended !== null && ended !== undefined) {
        state.endedAt = Number(ended);
        if (!Number.isSafeInteger(state.endedAt)) throw malformed('session');
      }
      return state;
    },

    async endSession(sid, expiresAt) {
      checkKey('sid', sid);
      checkTime('expiresAt', expiresAt);
      await run(() => evaluate(END_SESSION, `session:${sid}`, [String(Date.now()), String(Math.ceil(expiresAt))]));
    },

    async hit(key, windowMs) {
      checkKey('key', key);
      checkDuration('windowMs', windowMs);
      const reply = await run(() => evaluate(HIT, `rate:${key}`, [String(windowMs)]));
      const [count, ttl] = Array.isArray(reply) ? (reply as unknown[]).map(Number) : [];
      if (!Number.isSafeInteger(count) || !Number.isSafeInteger(ttl)) throw malformed('rate counter');
      return { count: count!, resetAt: Date.now() + ttl! };
    },

    async close() {
      if (closed) return;
      closed = true;
      if (!ownClient) return;
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    },
  };
}
