/** A bad option, thrown when a gate is created (at startup), never on a request. */
export class OptionsError extends TypeError {
  override name = 'OptionsError';
  constructor(option: string, problem: string) {
    super(`express-token-gate: option "${option}" ${problem}`);
  }
}

/** Names longer than this are not typos of an option name: they are not compared. */
const MAX_COMPARED_LENGTH = 64;

/**
 * Optimal string alignment distance (Damerau-Levenshtein where no substring is edited twice): the
 * fewest insertions, deletions, substitutions and swaps of adjacent characters from `a` to `b`.
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known name `name` was most likely meant to be: one that differs only in case, or else the
 * nearest within two edits (ignoring case; a swap of two adjacent letters is one edit). Undefined
 * when none is that close, or when the edits would replace the whole of `name`.
 *
 * @example closestName('audiance', ['issuer', 'audience']) // 'audience'
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  if (name.length > MAX_COMPARED_LENGTH) return undefined;
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    if (candidate === name) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance && distance < name.length) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "<closest>"?` for a name that is not known, or nothing when none is close. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const closest = closestName(name, known);
  return closest === undefined ? '' : `; did you mean "${closest}"?`;
}

/**
 * Throws an `OptionsError` for the first own key of `value` that is not in `known`, named
 * `<at>.<key>` under a nested object, and suggesting the closest known name.
 *
 * @example rejectUnknownKeys(options.cache, ['maxEntries'], 'cache')
 */
export function rejectUnknownKeys(
  value: object,
  known: readonly string[] | ReadonlySet<string>,
  at?: string,
  problem = 'is not a known option',
): void {
  const names: ReadonlySet<string> = known instanceof Set ? known : new Set(known);
  for (const key of Object.keys(value)) {
    if (!names.has(key))
      throw new OptionsError(at === undefined ? key : `${at}.${key}`, problem + didYouMean(key, names));
  }
}
