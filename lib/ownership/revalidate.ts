/**
 * Live ownership (`revalidate`): `requireTokens` decides on the wallet's current holdings, asked of
 * an `OwnershipResolver`, instead of the balances the token proved when it was signed.
 *
 * - The token still decides who the wallet is: the requirement's chain and `allowedWallets` (every
 *   rule that is not a balance) are checked on the token first, and a refusal there is final.
 * - Answers are cached per (chain, wallet, compiled requirement) for `maxAgeMs`; concurrent
 *   questions for one key share one resolver call.
 * - A failed call (error, timeout, unusable answer) is remembered only for a short back-off
 *   (1 s, doubling per consecutive failure of that key up to 30 s), during which that key's
 *   requests get the failure policy at once instead of piling onto a struggling service.
 * - Failure is a policy: `'deny'` answers 503 `ownership_unavailable` with `Retry-After`;
 *   `'useToken'` lets the token's snapshot decide.
 */
import { LRUCache } from 'lru-cache';
import {
  InsufficientScopeError,
  OptionsError,
  OwnershipUnavailableError,
  rejectUnknownKeys,
  type RequirementsDescription,
} from '../errors';
import type { AccessTokenClaims } from '../token/claims';
import { addressKey } from '../chain/address';
import { Decimal, isDecimalString, type Decimal as DecimalValue } from '../chain/decimal';
import type { CompiledRequirements } from './requirements';
import { ResolverError, type OwnershipAnswer, type OwnershipResolver } from './resolvers/types';
import { ownershipChannel } from '../diagnostics';
import { Admission, ResolverBusyError } from './admission';

/** What to do when the resolver cannot answer: refuse with 503, or let the token's balances decide. */
export type OnResolverError = 'deny' | 'useToken';

/** `revalidate` of `createTokenGate` (every `requireTokens` of the gate) or of one `requireTokens`. */
export interface RevalidateOptions {
  /** Where current holdings come from: `evmOwnershipResolver`, `picketOwnershipResolver` or your own. */
  resolver: OwnershipResolver;
  /** How long an answer is reused for the same wallet and requirement. Default 60000 (0: ask on every request). */
  maxAgeMs?: number;
  /** `'deny'` (default): 503 `ownership_unavailable`. `'useToken'`: the token's balances decide. */
  onResolverError?: OnResolverError;
  /** The longest the gate waits for one answer, whatever the resolver does. Default 10000. */
  timeoutMs?: number;
  /** Resolver calls in flight at once, across every wallet and requirement. Default 16. */
  maxConcurrent?: number;
  /** Questions waiting for a free call; past it a question fails at once (`onResolverError`). Default 256. */
  maxQueued?: number;
}

/** Per-route options of `requireTokens`. */
export interface RequireTokensOptions {
  /** `false`: the token's balances decide on this route. An object: this route's own revalidation (and cache). */
  revalidate?: RevalidateOptions | false;
}

export interface ResolvedRevalidateOptions {
  readonly resolver: OwnershipResolver;
  readonly maxAgeMs: number;
  readonly onResolverError: OnResolverError;
  readonly timeoutMs: number;
  readonly maxConcurrent: number;
  readonly maxQueued: number;
}

const KNOWN = new Set(['resolver', 'maxAgeMs', 'onResolverError', 'timeoutMs', 'maxConcurrent', 'maxQueued']);
const POLICIES: ReadonlySet<string> = new Set<OnResolverError>(['deny', 'useToken']);
const MAX_AGE_LIMIT_MS = 86_400_000;
const TIMEOUT_LIMIT_MS = 120_000;
/** Distinct (wallet, requirement) answers kept per revalidating gate or route. */
const MAX_ENTRIES = 10_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

function bounded(unit: string, name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new OptionsError(name, `must be a number of ${unit} from ${min} to ${max}`);
  }
  return value;
}
const milliseconds = bounded.bind(undefined, 'milliseconds');
function count(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value !== undefined && !Number.isInteger(value))
    throw new OptionsError(name, `must be a whole number from ${min} to ${max}`);
  return bounded('calls', name, value, fallback, min, max);
}

