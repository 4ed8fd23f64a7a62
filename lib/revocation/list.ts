/**
 * Revocation list: logout that holds wherever the store reaches. `isRevoked` plugs into the gate's
 * option of that name; `revoke` takes only what verified: the claims a gate verified, or a token
 * string it verifies with the rules of a gate using the list (../token/revocation-link.ts).
 * Entries are keyed by token identity, scoped by issuer (`tid`, or a digest of the signing input:
 * see ../token/identity.ts), never by the token string, and live as long as any gate using the
 * list could accept the token. A token with a `sid` also revokes its session.
 */
import { InvalidTokenError, OptionsError, RevocationUnavailableError, rejectUnknownKeys } from '../errors';
import { DEFAULTS as GATE_DEFAULTS } from '../http/options';
import type { AccessTokenClaims } from '../token/claims';
import { isVerifiedClaims, sessionIdentity, tokenIdentity } from '../token/identity';
import { LINK, type GateLink } from '../token/revocation-link';
import { memoryRevocationStore } from './memory';
import { isRevocationStore, type RevocationStore } from './store';
import { withDeadline } from '../net/deadline';

/** What the list reports to `onRevocationEvent`, for logs and metrics. */
export type RevocationEvent =
  /** The store could not answer whether a token is revoked; the request was denied (503) or allowed. */
  | { type: 'check-failed'; outcome: 'denied' | 'allowed'; error: string }
  /** The store could not record a revocation; `revoke` rejected. */
  | { type: 'revoke-failed'; error: string };

export interface RevocationListOptions {
  /** Where revocations live. Default `memoryRevocationStore()` (this process only). */
  store?: RevocationStore;
  /** When the store fails or misses its deadline: `'deny'` answers 503 `revocation_unavailable`, `'allow'` lets the request on. Default `'deny'`. */
  onStoreError?: 'deny' | 'allow';
  /**
   * Seconds an entry outlives its token's `exp`. Default 5, raised to the largest `clockTolerance`
   * of the gates using the list; a value set here below a gate's makes that gate's creation throw.
   */
  clockTolerance?: number;
  /**
   * Longest token lifetime in seconds: bounds an entry, and how long a session's entry lives.
   * Default 86400, raised to the largest `maxTokenLifetime` of the gates using the list; a value
   * set here below a gate's makes that gate's creation throw.
   */
  maxTokenLifetime?: number;
  /** Deadline of one store call (`has`, `add`) in milliseconds, 1 – 60000; a call that misses it is a store failure. Default 2000. */
  timeoutMs?: number;
  /** Observer of store failures; what it throws is ignored. */
  onRevocationEvent?: (event: RevocationEvent) => void;
}

export interface RevocationList {
  /**
   * Revokes a token until it expires, and its session (`sid`) when it has one. Takes the claims a
   * gate verified (`req.wallet.claims`; anything else rejects with a `TypeError`) or a raw token
   * string, which is verified with the rules of a gate using this list: a string that gate would
   * refuse rejects with its `InvalidTokenError`, an expired one stores nothing, and with no gate
   * using the list yet a string rejects with a `TypeError`. A store that fails, is full or misses
   * its deadline rejects with `RevocationUnavailableError`.
   */
  revoke(claimsOrToken: AccessTokenClaims | string): Promise<void>;
  /** The gate's `isRevoked` option. Synchronous when the store answers synchronously. */
  readonly isRevoked: (claims: AccessTokenClaims) => boolean | Promise<boolean>;
  /** Closes the store. */
  close(): Promise<void>;
}

/** Every option's name; an option added to `RevocationListOptions` without an entry fails to compile. */
const OPTION_NAMES = {
  store: true,
  onStoreError: true,
  clockTolerance: true,
  maxTokenLifetime: true,
  timeoutMs: true,
  onRevocationEvent: true,
} satisfies Record<keyof RevocationListOptions, true>;

/** What a 503 asks the client to wait: about one reconnection attempt. */
const RETRY_AFTER_SECONDS = 5;

/** Default deadline of one store call: above the Redis store's own command deadline (500 ms). */
const DEFAULT_TIMEOUT_MS = 2000;
const MAX_TIMEOUT_MS = 60_000;

function seconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionsError(name, 'must be a finite number of seconds, 0 or more');
  }
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The two identities a check asks about: the token's, and its session's when it has a `sid`. */
interface Identities {
  token: string;
  session: string | undefined;
}

