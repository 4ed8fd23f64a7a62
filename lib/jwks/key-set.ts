/**
 * A remote key set: the issuer's JWKS, cached whole, refreshed on use and served through outages.
 * Behaviour as users see it: docs/key-sets.md, "How the key set behaves".
 *
 * Invariants:
 * - At most one fetch runs at a time; when to fetch is decided by `fetchDecision` (fetch-policy.ts).
 * - Nothing runs on a timer: only a use of the keys, `refresh()` or `reload()` starts a fetch.
 * - The set is replaced whole, never merged; a key that stays keeps its `CryptoKey` object, so
 *   `isCurrent` is one set lookup and cached tokens of a removed key stop at the next refresh.
 * - A gate's observer lives as long as the gate's view (a weak reference); the shared set lives as
 *   long as some gate holds it, plus a short while after (see `keySetFor`).
 */
import { InvalidTokenError, KeySetUnavailableError } from '../errors';
import type { KeySetEvent, ResolvedKeySetOptions } from './options';
import { fetchJwks, KeySetFetchError } from './fetch';
import { parseKeySet, type VerificationKey } from './parse';
import { freshnessMs } from './freshness';
import { backoffMs } from './backoff';
import { unrefSchedule, type Schedule } from './schedule';
import { fetchDecision, type FetchDecision, type FetchTrigger } from './fetch-policy';
import { remoteStatus, type KeySetControl, type KeySetStatus } from './status';
import { jwksChannel } from '../diagnostics';

/** What the verification layer needs from a key set. */
export interface KeyResolver {
  /**
   * Resolves the keys that may have signed a token with `alg`/`kid` (one, or a few when the set
   * holds several under one kid or without kid); throws `InvalidTokenError('key_not_found')` or
   * `KeySetUnavailableError`.
   */
  getKeys(alg: string, kid: string | undefined): Promise<readonly CryptoKey[]>;
  /**
   * The keys `getKeys` would resolve to, synchronously, when the cached set is usable and holds
   * some for `alg`/`kid`; undefined when only `getKeys` can answer (nothing usable cached, no
   * such key). Spares a new token a Promise and its turn of the microtask queue.
   */
  keysNow?(alg: string, kid: string | undefined): readonly CryptoKey[] | undefined;
  /** Synchronous check used to reject unknown kids before signature work; undefined when unknown yet. */
  hasKid?(kid: string | undefined): boolean | undefined;
  /**
   * Whether `key` (as resolved earlier by `getKeys`) is still in the usable key set. The
   * verified-token cache asks on every hit, so a token stops when its key leaves the set.
   */
  isCurrent?(key: CryptoKey): boolean;
}

/** Observer of key-set events; whatever it throws or rejects with is ignored. */
export type KeySetListener = (event: KeySetEvent) => void;

/** Share of the freshness lifetime after which a refresh starts. */
const REFRESH_AHEAD = 0.8;

/**
 * Most keys tried for one token. Issuers without `kid` (Picket's tokens carry none) publish one or
 * two keys around a rotation; a few candidates cover that, and the cap bounds the signature work a
 * forged token can cost.
 */
export const MAX_CANDIDATE_KEYS = 3;

interface Snapshot {
  keys: readonly VerificationKey[];
  /** The keys' CryptoKey objects, for `isCurrent`. */
  live: ReadonlySet<CryptoKey>;
  byKid: ReadonlyMap<string, readonly VerificationKey[]>;
  fetchedAt: number;
  /** From here a refresh is started in the background. */
  refreshAt: number;
  /** From here answers are stale (and reported as such). */
  freshUntil: number;
  /** From here the keys are dropped: stale-if-error has run out. */
  usableUntil: number;
}

function keyNotFound(): InvalidTokenError {
  return new InvalidTokenError('key_not_found', 'No key in the issuer key set matches the token');
}