/**
 * Validates `revalidate` (of a gate, or of one route under `name`). `undefined` and `false` turn it
 * off. Throws `OptionsError` naming the bad field.
 */
export function parseRevalidateOptions(value: unknown, name = 'revalidate'): ResolvedRevalidateOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError(
      name,
      'must be false or { resolver, maxAgeMs?, onResolverError?, timeoutMs?, maxConcurrent?, maxQueued? }',
    );
  }
  rejectUnknownKeys(value, KNOWN, name);
  const options = value as Record<string, unknown>;
  const resolver = options.resolver as OwnershipResolver | undefined;
  if (typeof resolver !== 'object' || resolver === null || typeof resolver.resolve !== 'function') {
    throw new OptionsError(
      `${name}.resolver`,
      'is required: an object with resolve(query), e.g. evmOwnershipResolver({ rpcUrl })',
    );
  }
  const onResolverError = options.onResolverError ?? 'deny';
  if (typeof onResolverError !== 'string' || !POLICIES.has(onResolverError)) {
    throw new OptionsError(`${name}.onResolverError`, 'must be "deny" or "useToken"');
  }
  return Object.freeze({
    resolver,
    maxAgeMs: milliseconds(`${name}.maxAgeMs`, options.maxAgeMs, 60_000, 0, MAX_AGE_LIMIT_MS),
    onResolverError: onResolverError as OnResolverError,
    timeoutMs: milliseconds(`${name}.timeoutMs`, options.timeoutMs, 10_000, 1, TIMEOUT_LIMIT_MS),
    maxConcurrent: count(`${name}.maxConcurrent`, options.maxConcurrent, 16, 1, 10_000),
    maxQueued: count(`${name}.maxQueued`, options.maxQueued, 256, 0, 100_000),
  });
}

/** Validates the per-route options of `requireTokens`: `undefined` (the gate's choice), `false` or options. */
export function parseRouteRevalidate(options: unknown): ResolvedRevalidateOptions | false | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('requireTokens options', 'must be an object such as { revalidate: false }');
  }
  rejectUnknownKeys(options, ['revalidate'], undefined, 'is not a known requireTokens option');
  const { revalidate } = options as RequireTokensOptions;
  if (revalidate === undefined) return undefined;
  if (revalidate === false) return false;
  return parseRevalidateOptions(revalidate);
}

/** A cached answer, or a failure remembered for its back-off. */
type Entry =
  // `passes` is filled on first use: one key is one requirement, so one minimum.
  | { ok: true; until: number; balance: DecimalValue; allowed: boolean; passes?: boolean }
  | { ok: false; until: number; failures: number; error: unknown };

/**
 * Checks claims against a requirement with live balances: returns when it passes, throws or
 * rejects otherwise. `walletKey` is the wallet as `addressKey` spells it, when the caller has it.
 */
export type LiveCheck = (claims: AccessTokenClaims, walletKey?: string) => void | Promise<void>;

/** One per revalidating gate (shared by its routes) or per route with its own `revalidate`. */
export class Revalidator {
  private readonly entries = new LRUCache<string, Entry>({ max: MAX_ENTRIES });
  private readonly inflight = new Map<string, Promise<Entry>>();
  /** A short id per distinct requirement, so that cache keys stay short. */
  private readonly requirementIds = new Map<string, number>();
  private readonly admission: Admission;

  constructor(
    private readonly options: ResolvedRevalidateOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.admission = new Admission(options.maxConcurrent, options.maxQueued, now);
  }

