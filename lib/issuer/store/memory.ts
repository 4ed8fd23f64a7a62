/**
 * The default issuer store: bounded maps in this process. Right for one instance; with several
 * behind a load balancer a nonce issued by one must be taken by another, and a logout must reach
 * all of them, which takes a shared store (`redisIssuerStore` from `express-token-gate/redis`).
 *
 * Full means full: when a map holds its maximum of live entries, a new nonce, session or counter is
 * refused (`IssuerStoreUnavailableError`, a 503 with `Retry-After`) instead of pushing out someone
 * else's: evicting would let a flood of requests push out other wallets' pending logins or reset
 * their rate counters, which is worse than a short 503. Ending a session is never refused: an end
 * is what keeps a logged-out session out, so ended sessions may exceed `maxSessions`.
 */
import { IssuerStoreUnavailableError, OptionsError } from '../../errors';
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
  type SessionState,
} from './store';

export interface MemoryIssuerStoreOptions {
  /** Most pending nonces, all wallets together. Default 100000. */
  maxNonces?: number;
  /** Most pending nonces of one wallet; beyond it the wallet's oldest gives way. Default 8. */
  maxNoncesPerWallet?: number;
  /** Most sessions, live or ended, that `createSession` fills up to. Default 100000. */
  maxSessions?: number;
  /** Most rate counters with an open window. Default 100000. */
  maxCounters?: number;
}

/** A memory store: sizes are there for monitoring. */
export interface MemoryIssuerStore extends IssuerStore {
  /** Entries held now; expired ones leave at the next write that finds them. */
  readonly size: { nonces: number; sessions: number; counters: number };
}

const KNOWN_KEYS = new Set(['maxNonces', 'maxNoncesPerWallet', 'maxSessions', 'maxCounters']);

function count(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new OptionsError(name, `must be a whole number from 1 to ${max}`);
  }
  return value;
}

/**
 * Entries that expire, in insertion order. Entries usually live equally long, so the oldest are the
 * first to expire: every write drops expired entries from the front, which costs only what it
 * frees. A full sweep runs when the map is full and some entry may have expired out of order.
 */
class ExpiringMap<V extends { expiresAt: number }> {
  private readonly entries = new Map<string, V>();
  /** No entry expires before this (a lower bound; exact right after a full sweep). */
  private earliest = Infinity;

  constructor(private readonly onDrop: (key: string) => void = () => {}) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.delete(key);
    return undefined;
  }

  /** Adds or replaces `key`, as the newest entry. */
  set(key: string, entry: V): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.earliest = Math.min(this.earliest, entry.expiresAt);
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.onDrop(key);
  }

  /** Drops the oldest entries while they have expired. */
  sweepFront(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.delete(key);
    }
  }

  /** Drops every expired entry, when one may exist; returns the earliest expiry left. */
  sweepAll(now: number): number {
    if (now >= this.earliest) {
      this.earliest = Infinity;
      for (const [key, entry] of this.entries) {
        if (entry.expiresAt <= now) this.delete(key);
        else this.earliest = Math.min(this.earliest, entry.expiresAt);
      }
    }
    return this.earliest;
  }

  clear(): void {
    this.entries.clear();
    this.earliest = Infinity;
  }
}

interface NonceEntry {
  json: string;
  expiresAt: number;
}
interface SessionEntry {
  json: string | undefined;
  expiresAt: number;
  endedAt: number | undefined;
}
interface CounterEntry {
  count: number;
  expiresAt: number;
}

/** The one map key of a wallet's nonce: a length prefix keeps `a`+`bc` apart from `ab`+`c`. */
const nonceId = (walletKey: string, nonce: string) => `${walletKey.length}:${walletKey}${nonce}`;

/**
 * An issuer store in this process's memory, bounded by the options. A wallet's pending nonces are
 * capped at `maxNoncesPerWallet` (its oldest gives way); every other bound refuses when full of
 * live entries, with a 503 whose `Retry-After` waits for the earliest expiry.
 *
 * @example createIssuer({ …, store: memoryIssuerStore({ maxNonces: 10_000 }) })
 */
