/** Options of the key-set cache (`jwks: { … }`), validated at startup. */
import { OptionsError, rejectUnknownKeys } from '../errors';
import type { KeySetEvent } from '../diagnostics';
import { FETCH_OPTION_SHAPE, isFetchOption, type FetchFunction } from '../net/fetch';

export type { KeySetEvent } from '../diagnostics';

export interface KeySetOptions {
  /** Give up on a fetch (body included) after this long. Default 5000. */
  timeoutMs?: number;
  /** Refetch for an unknown `kid` at most once per this period; 0 turns the limit off. Default 30000. */
  cooldownMs?: number;
  /**
   * Freshness when the response has no `Cache-Control: max-age`. Default 600000 (10 min). A
   * `max-age` header is honoured within [30 s, 1 h], widened to include this value.
   */
  maxAgeMs?: number;
  /** Keep serving the last good set this long past its freshness while fetches fail. Default 86400000 (24 h). */
  staleIfErrorMs?: number;
  /** Largest accepted response body. Default 262144 (256 KiB). */
  maxBytes?: number;
  /** Most keys accepted in one response; a larger set is refused. Default 100. */
  maxKeys?: number;
  /** Observer of fetches, failures and stale answers; what it throws is ignored. */
  onKeySetEvent?: (event: KeySetEvent) => void;
  /**
   * Called instead of the global `fetch` for every fetch of the set: `(url, init) => Promise<Response>`
   * (a proxy, mTLS, extra headers). The timeout, size cap, redirect refusal and JSON checks still
   * apply to what it answers. Gates with different functions get separate sets.
   */
  fetch?: FetchFunction;
}

type FunctionOption = 'onKeySetEvent' | 'fetch';

export type ResolvedKeySetOptions = Required<Omit<KeySetOptions, FunctionOption>> & Pick<KeySetOptions, FunctionOption>;

type NumericOption = keyof Omit<KeySetOptions, FunctionOption>;

const DEFAULTS: Record<NumericOption, number> = {
  timeoutMs: 5_000,
  cooldownMs: 30_000,
  maxAgeMs: 600_000,
  staleIfErrorMs: 86_400_000,
  maxBytes: 262_144,
  maxKeys: 100,
};

const WEEK_MS = 7 * 86_400_000;

/** Accepted ranges: wide enough for any deployment, narrow enough to refuse typos (seconds for ms). */
const RANGES: Record<NumericOption, readonly [number, number]> = {
  timeoutMs: [1, 120_000],
  cooldownMs: [0, 86_400_000],
  maxAgeMs: [1, WEEK_MS],
  staleIfErrorMs: [0, WEEK_MS],
  maxBytes: [1, 16 * 1024 * 1024],
  maxKeys: [1, 10_000],
};

function fail(option: string, problem: string): never {
  throw new OptionsError(`jwks.${option}`, problem);
}

/** Validates `jwks` options and fills in defaults; throws an `OptionsError` naming the bad option. */
export function parseKeySetOptions(value: unknown): ResolvedKeySetOptions {
  if (value === undefined) return { ...DEFAULTS };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError('jwks', 'must be an object');
  }
  rejectUnknownKeys(value, [...Object.keys(DEFAULTS), 'onKeySetEvent', 'fetch'], 'jwks');
  const out: ResolvedKeySetOptions = { ...DEFAULTS };
  for (const [key, v] of Object.entries(value)) {
    if (key === 'onKeySetEvent') {
      if (v !== undefined && typeof v !== 'function') fail(key, 'must be a function');
      out.onKeySetEvent = v as KeySetOptions['onKeySetEvent'];
      continue;
    }
    if (key === 'fetch') {
      if (!isFetchOption(v)) fail(key, FETCH_OPTION_SHAPE);
      out.fetch = v;
      continue;
    }
    if (v === undefined) continue;
    const [min, max] = RANGES[key as NumericOption];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      fail(key, `must be a whole number from ${min} to ${max}`);
    }
    out[key as NumericOption] = v;
  }
  return out;
}
