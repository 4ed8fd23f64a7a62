/**
 * Strict JSON for JOSE headers and claim sets. `JSON.parse` keeps the last of duplicate member
 * names, while other parsers keep the first or fail: a token whose meaning depends on the parser
 * is refused (RFC 7515 §5.2 step 4, RFC 7519 §4 allow it). `__proto__` members are refused too,
 * so no later merge by the application can turn token data into a prototype. Nesting is bounded
 * so nothing downstream (freezing, cloning, the application's own walks) recurses without limit.
 */

/** Deepest object/array nesting accepted. Issuer tokens nest three levels at most. */
export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The parsed value, or why the bytes were refused. */
export type StrictJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; problem: 'encoding' | 'syntax' | 'duplicate' | 'prototype' | 'depth' };

/**
 * Decodes strict UTF-8 (no BOM, no invalid sequences) and parses JSON, refusing duplicate or
 * `__proto__` member names at any depth and nesting deeper than `MAX_JSON_DEPTH`. Linear in the
 * input: one `JSON.parse` and one scan.
 */
export function parseStrictJson(bytes: Uint8Array): StrictJsonResult {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, problem: 'encoding' };
  }
  // The scan runs first so depth is bounded before the parser sees the input.
  const problem = scanMembers(text);
  if (problem) return { ok: false, problem };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: 'syntax' };
  }
}

/**
 * One pass over the text tracking open containers and the member names seen in each object.
 * It assumes nothing about validity: malformed input only yields a wrong answer here that
 * `JSON.parse` then rejects as a syntax error.
 */
function scanMembers(text: string): 'duplicate' | 'prototype' | 'depth' | undefined {
  // For each open container: the member names of an object, or null for an array.
  const stack: Array<Set<string> | null> = [];
  // True where the next string in the current object is a member name.
  let expectName = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= MAX_JSON_DEPTH) return 'depth';
      stack.push(c === 0x7b ? new Set() : null);
      expectName = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = stack.length > 0 && stack[stack.length - 1] !== null;
    } else if (c === 0x22 /* " */) {
      const end = closingQuote(text, i);
      if (end < 0) return undefined; // an unterminated string: JSON.parse reports it
      const names = stack[stack.length - 1];
      if (expectName && names) {
        const raw = text.slice(i, end + 1);
        let name: string;
        try {
          name = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        } catch {
          return undefined; // a broken escape: JSON.parse reports it
        }
        if (name === '__proto__') return 'prototype';
        if (names.has(name)) return 'duplicate';
        names.add(name);
      }
      expectName = false;
      i = end;
    }
  }
  return undefined;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function closingQuote(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end > 0) {
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes += 1;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}
