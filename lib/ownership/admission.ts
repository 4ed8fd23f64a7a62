/**
 * How many resolver calls a revalidating gate makes at once, across every wallet and requirement:
 * per-key single flight and back-off do not stop 2,000 fresh wallets from making 2,000 calls.
 *
 * - At most `maxConcurrent` calls run; up to `maxQueued` more wait their turn (within the gate's
 *   `timeoutMs`); past that a question is refused at once.
 * - A resolver that fails `FAILURES_TO_OPEN` times in a row, whatever the wallets, is left alone for
 *   a back-off (1 s, doubling per failed probe up to 30 s): questions meanwhile are refused at once,
 *   the queue is emptied. Then one probe goes out; its success closes the breaker.
 * A refusal is a `ResolverBusyError`, which the gate treats as any resolver failure
 * (`onResolverError`), announcing in `Retry-After` when to come back.
 */
import { ResolverError, UnsupportedRequirementError } from './resolvers/types';

/** Consecutive failures that make the gate stop asking for a while. */
export const FAILURES_TO_OPEN = 5;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/** A question the gate did not put to the resolver: too many waiting, or the resolver is failing. */
export class ResolverBusyError extends ResolverError {
  override name = 'ResolverBusyError';
  constructor(
    message: string,
    /** When, on the gate's clock, asking may succeed again. */
    readonly retryAt: number,
  ) {
    super(message);
  }
}

interface Waiter {
  start(): void;
  refuse(error: ResolverBusyError): void;
}

export class Admission {
  private active = 0;
  private readonly queue = new Set<Waiter>();
  private failures = 0;
  private openings = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
    private readonly now: () => number,
  ) {}

  /**
   * Runs `call` when a slot is free; rejects with `ResolverBusyError` when it may not run. `signal`
   * aborting (the gate's deadline) takes a waiting call out of the queue.
   */
  run<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    if (this.active < this.maxConcurrent && this.queue.size === 0) return this.start(signal, call);
    if (this.queue.size >= this.maxQueued) {
      return Promise.reject(
        new ResolverBusyError(
          `${this.maxQueued} ownership questions are already waiting for the resolver (revalidate.maxQueued)`,
          this.now() + BACKOFF_BASE_MS,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener('abort', onAbort);
          this.start(signal, call).then(resolve, reject);
        },
        refuse: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        this.queue.delete(waiter);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.add(waiter);
    });
  }

  /** Why a question may not go out now: the breaker is open, or a probe is already out. */
  private refusal(): ResolverBusyError | undefined {
    if (this.failures < FAILURES_TO_OPEN) return undefined;
    const now = this.now();
    if (now < this.openUntil || this.probing) {
      const retryAt = Math.max(this.openUntil, now + BACKOFF_BASE_MS);
      return new ResolverBusyError(
        `The ownership resolver failed ${this.failures} times in a row; the gate waits before asking again`,
        retryAt,
      );
    }
    this.probing = true;
    return undefined;
  }

  /**
   * Runs `call` in a slot, freed when it settles or when `signal` aborts (a resolver that never
   * settles must not keep its slot). Its outcome feeds the breaker.
   */
  private start<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    this.active += 1;
    const settled = new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      let answer: Promise<T>;
      try {
        answer = call();
      } catch (error) {
        answer = Promise.reject(error);
      }
      answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
    settled.then(
      () => this.finish(true),
      (error: unknown) => this.finish(error instanceof UnsupportedRequirementError ? undefined : false),
    );
    return settled;
  }

  private finish(ok: boolean | undefined): void {
    this.active -= 1;
    this.record(ok);
    this.next();
  }

  /**
   * What an answer was worth: a usable one closes the breaker, a failure counts; `undefined` (a
   * question the resolver does not take) says nothing about the resolver's health.
   */
  private record(ok: boolean | undefined): void {
    this.probing = false;
    if (ok === undefined) return;
    if (ok) {
      this.failures = 0;
      this.openings = 0;
      return;
    }
    this.failures += 1;
    if (this.failures < FAILURES_TO_OPEN) return;
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.openings, 16));
    this.openings += 1;
    this.openUntil = this.now() + backoff;
    const error = new ResolverBusyError(
      `The ownership resolver failed ${this.failures} times in a row; the gate waits before asking again`,
      this.openUntil,
    );
    for (const waiter of this.queue) waiter.refuse(error);
    this.queue.clear();
  }

  private next(): void {
    while (this.active < this.maxConcurrent && this.queue.size > 0) {
      const [waiter] = this.queue;
      this.queue.delete(waiter!);
      const refusal = this.refusal();
      if (refusal) {
        waiter!.refuse(refusal);
        continue;
      }
      waiter!.start();
    }
  }
}