export function memoryIssuerStore(
  options: MemoryIssuerStoreOptions = {},
  /** @internal The clock (epoch ms), for tests. */
  now: () => number = Date.now,
): MemoryIssuerStore {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new OptionsError(key, 'is not a known option');
  }
  const maxNonces = count('maxNonces', options.maxNonces, 100_000, 10_000_000);
  const perWallet = count(
    'maxNoncesPerWallet',
    options.maxNoncesPerWallet,
    DEFAULT_NONCES_PER_WALLET,
    MAX_NONCES_PER_WALLET,
  );
  const maxSessions = count('maxSessions', options.maxSessions, 100_000, 10_000_000);
  const maxCounters = count('maxCounters', options.maxCounters, 100_000, 10_000_000);

  /** walletKey → its pending nonces, oldest first (each also in `nonces`). */
  const wallets = new Map<string, string[]>();
  /** nonceId → entry; dropping one takes it off its wallet's list. */
  const owner = new Map<string, [walletKey: string, nonce: string]>();
  const nonces = new ExpiringMap<NonceEntry>((id) => {
    const [walletKey, nonce] = owner.get(id)!;
    owner.delete(id);
    const list = wallets.get(walletKey)!;
    list.splice(list.indexOf(nonce), 1);
    if (list.length === 0) wallets.delete(walletKey);
  });
  const sessions = new ExpiringMap<SessionEntry>();
  const counters = new ExpiringMap<CounterEntry>();
  let closed = false;

  function open(): void {
    if (closed) throw new IssuerStoreUnavailableError('The issuer store is closed', 1);
  }

  /** Makes room in a full map, or refuses with a 503 until its earliest entry expires. */
  function room(map: ExpiringMap<{ expiresAt: number }>, max: number, at: number, what: string): void {
    if (map.size < max) return;
    const earliest = map.sweepAll(at);
    if (map.size < max) return;
    throw new IssuerStoreUnavailableError(
      `The issuer holds too many ${what} right now: try again shortly`,
      (earliest - at) / 1000,
    );
  }

  return {
    async issueNonce(walletKey, nonce, record, ttlMs) {
      checkKey('walletKey', walletKey);
      checkKey('nonce', nonce);
      const json = recordJson(record);
      checkDuration('ttlMs', ttlMs);
      open();
      const at = now();
      nonces.sweepFront(at);
      const id = nonceId(walletKey, nonce);
      // Drops the wallet's expired nonces, so that only live ones count against its cap.
      for (const pending of [...(wallets.get(walletKey) ?? [])]) nonces.get(nonceId(walletKey, pending), at);
      const list = wallets.get(walletKey) ?? [];
      if (!owner.has(id)) {
        // Replacing or pushing out one of the wallet's own nonces keeps the total as it is.
        if (list.length >= perWallet) nonces.delete(nonceId(walletKey, list[0]!));
        else room(nonces, maxNonces, at, 'pending nonces');
      } else {
        list.splice(list.indexOf(nonce), 1);
      }
      list.push(nonce);
      wallets.set(walletKey, list);
      owner.set(id, [walletKey, nonce]);
      nonces.set(id, { json, expiresAt: at + ttlMs });
    },

    async consumeNonce(walletKey, nonce) {
      open();
      if (!isStoreKey(walletKey) || !isStoreKey(nonce)) return undefined;
      const id = nonceId(walletKey, nonce);
      const entry = nonces.get(id, now());
      if (entry === undefined) return undefined;
      nonces.delete(id);
      return parseRecord(entry.json);
    },

    async pendingNonces(walletKey) {
      open();
      if (!isStoreKey(walletKey)) return [];
      const at = now();
      const listed = [];
      for (const nonce of [...(wallets.get(walletKey) ?? [])].reverse()) {
        const entry = nonces.get(nonceId(walletKey, nonce), at);
        if (entry !== undefined) listed.push({ nonce, record: parseRecord(entry.json) });
      }
      return listed;
    },

    async createSession(sid, record, expiresAt) {
      checkKey('sid', sid);
      const json = recordJson(record);
      checkTime('expiresAt', expiresAt);
      open();
      const at = now();
      sessions.sweepFront(at);
      const current = sessions.get(sid, at);
      if (current?.endedAt !== undefined || !(expiresAt > at)) return false;
      if (current === undefined) room(sessions, maxSessions, at, 'sessions');
      sessions.set(sid, {
        json,
        expiresAt: Math.min(expiresAt, current?.expiresAt ?? Infinity),
        endedAt: undefined,
      });
      return true;
    },

    async getSession(sid) {
      open();
      if (!isStoreKey(sid)) return undefined;
      const entry = sessions.get(sid, now());
      if (entry === undefined) return undefined;
      const state: SessionState = { expiresAt: entry.expiresAt };
      if (entry.json !== undefined) state.record = parseRecord(entry.json);
      if (entry.endedAt !== undefined) state.endedAt = entry.endedAt;
      return state;
    },

    async endSession(sid, expiresAt) {
      checkKey('sid', sid);
      checkTime('expiresAt', expiresAt);
      open();
      const at = now();
      sessions.sweepFront(at);
      const current = sessions.get(sid, at);
      const until = Math.max(expiresAt, current?.expiresAt ?? -Infinity);
      // A session past its expiry is refused anyway: nothing to remember.
      if (!(until > at)) return;
      sessions.set(sid, { json: current?.json, expiresAt: until, endedAt: current?.endedAt ?? at });
    },

    async hit(key, windowMs) {
      checkKey('key', key);
      checkDuration('windowMs', windowMs);
      open();
      const at = now();
      counters.sweepFront(at);
      const current = counters.get(key, at);
      if (current !== undefined) {
        current.count += 1;
        return { count: current.count, resetAt: current.expiresAt };
      }
      room(counters, maxCounters, at, 'rate counters');
      const entry = { count: 1, expiresAt: at + windowMs };
      counters.set(key, entry);
      return { count: 1, resetAt: entry.expiresAt };
    },

    async close() {
      closed = true;
      nonces.clear();
      wallets.clear();
      owner.clear();
      sessions.clear();
      counters.clear();
    },

    get size() {
      return { nonces: nonces.size, sessions: sessions.size, counters: counters.size };
    },
  };
}