/**
 * The keys that may have signed a token: the one under its `kid`, or for a token without `kid`
 * every key that fits its `alg`, with or without a kid of its own. The issuer's tokens carry no
 * kid while a rotation publishes two keys; insisting on exactly one candidate would refuse every
 * session for the length of each rotation. Trying each is not guessing: only the key that signed
 * the token verifies it, and every key in the set is one the issuer vouches for. A kid never falls
 * back to other keys, and more than `MAX_CANDIDATE_KEYS` candidates are refused rather than tried.
 */
export function select(set: Pick<Snapshot, 'keys' | 'byKid'>, alg: string, kid: string | undefined): CryptoKey[] {
  const pool = kid === undefined ? set.keys : (set.byKid.get(kid) ?? []);
  const fitting = pool.filter((k) => k.algs.includes(alg));
  return fitting.length <= MAX_CANDIDATE_KEYS ? fitting.map((k) => k.key) : [];
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return 'unexpected failure';
}

/** Groups keys by `kid` (keys without one are reachable only by kid-less tokens). */
export function indexByKid(keys: readonly VerificationKey[]): Map<string, VerificationKey[]> {
  const byKid = new Map<string, VerificationKey[]>();
  for (const key of keys) {
    if (key.kid === undefined) continue;
    const group = byKid.get(key.kid);
    if (group) group.push(key);
    else byKid.set(key.kid, [key]);
  }
  return byKid;
}

/** The issuer's key set at `uri`. Construct directly for an isolated set (tests); gates use `keySetFor`. */
export class RemoteKeySet implements KeyResolver, KeySetControl {
  private current: Snapshot | undefined;
  private inflight: Promise<void> | undefined;
  private lastAttemptAt = -Infinity;
  private failures = 0;
  private retryAt = -Infinity;
  private staleReported = false;
  private lastError: { message: string; at: number } | undefined;
  /** Why the last fetch failed, carried as `cause` by a 503; cleared by a successful fetch. */
  private lastFailure: unknown;
  /**
   * Process-wide observers added with `addListener` (one per logger, see warn.ts): they live as
   * long as the set.
   */
  private readonly listeners = new Set<KeySetListener>();
  /** The observer given to the constructor: it lives as long as this set. */
  private readonly ownListener: KeySetListener | undefined;
  /** Gates' views, held weakly: a view dropped with its gate takes its observer with it. */
  private readonly views = new Set<WeakRef<KeySetView>>();
  private readonly forget = new FinalizationRegistry<WeakRef<KeySetView>>((ref) => this.views.delete(ref));

  /**
   * @param now clock in ms (monotonic by default); tests pass a manual one.
   * @param schedule timer function for fetch timeouts (unref'd by default).
   */
  constructor(
    readonly uri: string,
    private readonly options: ResolvedKeySetOptions,
    // Monotonic by default: a wall clock stepped back (NTP, a VM resume) must not stall refetches
    // and backoff until it catches up again.
    private readonly now: () => number = () => performance.now(),
    private readonly schedule: Schedule = unrefSchedule,
  ) {
    this.ownListener = options.onKeySetEvent;
  }

  /** A view of this set that reports events to `listener` for as long as the view is referenced. */
  observe(listener: KeySetListener): KeySetView {
    const view = new KeySetView(this, listener);
    const ref = new WeakRef(view);
    this.views.add(ref);
    this.forget.register(view, ref);
    return view;
  }

  /** Adds an observer for the life of the set (each function once). */
  addListener(listener: KeySetListener): void {
    this.listeners.add(listener);
  }

  /** Observers currently attached (views not yet collected), for tests and diagnostics. */
  get observerCount(): number {
    let count = 0;
    for (const ref of this.views) if (ref.deref() !== undefined) count += 1;
    return count;
  }

  keysNow(alg: string, kid: string | undefined): readonly CryptoKey[] | undefined {
    const set = this.setForRequest(this.now());
    if (set === undefined) return undefined;
    const found = select(set, alg, kid);
    return found.length > 0 ? found : undefined;
  }

