/**
 * Retry spacing after failed fetches. Doubling from one second keeps a short outage short while a
 * long one costs the issuer at most one request every five minutes per process.
 */

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 300_000;

/** Delay before the next attempt after `failures` consecutive failures (1, 2, 4 … 300 s). */
export function backoffMs(failures: number): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** exponent);
}