/**
 * Creates a revocation list on `store` (default: in memory). Give its `isRevoked` to the gate:
 * the gate then lends the list its rules, so `revoke(token)` verifies a token string as the gate would.
 *
 * @example
 * const revocations = createRevocationList({ store: redisRevocationStore({ url: process.env.REDIS_URL }) });
 * const gate = createTokenGate({ audience, isRevoked: revocations.isRevoked });
 * app.post('/logout', gate.requireAuth(), async (req, res) => {
 *   await revocations.revoke(req.wallet.claims);
 *   res.sendStatus(204);
 * });
 */
export function createRevocationList(options: RevocationListOptions = {}): RevocationList {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object');
  }
  rejectUnknownKeys(options, Object.keys(OPTION_NAMES));
  const onStoreError = options.onStoreError ?? 'deny';
  if (onStoreError !== 'deny' && onStoreError !== 'allow') {
    throw new OptionsError('onStoreError', "must be 'deny' or 'allow'");
  }
  if (options.store !== undefined && !isRevocationStore(options.store)) {
    throw new OptionsError('store', 'must be a revocation store (add, has, close)');
  }
  const observer = options.onRevocationEvent;
  if (observer !== undefined && typeof observer !== 'function') {
    throw new OptionsError('onRevocationEvent', 'must be a function');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new OptionsError('timeoutMs', `must be a whole number of milliseconds, 1 to ${MAX_TIMEOUT_MS}`);
  }
  // Limits set here are promises to every gate; unset ones follow the gates (see `attach`).
  const ownLimits = {
    clockTolerance: options.clockTolerance,
    maxTokenLifetime: options.maxTokenLifetime,
  };
  let clockTolerance = seconds('clockTolerance', options.clockTolerance, GATE_DEFAULTS.clockTolerance);
  let maxTokenLifetime = seconds('maxTokenLifetime', options.maxTokenLifetime, GATE_DEFAULTS.maxTokenLifetime);
  const store = options.store ?? memoryRevocationStore();
  /** The gates created with this list's `isRevoked`: their rules verify token strings. */
  const gates: GateLink[] = [];
  // Identities, worked out once per claims object: the verifier hands the same frozen claims to
  // every request presenting a cached token, and a tid-less identity is a SHA-256 digest.
  const identities = new WeakMap<AccessTokenClaims, Identities>();
  // Without an observer, an outage under 'allow' is still logged: once, when it starts.
  let failing = false;

  function report(event: RevocationEvent): void {
    if (observer !== undefined) {
      try {
        observer(event);
      } catch {
        // An observer's failure must not change the answer.
      }
    } else if (event.type === 'check-failed' && event.outcome === 'allowed' && !failing) {
      console.warn(
        `express-token-gate: revocation store failed (${event.error}); requests pass unchecked (onStoreError: 'allow')`,
      );
    }
  }

  /** A gate created with this list's isRevoked: an entry must last as long as it could accept a token. */
  function attach(gate: GateLink): void {
    for (const name of ['clockTolerance', 'maxTokenLifetime'] as const) {
      const own = ownLimits[name];
      if (own !== undefined && own < gate[name]) {
        throw new OptionsError(
          'isRevoked',
          `is a revocation list created with ${name} ${own}, but this gate has ${name} ${gate[name]}: ` +
            `a revocation would end before the gate stops accepting its token. Give the list at least the gate's ${name}, or leave it unset`,
        );
      }
    }
    clockTolerance = Math.max(clockTolerance, gate.clockTolerance);
    maxTokenLifetime = Math.max(maxTokenLifetime, gate.maxTokenLifetime);
    gates.push(gate);
  }

  function identitiesOf(claims: AccessTokenClaims): Identities {
    let ids = identities.get(claims);
    if (ids === undefined) {
      const token = tokenIdentity(claims);
      if (token === undefined) {
        throw new TypeError(
          'express-token-gate: claims without tid must be the verified claims (req.wallet.claims), or pass the token',
        );
      }
      ids = { token, session: sessionIdentity(claims) };
      identities.set(claims, ids);
    }
    return ids;
  }

  /** Epoch ms until which a token of expiry `exp` (seconds) could still be accepted by a gate. */
  function entryEnd(exp: number): number {
    const latest = Date.now() / 1000 + maxTokenLifetime + clockTolerance;
    return Math.ceil((Math.min(exp, latest) + clockTolerance) * 1000);
  }

  /** A store call that has not settled by the deadline fails. */
  function deadline<T>(pending: PromiseLike<T>): Promise<T> {
    return withDeadline(pending, timeoutMs, 'revocation store');
  }

  /**
   * What a failed check answers under the policy. One per check: a token and its session asked
   * together are one check, reported once.
   */
  function failure(): (error: unknown) => boolean {
    let reported = false;
    return (error) => {
      if (!reported) {
        reported = true;
        report({
          type: 'check-failed',
          outcome: onStoreError === 'deny' ? 'denied' : 'allowed',
          error: describe(error),
        });
      }
      failing = true;
      if (onStoreError === 'allow') return false;
      throw new RevocationUnavailableError('Token revocation cannot be checked right now', RETRY_AFTER_SECONDS, error);
    };
  }

  function answered(revoked: boolean): boolean {
    failing = false;
    return revoked === true;
  }

  /** Whether the store holds `id`: synchronous when the store answers so, bounded by the deadline otherwise. */
  function ask(id: string, expiresAt: number, failed: (error: unknown) => boolean): boolean | Promise<boolean> {
    let answer: boolean | Promise<boolean>;
    try {
      answer = store.has(id, expiresAt);
    } catch (error) {
      return failed(error);
    }
    if (typeof answer === 'boolean') return failing ? answered(answer) : answer;
    if (!isThenable(answer)) return answered(answer === true);
    return deadline(answer).then(answered, failed);
  }

  const isRevoked = (claims: AccessTokenClaims): boolean | Promise<boolean> => {
    const { token, session } = identitiesOf(claims);
    // How long a "revoked" answer is needed: as long as this token could be accepted.
    const end = entryEnd(claims.exp);
    const failed = failure();
    const own = ask(token, end, failed);
    if (session === undefined || own === true) return own;
    let ofSession: boolean | Promise<boolean>;
    try {
      ofSession = ask(session, end, failed);
    } catch (error) {
      // The token's own answer is not needed any more; its failure was reported already.
      if (own instanceof Promise) own.catch(() => {});
      throw error;
    }
    if (own === false) return ofSession;
    return Promise.all([own, ofSession]).then(([a, b]) => a || b);
  };
  Object.defineProperty(isRevoked, LINK, { value: attach });

  /** The claims of a token string, verified by a gate using the list; undefined when it has expired. */
  async function verified(token: string): Promise<AccessTokenClaims | undefined> {
    if (gates.length === 0) {
      throw new TypeError(
        'express-token-gate: revoke(token) verifies the token with the rules of a gate using this list, and no gate uses it yet: ' +
          'create the gate with createTokenGate({ ..., isRevoked: list.isRevoked }) first, or pass the verified claims (req.wallet.claims)',
      );
    }
    let refusal: unknown;
    let expired = false;
    for (const gate of gates) {
      try {
        return await gate.check(token);
      } catch (error) {
        if (error instanceof InvalidTokenError && error.reason === 'token_expired') expired = true;
        refusal ??= error;
      }
    }
    // An expired token is refused by every gate already: nothing to remember.
    if (expired) return undefined;
    throw refusal;
  }

  async function record(id: string, expiresAt: number): Promise<void> {
    try {
      await deadline(store.add(id, expiresAt));
    } catch (error) {
      report({ type: 'revoke-failed', error: describe(error) });
      throw new RevocationUnavailableError('Token revocation cannot be recorded right now', RETRY_AFTER_SECONDS, error);
    }
  }

  async function revoke(claimsOrToken: AccessTokenClaims | string): Promise<void> {
    let claims: AccessTokenClaims | undefined;
    if (typeof claimsOrToken === 'string') {
      claims = await verified(claimsOrToken);
      if (claims === undefined) return;
    } else if (isVerifiedClaims(claimsOrToken)) {
      claims = claimsOrToken;
    } else {
      throw new TypeError(
        'express-token-gate: revoke() takes the verified claims (req.wallet.claims) or a token string; a copy of claims, or any other object, is not verified',
      );
    }
    const { token, session } = identitiesOf(claims);
    const expiresAt = entryEnd(claims.exp);
    // An expired token is refused by the gate already: nothing to remember.
    if (!(expiresAt > Date.now())) return;
    await record(token, expiresAt);
    // A session lives as long as its longest token could: one issued now, at the longest lifetime.
    if (session !== undefined) {
      await record(session, Math.ceil((Date.now() / 1000 + maxTokenLifetime + 2 * clockTolerance) * 1000));
    }
  }

  return { revoke, isRevoked, close: () => store.close() };
}
