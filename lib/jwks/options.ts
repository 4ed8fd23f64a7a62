/** Options of the key-set cache (`jwks: { … }`), validated at startup. */

/** What the key-set cache reports to `onKeySetEvent`, for logs and metrics. */
export type KeySetEvent =
  | { type: 'fetched'; uri: string; keys: number; skipped: number }
  | { type: 'failed'; uri: string; error: string; retryInMs: number }
  | { type: 'stale-served'; uri: string; ageMs: number };

export interface KeySetOptions {
  /** Give up on a fetch after this long. Default 5000. */
  timeoutMs?: number;
  /** Refetch for an unknown `kid` at most once per this period. Default 30000. */
  cooldownMs?: number;
  /** Freshness when the response has no `Cache-Control: max-age`. Default 600000 (10 min). */
  maxAgeMs?: number;
  /** Keep serving the last good set this long after fetches start failing. Default 86400000 (24 h). */
  staleIfErrorMs?: number;
  /** Largest accepted response body. Default 262144 (256 KiB). */
  maxBytes?: number;
  /** Most keys kept from one response. Default 100. */
  maxKeys?: number;
  /** Observer of fetches, failures and stale answers. */
  onKeySetEvent?: (event: KeySetEvent) => void;
}

export type ResolvedKeySetOptions = Required<Omit<KeySetOptions, 'onKeySetEvent'>> & Pick<KeySetOptions, 'onKeySetEvent'>;

const DEFAULTS: Required<Omit<KeySetOptions, 'onKeySetEvent'>> = {
  timeoutMs: 5_000,
  cooldownMs: 30_000,
  maxAgeMs: 600_000,
  staleIfErrorMs: 86_400_000,
  maxBytes: 262_144,
  maxKeys: 100,
};

function fail(option: string, problem: string): never {
  throw new TypeError(`express-token-gate: option "jwks.${option}" ${problem}`);
}

export function parseKeySetOptions(value: unknown): ResolvedKeySetOptions {
  if (value === undefined) return { ...DEFAULTS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('express-token-gate: option "jwks" must be an object');
  }
  const out: ResolvedKeySetOptions = { ...DEFAULTS };
  for (const [key, v] of Object.entries(value)) {
    if (key === 'onKeySetEvent') {
      if (v !== undefined && typeof v !== 'function') fail(key, 'must be a function');
      out.onKeySetEvent = v as KeySetOptions['onKeySetEvent'];
      continue;
    }
    if (!(key in DEFAULTS)) fail(key, 'is not a known option');
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (key === 'cooldownMs' || key === 'staleIfErrorMs' ? 0 : 1)) {
      fail(key, 'must be a whole, non-negative number');
    }
    (out as unknown as Record<string, number>)[key] = v;
  }
  return out;
}