  async getKeys(alg: string, kid: string | undefined): Promise<readonly CryptoKey[]> {
    const set = this.setForRequest(this.now()) ?? (await this.loadRequired());
    const found = select(set, alg, kid);
    if (found.length > 0) return found;
    if (!(await this.refetchForUnknownKid())) throw keyNotFound();
    const after = this.setForRequest(this.now());
    const keys = after ? select(after, alg, kid) : [];
    if (keys.length === 0) throw keyNotFound();
    return keys;
  }

  /**
   * `true` when `kid` is in the cached set; `false` when it is not and asking again is pointless
   * right now (the set is fresh, no fetch is running, the cooldown or backoff has not passed), so
   * the verifier can reject without awaiting; `undefined` when only `getKey` can tell.
   */
  hasKid(kid: string | undefined): boolean | undefined {
    const now = this.now();
    const set = this.current;
    if (!set || now >= set.usableUntil) return undefined;
    if (kid !== undefined && set.byKid.has(kid)) return true;
    if (kid === undefined || now >= set.refreshAt || this.decide('unknown-kid', now) !== 'wait') return undefined;
    return false;
  }

  /** Whether `key` is in the usable set; a use like any other (it may start a due refresh). */
  isCurrent(key: CryptoKey): boolean {
    const set = this.setForRequest(this.now());
    return set !== undefined && set.live.has(key);
  }

