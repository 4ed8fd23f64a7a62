/**
 * Strict JSON for JOSE headers and claim sets. `JSON.parse` keeps the last of duplicate member
 * names, while other parsers keep the first or fail: a token whose meaning depends on the parser
 * is refused (RFC 7515 §5.2 step 4, RFC 7519 §4 allow it). `__proto__` members are refused too,
 * so no later merge by the application can turn token data into a prototype. Nesting is bounded
 * so nothing downstream (freezing, cloning, the application's own walks) recurses without limit.
 */

import { isUtf8 } from 'node:buffer';

/** Deepest object/array nesting accepted. Issuer tokens nest three levels at most. */
export const MAX_JSON_DEPTH = 32;

/** The parsed value, or why the bytes were refused. */
export type StrictJsonResult =
  { ok: true; value: unknown } | { ok: false; problem: 'encoding' | 'syntax' | 'duplicate' | 'prototype' | 'depth' };

const ENCODING: StrictJsonResult = { ok: false, problem: 'encoding' };
const SYNTAX: StrictJsonResult = { ok: false, problem: 'syntax' };
const DUPLICATE: StrictJsonResult = { ok: false, problem: 'duplicate' };
const PROTOTYPE: StrictJsonResult = { ok: false, problem: 'prototype' };
const DEPTH: StrictJsonResult = { ok: false, problem: 'depth' };

/**
 * Decodes strict UTF-8 (no BOM, no invalid sequences) and parses JSON, refusing duplicate or
 * `__proto__` member names at any depth and nesting deeper than `MAX_JSON_DEPTH`. Linear in the
 * input: one scan, one `JSON.parse` and one walk of the result.
 *
 * Duplicates are found by counting: the scan counts the member names written in the text, the
 * walk counts the members `JSON.parse` kept. Parsing only ever merges names, so the counts are
 * equal exactly when no object repeats a name, however the names are escaped ("a", "\u0061").
 * `JSON.parse` keeps a `__proto__` member as an own property, so the walk sees it too.
 */
export function parseStrictJson(bytes: Uint8Array): StrictJsonResult {
  // Decoding replaces each invalid sequence with U+FFFD: without one in the text, every byte was
  // valid; with one, the bytes are validated (U+FFFD may also be written out as such). No
  // exception either way, unlike a fatal TextDecoder. A BOM stays U+FEFF, which JSON.parse refuses.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.includes('\uFFFD') && !isUtf8(bytes)) return ENCODING;
  // The scan runs first so depth is bounded before the parser sees the input.
  const written = countMembers(text);
  if (written < 0) return DEPTH;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return SYNTAX;
  }
  const kept = countParsedMembers(value);
  if (kept < 0) return PROTOTYPE;
  return kept === written ? { ok: true, value } : DUPLICATE;
}

/**
 * Member names written in the text, or -1 when nesting goes deeper than `MAX_JSON_DEPTH`. One pass
 * tracking open containers. It assumes nothing about validity: on malformed input the count is
 * meaningless, and `JSON.parse` then rejects the text anyway.
 */
function countMembers(text: string): number {
  // For each open container, whether it is an object; `depth` containers are open.
  const isObject: boolean[] = [];
  let depth = 0;
  let members = 0;
  // True where the next string in the current object is a member name.
  let expectName = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth >= MAX_JSON_DEPTH) return -1;
      expectName = c === 0x7b;
      isObject[depth++] = expectName;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth > 0) depth -= 1;
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = depth > 0 && isObject[depth - 1] === true;
    } else if (c === 0x22 /* " */) {
      const end = closingQuote(text, i);
      if (end < 0) return members; // an unterminated string: JSON.parse reports it
      if (expectName) members += 1;
      expectName = false;
      i = end;
    }
  }
  return members;
}

/** Own members of every object in a parsed JSON value, or -1 when one of them is `__proto__`. */
function countParsedMembers(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let members = 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      const inner = countParsedMembers(item);
      if (inner < 0) return -1;
      members += inner;
    }
    return members;
  }
  if (Object.hasOwn(value, '__proto__')) return -1;
  const names = Object.keys(value);
  members += names.length;
  for (const name of names) {
    const inner = countParsedMembers((value as Record<string, unknown>)[name]);
    if (inner < 0) return -1;
    members += inner;
  }
  return members;
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
