/**
 * Revocation list: logout that holds wherever the store reaches. `isRevoked` plugs into the gate's
 * option of that name; `revoke` takes verified claims or a raw token. Entries are keyed by token
 * identity (`tid`, or a digest of the signing input: see ../token/identity.ts), never by the token
 * string, and live until the token would expire anyway.
 */
import { OptionsError, RevocationUnavailableError, rejectUnknownKeys } from '../errors';
import { DEFAULTS as GATE_DEFAULTS } from '../http/options';
import type { AccessTokenClaims } from '../token/claims';
import { readUnverifiedIdentity, tokenIdentity } from '../token/identity';
import { memoryRevocationStore } from './memory';
import { isRevocationStore, type RevocationStore } from './store';

/** What the list reports to `onRevocationEvent`, for logs and metrics. */
export type RevocationEvent =
  /** The store could not answer whether a token is revoked; the request was denied (503) or allowed. */
  | { type: 'check-failed'; outcome: 'denied' | 'allowed'; error: string }
  /** The store could not record a revocation; `revoke` rejected. */
  | { type: 'revoke-failed'; error: string };

export interface RevocationListOptions {
  /** Where revocations live. Default `memoryRevocationStore()` (this process only). */
  store?: RevocationStore;
  /** When the store fails: `'deny'` answers 503 `revocation_unavailable`, `'allow'` lets the request on. Default `'deny'`. */
  onStoreError?: 'deny' | 'allow';
  /** Seconds added to `exp` before an entry may go; the gate's `clockTolerance`. Default 5. */
  clockTolerance?: number;
  /** Longest token lifetime in seconds (the gate's `maxTokenLifetime`); bounds what an unverified `exp` may claim. Default 86400. */
  maxTokenLifetime?: number;
  /** Observer of store failures; what it throws is ignored. */
  onRevocationEvent?: (event: RevocationEvent) => void;
}

export interface RevocationList {
  /**
   * Revokes a token until it expires: pass `req.wallet.claims`, or a raw token string (decoded,
   * not verified, trusted for nothing but its identity). Rejects with `InvalidTokenError` for a
   * string that is no token and with `RevocationUnavailableError` when the store fails.
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
  onRevocationEvent: true,
} satisfies Record<keyof RevocationListOptions, true>;

/** What a 503 asks the client to wait: about one reconnection attempt. */
const RETRY_AFTER_SECONDS = 5;

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

/**
 * Creates a revocation list on `store` (default: in memory).
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
  const clockTolerance = seconds('clockTolerance', options.clockTolerance, GATE_DEFAULTS.clockTolerance);
  const maxTokenLifetime = seconds('maxTokenLifetime', options.maxTokenLifetime, GATE_DEFAULTS.maxTokenLifetime);
  const store = options.store ?? memoryRevocationStore();
  // Identities, worked out once per claims object: the verifier hands the same frozen claims to
  // every request presenting a cached token, and a tid-less identity is a SHA-256 digest.
  const identities = new WeakMap<AccessTokenClaims, string>();
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

  function identityOf(claims: AccessTokenClaims): string {
    let id = identities.get(claims);
    if (id === undefined) {
      id = tokenIdentity(claims);
      if (id === undefined) {
        throw new TypeError(
          'express-token-gate: claims without tid must be the verified claims (req.wallet.claims), or pass the token',
        );
      }
      identities.set(claims, id);
    }
    return id;
  }

  /** Epoch ms until which a token of expiry `exp` (seconds) could still be accepted by a gate. */
  function entryEnd(exp: number): number {
    const latest = Date.now() / 1000 + maxTokenLifetime + clockTolerance;
    return Math.ceil((Math.min(exp, latest) + clockTolerance) * 1000);
  }

  function storeFailed(error: unknown): boolean {
    report({ type: 'check-failed', outcome: onStoreError === 'deny' ? 'denied' : 'allowed', error: describe(error) });
    failing = true;
    if (onStoreError === 'allow') return false;
    throw new RevocationUnavailableError('Token revocation cannot be checked right now', RETRY_AFTER_SECONDS, error);
  }

  function answered(revoked: boolean): boolean {
    failing = false;
    return revoked === true;
  }

  const isRevoked = (claims: AccessTokenClaims): boolean | Promise<boolean> => {
    const id = identityOf(claims);
    let answer: boolean | Promise<boolean>;
    try {
      answer = store.has(id, entryEnd(claims.exp));
    } catch (error) {
      return storeFailed(error);
    }
    if (typeof answer === 'boolean') return failing ? answered(answer) : answer;
    return Promise.resolve(answer).then(answered, storeFailed);
  };

  async function revoke(claimsOrToken: AccessTokenClaims | string): Promise<void> {
    let id: string;
    let exp: number;
    if (typeof claimsOrToken === 'string') {
      ({ id, exp } = readUnverifiedIdentity(claimsOrToken));
    } else if (typeof claimsOrToken === 'object' && claimsOrToken !== null && typeof claimsOrToken.exp === 'number') {
      id = identityOf(claimsOrToken);
      exp = claimsOrToken.exp;
    } else {
      throw new TypeError('express-token-gate: revoke() takes verified claims (req.wallet.claims) or a token string');
    }
    const expiresAt = entryEnd(exp);
    // An expired token is refused by the gate already: nothing to remember.
    if (!(expiresAt > Date.now())) return;
    try {
      await store.add(id, expiresAt);
    } catch (error) {
      report({ type: 'revoke-failed', error: describe(error) });
      throw new RevocationUnavailableError('Token revocation cannot be recorded right now', RETRY_AFTER_SECONDS, error);
    }
  }

  return { revoke, isRevoked, close: () => store.close() };
}
