/**
 * The `IssuerStore` port: what the issuer keeps between requests, and shares between its instances
 * when there are several: pending login nonces, sessions, rate counters. Adapters live in their own
 * files (`memory.ts`, `redis.ts`); the issuer never imports one but the default memory store.
 *
 * Records are JSON: a store keeps `JSON.stringify(record)` and gives back its `JSON.parse`, so what
 * comes back is a copy, without `undefined` members, functions or prototypes.
 */

/** A record the store keeps: a plain object that survives a JSON round trip. */
export type StoreRecord = Record<string, unknown>;

/** A pending nonce, as `pendingNonces` lists it. */
export interface PendingNonce {
  nonce: string;
  record: StoreRecord;
}

/** A session as the store knows it. */
export interface SessionState {
  /**
   * What `createSession` stored. Absent only for a session ended here without ever having been
   * created here (a logout reaching a memory store after a restart): still ended, still refused.
   */
  record?: StoreRecord;
  /** Epoch ms after which the store forgets the session (and its end). */
  expiresAt: number;
  /** Epoch ms when `endSession` first ended it; absent while the session is live. */
  endedAt?: number;
}

/** One hit of a rate counter: hits so far in the current window, and when the window closes. */
export interface RateCount {
  count: number;
  /** Epoch ms when this window ends and the count starts again from 1. */
  resetAt: number;
}

/**
 * The issuer's store. Every method is atomic for every instance sharing the store, and settles
 * within a bounded time: a store that cannot answer (unreachable, too slow, closed, full) rejects
 * with `IssuerStoreUnavailableError` (a 503 with `Retry-After`). A bad argument (a programming
 * mistake, not a client's) rejects with a `TypeError` naming it.
 *
 * Keys (`walletKey`, `nonce`, `sid`, a counter's `key`) are strings of 1 to 256 characters. A
 * record's JSON is at most 8 KiB.
 */
export interface IssuerStore {
  /**
   * Keeps `nonce` pending for `walletKey` (the chain and normalised address, e.g.
   * `ethereum:0xabc…`) for `ttlMs`, with `record` (what the login must check against). A wallet
   * holds a few pending nonces at once (8 by default, a login per open tab): beyond that its
   * oldest pending nonce gives way, never another wallet's. Issuing a nonce already pending for
   * the wallet replaces its record and lifetime.
   */
  issueNonce(walletKey: string, nonce: string, record: StoreRecord, ttlMs: number): Promise<void>;
  /**
   * Takes `nonce` for `walletKey`: its record the first time, across every instance, while it has
   * not expired; `undefined` otherwise (unknown, already taken, expired, another wallet's). Only
   * the nonce named is touched: a wrong guess leaves the wallet's pending nonces as they were.
   */
  consumeNonce(walletKey: string, nonce: string): Promise<StoreRecord | undefined>;
  /**
   * The nonces pending for `walletKey` that have not expired, with their records, newest first,
   * without taking any: at most the wallet's cap. A login whose client does not name the nonce it
   * signed tries each, then takes the one that verifies with `consumeNonce`. Empty for a wallet
   * without any (or a key the store could never have issued for).
   */
  pendingNonces(walletKey: string): Promise<PendingNonce[]>;
  /**
   * Stores a live session until `expiresAt` (epoch ms). `false` when nothing was stored: the
   * session `sid` has been ended (an end is final: no later create brings it back) or `expiresAt`
   * has passed. Creating a live session again replaces its record and never extends its expiry:
   * the earlier of the two stays.
   */
  createSession(sid: string, record: StoreRecord, expiresAt: number): Promise<boolean>;
  /** The session `sid`, live or ended, until its expiry; `undefined` when unknown or expired. */
  getSession(sid: string): Promise<SessionState | undefined>;
  /**
   * Ends the session `sid` (known here or not) and remembers the end until `expiresAt` or the
   * session's own expiry, whichever is later. Ending it again keeps the first `endedAt`.
   */
  endSession(sid: string, expiresAt: number): Promise<void>;
  /**
   * Counts one hit on `key` in a fixed window of `windowMs` that opens with the key's first hit;
   * the count is shared by every instance. A window's length is set by the hit that opens it.
   */
  hit(key: string, windowMs: number): Promise<RateCount>;
  /** Releases connections and timers; later calls reject. */
  close(): Promise<void>;
}

/** Longest key, nonce, sid or counter key. */
export const MAX_KEY_LENGTH = 256;
/** Largest record, as JSON (UTF-16 code units, a bound on its bytes / 3). */
export const MAX_RECORD_LENGTH = 8192;
/** Longest nonce lifetime or counter window: one day. */
export const MAX_TTL_MS = 86_400_000;
/** Pending nonces a wallet holds at once, by default. */
export const DEFAULT_NONCES_PER_WALLET = 8;
/** The most pending nonces an adapter lets one wallet hold (`maxNoncesPerWallet`'s bound). */
export const MAX_NONCES_PER_WALLET = 100;

/** True for a key the port accepts. */
export function isStoreKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH;
}

/** Checks a key argument; throws a `TypeError` naming it. */
export function checkKey(name: string, value: unknown): string {
  if (!isStoreKey(value)) throw new TypeError(`${name} must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
  return value;
}

/** Checks a duration argument (whole ms, 1 to a day); throws a `TypeError` naming it. */
export function checkDuration(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_TTL_MS) {
    throw new TypeError(`${name} must be a whole number of milliseconds from 1 to ${MAX_TTL_MS}`);
  }
  return value;
}

/** Checks an epoch-ms argument; throws a `TypeError` naming it. */
export function checkTime(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${name} must be epoch milliseconds`);
  return value;
}

/** The JSON the store keeps for `record`; throws a `TypeError` when it is not a small JSON object. */
export function recordJson(record: unknown): string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new TypeError('record must be a plain object');
  }
  let json: string;
  try {
    json = JSON.stringify(record);
  } catch (error) {
    throw new TypeError(`record must survive JSON.stringify (${(error as Error).message})`);
  }
  if (json.length > MAX_RECORD_LENGTH) {
    throw new TypeError(`record must be at most ${MAX_RECORD_LENGTH} characters as JSON`);
  }
  return json;
}

/** The record a stored JSON string holds. */
export function parseRecord(json: string): StoreRecord {
  return JSON.parse(json) as StoreRecord;
}

/** True for an object with the port's methods. */
export function isIssuerStore(value: unknown): value is IssuerStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return [
    'issueNonce',
    'consumeNonce',
    'pendingNonces',
    'createSession',
    'getSession',
    'endSession',
    'hit',
    'close',
  ].every((method) => typeof store[method] === 'function');
}