  /** Resolves once no fetch is in flight (for tests and graceful shutdown). */
  idle(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  /** Fetches now unless a fetch is running or the backoff forbids it; never rejects. */
  refresh(): Promise<void> {
    if (this.decide('refresh', this.now()) === 'fetch') this.start();
    return this.idle();
  }

  /** Health for readiness probes: cheap and synchronous (see status.ts). */
  status(): KeySetStatus {
    const set = this.current;
    return remoteStatus(this.now(), {
      uri: this.uri,
      keys: set?.keys,
      fetchedAt: set?.fetchedAt,
      refreshAt: set?.refreshAt,
      freshUntil: set?.freshUntil,
      usableUntil: set?.usableUntil,
      failures: this.failures,
      retryAt: this.retryAt,
      lastError: this.lastError,
    });
  }

  /**
   * Fetches now, unless a fetch ran less than `cooldownMs` ago or the backoff after failures has
   * not passed (then the cached state stands); joins a fetch already running. Resolves to the
   * status afterwards; never rejects.
   */
  async reload(): Promise<KeySetStatus> {
    const decision = this.decide('reload', this.now());
    if (decision === 'join') await this.inflight;
    else if (decision === 'fetch') await this.refresh();
    return this.status();
  }

  /** The cached set if still usable; starts a background refresh when one is due. */
  private setForRequest(now: number): Snapshot | undefined {
    const set = this.current;
    if (!set || now >= set.usableUntil) return undefined;
    if (this.decide('use', now) === 'fetch') this.start();
    if (now >= set.freshUntil && !this.staleReported) {
      this.staleReported = true;
      this.emit({ type: 'stale-served', uri: this.uri, ageMs: now - set.fetchedAt });
    }
    return set;
  }

  /** No usable key is cached: wait for a fetch if one is allowed, else answer 503 at once. */
  private async loadRequired(): Promise<Snapshot> {
    await this.refresh();
    const now = this.now();
    const set = this.setForRequest(now);
    if (set) return set;
    throw new KeySetUnavailableError(
      'The issuer key set cannot be fetched and no usable key is cached',
      (this.retryAt - now) / 1000,
      this.lastFailure,
    );
  }

  /** The fetch policy applied to this set's state (see fetch-policy.ts). */
  private decide(trigger: FetchTrigger, now: number): FetchDecision {
    const set = this.current;
    return fetchDecision(trigger, {
      now,
      inflight: this.inflight !== undefined,
      lastAttemptAt: this.lastAttemptAt,
      retryAt: this.retryAt,
      refreshAt: set && now < set.usableUntil ? set.refreshAt : undefined,
      cooldownMs: this.options.cooldownMs,
    });
  }

  /** Starts a fetch; callers have checked that none is running. */
  private start(): void {
    this.inflight = this.attempt().finally(() => {
      this.inflight = undefined;
    });
  }

  /** Whether a fetch that might know the kid has completed since the caller looked. */
  private async refetchForUnknownKid(): Promise<boolean> {
    switch (this.decide('unknown-kid', this.now())) {
      case 'join':
        await this.inflight;
        return true;
      case 'wait':
        return false;
      case 'fetch':
        await this.refresh();
        return true;
    }
  }

  private async attempt(): Promise<void> {
    this.lastAttemptAt = this.now();
    this.staleReported = false;
    try {
      const document = await fetchJwks(this.uri, this.options, this.schedule);
      const parsed = await parseKeySet(document.body, this.options.maxKeys);
      if (parsed.keys.length === 0) {
        // Replacing good keys with none would turn a publishing mistake into a full outage.
        throw new KeySetFetchError(`none of the ${parsed.skipped} keys is usable`);
      }
      this.install(parsed.keys, freshnessMs(document.maxAgeMs, this.options.maxAgeMs));
      this.emit({ type: 'fetched', uri: this.uri, keys: parsed.keys.length, skipped: parsed.skipped });
    } catch (error) {
      this.lastFailure = error;
      const retryInMs = this.recordFailure();
      this.lastError = { message: describe(error), at: this.now() };
      this.emit({ type: 'failed', uri: this.uri, error: describe(error), retryInMs });
    }
  }

  private install(fetched: VerificationKey[], fresh: number): void {
    const now = this.now();
    // A key that stays keeps its CryptoKey: cached tokens it verified stay recognised.
    const previous = new Map(this.current?.keys.map((k) => [k.id, k]));
    const keys = fetched.map((k) => previous.get(k.id) ?? k);
    const byKid = indexByKid(keys);
    this.current = {
      keys,
      live: new Set(keys.map((k) => k.key)),
      byKid,
      fetchedAt: now,
      refreshAt: now + Math.floor(fresh * REFRESH_AHEAD),
      freshUntil: now + fresh,
      usableUntil: now + fresh + this.options.staleIfErrorMs,
    };
    this.failures = 0;
    this.lastFailure = undefined;
    this.retryAt = -Infinity;
  }

  /** Spaces the next attempt; the next use of the keys after that retries (no timer). */
  private recordFailure(): number {
    const now = this.now();
    this.failures += 1;
    const delay = backoffMs(this.failures);
    this.retryAt = now + delay;
    if (this.current && now >= this.current.usableUntil) this.current = undefined;
    return delay;
  }

  private emit(event: KeySetEvent): void {
    if (jwksChannel.hasSubscribers) jwksChannel.publish(event);
    // Each function once, however many gates share it.
    const listeners = new Set<KeySetListener>(this.listeners);
    if (this.ownListener) listeners.add(this.ownListener);
    for (const ref of this.views) {
      const view = ref.deref();
      if (view === undefined) this.views.delete(ref);
      else listeners.add(view.listener);
    }
    for (const listener of listeners) {
      try {
        const result: unknown = listener(event);
        // An async observer's rejection must not surface as an unhandled rejection either.
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          (result as PromiseLike<unknown>).then(undefined, () => undefined);
        }
      } catch {
        // An observer must never change the outcome of a verification.
      }
    }
  }
}

/**
 * One gate's handle on a shared key set: the same keys and fetches, plus the gate's observer,
 * which stays attached exactly as long as this handle is referenced (by the gate's verifier).
 */
export class KeySetView implements KeyResolver, KeySetControl {
  constructor(
    readonly shared: RemoteKeySet,
    readonly listener: KeySetListener,
  ) {}

  get uri(): string {
    return this.shared.uri;
  }

  getKeys(alg: string, kid: string | undefined): Promise<readonly CryptoKey[]> {
    return this.shared.getKeys(alg, kid);
  }