  /** Prepares, once per route, the check of `requirements` against live balances. */
  checkFor(requirements: CompiledRequirements): LiveCheck {
    const description = requirements.description;
    const { chain } = description;
    // Two routes asking the same thing share answers: the description is built in a fixed order.
    const described = JSON.stringify(description);
    let requirementId = this.requirementIds.get(described);
    if (requirementId === undefined) this.requirementIds.set(described, (requirementId = this.requirementIds.size));
    const keyPrefix = `${requirementId}|`;
    const insufficient = () =>
      new InsufficientScopeError('insufficient_balance', 'The wallet does not hold the required balance', description);
    const { onResolverError } = this.options;

    const decide = (entry: Entry, claims: AccessTokenClaims): void => {
      if (entry.ok) {
        entry.passes ??= entry.allowed && requirements.isEnough(entry.balance);
        if (!entry.passes) throw insufficient();
        return;
      }
      // The resolver cannot answer: under 'useToken' the token's own balances decide, by the
      // same check a route without revalidate runs.
      if (onResolverError === 'useToken') return requirements.checkBalance(claims);
      throw new OwnershipUnavailableError(
        "The wallet's current holdings cannot be checked right now",
        (entry.until - this.now()) / 1000,
        entry.error,
      );
    };

    return (claims, walletKey) => {
      // Who the wallet is comes from the token, and a refusal there is final.
      requirements.checkWallet(claims);
      // Nothing to hold (allowedWallets alone): the token has said all there is to say.
      if (!requirements.needsBalance) return;
      const key = keyPrefix + (walletKey ?? addressKey(chain, claims.walletAddress));
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.until > this.now()) return decide(entry, claims);
      let pending = this.inflight.get(key);
      if (pending === undefined) {
        pending = this.ask(key, claims.walletAddress, description, entry);
        this.inflight.set(key, pending);
      }
      return pending.then((settled) => decide(settled, claims));
    };
  }

  /** One resolver call with a deadline; always resolves, to the entry it stored. */
  private ask(
    key: string,
    walletAddress: string,
    requirements: RequirementsDescription,
    previous: Entry | undefined,
  ): Promise<Entry> {
    const { resolver, timeoutMs, maxAgeMs } = this.options;
    const controller = new AbortController();
    // The deadline covers the wait for a free call too; the admission gives up its slot or its
    // place in the queue when it fires.
    const timer = setTimeout(() => {
      controller.abort(new ResolverError(`The ownership resolver did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const signal = controller.signal;
    return this.admission
      .run(signal, () =>
        Promise.resolve(resolver.resolve({ chain: requirements.chain, walletAddress, requirements, signal })).then(
          readAnswer,
        ),
      )
      .then(
        ({ balance, allowed }): Entry => ({ ok: true, until: this.now() + maxAgeMs, balance, allowed }),
        (error: unknown): Entry => {
          // Not asked (queue full, resolver failing): come back when the admission says.
          if (error instanceof ResolverBusyError) return { ok: false, until: error.retryAt, failures: 0, error };
          const failures = previous !== undefined && !previous.ok ? previous.failures + 1 : 1;
          const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16));
          return { ok: false, until: this.now() + backoff, failures, error };
        },
      )
      .then((entry) => {
        clearTimeout(timer);
        this.inflight.delete(key);
        if (ownershipChannel.hasSubscribers && !(!entry.ok && entry.error instanceof ResolverBusyError)) {
          ownershipChannel.publish({ resolver: resolver.name ?? 'custom', outcome: entry.ok ? 'answered' : 'failed' });
        }
        if (entry.ok && maxAgeMs === 0) this.entries.delete(key);
        else this.entries.set(key, entry);
        return entry;
      });
  }
}

/** Checks a resolver's answer; anything else is a failure, never a grant. */
function readAnswer(answer: unknown): { balance: DecimalValue; allowed: boolean } {
  if (typeof answer !== 'object' || answer === null)
    throw new ResolverError('The ownership resolver answered no object');
  const { balance, allowed } = answer as Partial<OwnershipAnswer>;
  if (!isDecimalString(balance)) throw new ResolverError('The ownership resolver answered no decimal balance');
  if (allowed !== undefined && typeof allowed !== 'boolean')
    throw new ResolverError('The ownership resolver answered a non-boolean "allowed"');
  return { balance: new Decimal(balance), allowed: allowed !== false };
}
