/** A deadline on work that leaves the process: a store call, a Redis command, a connection. */

/** The error a deadline rejects with; `instanceof` tells a timeout from the work's own failure. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/**
 * Settles like `work`, or rejects with a `DeadlineError` saying `what did not answer within <ms> ms`.
 * A failure that is not an `Error` is wrapped in one. The timer never keeps the process alive.
 */
export function withDeadline<T>(work: PromiseLike<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref?.();
    Promise.resolve(work).then(
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
