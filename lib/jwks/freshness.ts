/**
 * How long a fetched key set counts as fresh: the issuer's `Cache-Control: max-age` (less `Age`),
 * clamped so that a bad header can neither make us fetch on every request (`max-age=0`,
 * `no-store`) nor keep a removed key verifying for days (`max-age=31536000`).
 */

/** Shortest freshness a header can ask for (unless the configured default is shorter still). */
export const MIN_FRESHNESS_MS = 30_000;
/** Longest freshness a header can ask for (unless the configured default is longer still). */
export const MAX_FRESHNESS_MS = 3_600_000;

/** The freshness lifetime the headers ask for, in ms; `undefined` when they say nothing. */
export function maxAgeFromHeaders(cacheControl: string | null, age: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  let seconds: number | undefined;
  for (const directive of cacheControl.split(',')) {
    const [rawName = '', ...rest] = directive.split('=');
    const name = rawName.trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') {
      seconds = 0;
    } else if (name === 'max-age') {
      const value = rest
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1');
      // RFC 9111 §4.2.1: an invalid or repeated max-age is treated as stale, i.e. the lowest value.
      const parsed = /^\d{1,10}$/.test(value) ? Number(value) : 0;
      seconds = seconds === undefined ? parsed : Math.min(seconds, parsed);
    }
  }
  if (seconds === undefined) return undefined;
  const aged = age !== null && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.max(0, seconds - aged) * 1000;
}

/** Freshness to apply: the header's answer within bounds, or the configured default. */
export function freshnessMs(headerMaxAgeMs: number | undefined, configuredMaxAgeMs: number): number {
  if (headerMaxAgeMs === undefined) return configuredMaxAgeMs;
  const floor = Math.min(MIN_FRESHNESS_MS, configuredMaxAgeMs);
  const ceiling = Math.max(MAX_FRESHNESS_MS, configuredMaxAgeMs);
  return Math.min(ceiling, Math.max(floor, headerMaxAgeMs));
}