  keysNow(alg: string, kid: string | undefined): readonly CryptoKey[] | undefined {
    return this.shared.keysNow(alg, kid);
  }

  hasKid(kid: string | undefined): boolean | undefined {
    return this.shared.hasKid(kid);
  }

  isCurrent(key: CryptoKey): boolean {
    return this.shared.isCurrent(key);
  }

  idle(): Promise<void> {
    return this.shared.idle();
  }

  refresh(): Promise<void> {
    return this.shared.refresh();
  }

  status(): KeySetStatus {
    return this.shared.status();
  }

  reload(): Promise<KeySetStatus> {
    return this.shared.reload();
  }
}

/** What `keySetFor` hands out: the shared set itself, or a view of it carrying an observer. */
export type SharedKeySet = RemoteKeySet | KeySetView;

/**
 * The process-wide sets, held weakly: a set lives as long as a gate (its verifier, its `keySet`)
 * holds it, and its entry goes when it is collected. Gates built on short-lived test issuers thus
 * leave nothing behind.
 */
const registry = new Map<string, WeakRef<RemoteKeySet>>();
const released = new FinalizationRegistry<string>((key) => {
  // A set collected late must not take the entry of a newer set under the same key.
  if (registry.get(key)?.deref() === undefined) registry.delete(key);
});

/**
 * The sets handed out last stay alive even without a gate, so code that builds a gate per call
 * (fresh options for every `verifyAccessToken`) still shares one set and its fetched keys.
 */
const RECENT_SETS = 16;
const recent: RemoteKeySet[] = [];

function keepRecent(set: RemoteKeySet): void {
  const at = recent.indexOf(set);
  if (at !== -1) recent.splice(at, 1);
  recent.push(set);
  if (recent.length > RECENT_SETS) recent.shift();
}

/** Sets in the registry, collected or not yet (for tests). */
export function registeredKeySets(): number {
  return registry.size;
}

/** A number per `fetch` function, so sets fetching through different functions are never shared. */
const fetchIds = new WeakMap<object, number>();
let nextFetchId = 1;

function fetchId(fn: ResolvedKeySetOptions['fetch']): number {
  if (fn === undefined) return 0;
  let id = fetchIds.get(fn);
  if (id === undefined) fetchIds.set(fn, (id = nextFetchId++));
  return id;
}

function registryKey(uri: string, options: ResolvedKeySetOptions): string {
  const { timeoutMs, cooldownMs, maxAgeMs, staleIfErrorMs, maxBytes, maxKeys } = options;
  const limits = [timeoutMs, cooldownMs, maxAgeMs, staleIfErrorMs, maxBytes, maxKeys, fetchId(options.fetch)];
  return `${uri} ${limits.join(',')}`;
}

/**
 * The process-wide key set for `uri`: every middleware and verify call for one URI shares it, for
 * as long as one of them (or one of the last few callers) holds it.
 * Gates configured with different limits (or `fetch` functions) get separate sets, so none
 * silently runs with another's limits or fetches through another's proxy. With `onKeySetEvent`, the caller gets a view that observes the shared set for as long as
 * the caller keeps it. The first caller for a key decides `now`/`schedule` (tests pass a manual
 * clock here before creating gates).
 */
export function keySetFor(
  uri: string,
  options: ResolvedKeySetOptions,
  now?: () => number,
  schedule?: Schedule,
): SharedKeySet {
  const href = new URL(uri).href;
  const key = registryKey(href, options);
  let set = registry.get(key)?.deref();
  if (!set) {
    // The shared set holds no observer of its own: each belongs to the gate that brought it.
    set = new RemoteKeySet(href, { ...options, onKeySetEvent: undefined }, now, schedule);
    registry.set(key, new WeakRef(set));
    released.register(set, key);
  }
  keepRecent(set);
  return options.onKeySetEvent ? set.observe(options.onKeySetEvent) : set;
}
