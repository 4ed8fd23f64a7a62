/**
 * Cheap, strict checks that run before any key lookup or signature work: size, shape, canonical
 * base64url, strict JSON and a protected header the verifier is willing to act on.
 */
import { InvalidTokenError } from '../errors';
import { parseStrictJson } from './json';
import { mediaType } from './media-type';
import { checkSignatureEncoding, type JwsSegments } from './signature';

/** Tokens longer than this are refused before decoding. Picket tokens are well under 2 KiB. */
export const MAX_TOKEN_LENGTH = 8192;

/** Header parameters that would let the token choose its own key (RFC 8725 §3.10). */
const KEY_CARRYING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256'];

const B64URL = /^[A-Za-z0-9_-]+$/;
/** In canonical base64url the unused low bits of the last character are zero. */
const LAST_CHAR_2 = /[AQgw]$/; // length % 4 === 2: 4 unused bits
const LAST_CHAR_3 = /[AEIMQUYcgkosw048]$/; // length % 4 === 3: 2 unused bits

export interface ProtectedHeader {
  alg: string;
  kid: string | undefined;
  typ: string | undefined;
  [name: string]: unknown;
}

/** A compact JWS whose encoding and protected header passed every check. */
export interface PrecheckedJws {
  header: ProtectedHeader;
  segments: JwsSegments;
}

/** A prechecked JWS whose payload is a JSON object (a JWT claim set, not yet verified). */
export interface PrecheckedToken extends PrecheckedJws {
  payload: Record<string, unknown>;
}

export interface PrecheckOptions {
  algorithms: readonly string[];
  /** Allowed `typ` values as full lower-case media types (see `mediaType`), or undefined for any. */
  typ: readonly string[] | undefined;
}

function malformed(description: string): InvalidTokenError {
  return new InvalidTokenError('token_malformed', description);
}

/** True when `segment` is canonical, non-empty, unpadded base64url (RFC 7515 §2, RFC 4648 §3.5). */
export function isCanonicalBase64url(segment: string): boolean {
  if (!B64URL.test(segment)) return false;
  switch (segment.length % 4) {
    case 0:
      return true;
    case 2:
      return LAST_CHAR_2.test(segment);
    case 3:
      return LAST_CHAR_3.test(segment);
    default:
      return false;
  }
}

const JSON_PROBLEMS = {
  encoding: 'is not valid UTF-8',
  syntax: 'is not valid JSON',
  duplicate: 'repeats a member name',
  prototype: 'uses a reserved member name',
  depth: 'is nested too deeply',
} as const;

/**
 * Protected headers of tokens that verified, by segment, as decoded: an issuer signs every token
 * under the same few headers, so a new token's header is usually decoded once per process. The
 * checks on the header still run for every token; only the decoding is skipped. Bounded (emptied
 * when full); only a verified token adds to it, so junk never displaces an issuer's header.
 */
const verifiedHeaders = new Map<string, Readonly<Record<string, unknown>>>();
const MAX_VERIFIED_HEADERS = 64;

/** Records the decoded header of a token whose signature verified (see `verifiedHeaders`). */
export function rememberHeader(segment: string, header: Readonly<Record<string, unknown>>): void {
  if (verifiedHeaders.get(segment) === header) return;
  if (verifiedHeaders.size >= MAX_VERIFIED_HEADERS) verifiedHeaders.clear();
  verifiedHeaders.set(segment, Object.freeze(header));
}

/** Decodes a canonical base64url segment as strict JSON that must be an object. */
function decodeJsonObject(segment: string, what: string, canonical = false): Record<string, unknown> {
  if (!canonical && !isCanonicalBase64url(segment)) throw malformed(`The token ${what} is not canonical base64url`);
  const parsed = parseStrictJson(Buffer.from(segment, 'base64url'));
  if (!parsed.ok) {
    throw malformed(`The token ${what} ${JSON_PROBLEMS[parsed.problem]}`);
  }
  const value = parsed.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`The token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Throws `InvalidTokenError('token_too_large')` for a token longer than `MAX_TOKEN_LENGTH`. */
export function checkTokenSize(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidTokenError('token_too_large', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
}

/**
 * Splits and checks a compact JWS without looking at its payload: size, three canonical
 * segments, a strict JSON header with an allowed `alg`, no key-carrying or critical parameters,
 * and a signature of the algorithm's exact size. Throws `InvalidTokenError`; never fetches keys.
 */
export function precheckJws(token: string, options: PrecheckOptions): PrecheckedJws {
  checkTokenSize(token);
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('The token does not have three segments');
  const [h, p, s] = parts as [string, string, string];
  // The header is read first so that an unsecured or foreign-algorithm token is reported as such
  // (RFC 8725 §3.1), whatever its other segments look like.
  const header = verifiedHeaders.get(h) ?? decodeJsonObject(h, 'header');
  const { alg, kid, typ, crit } = header;
  if (typeof alg !== 'string' || !options.algorithms.includes(alg)) {
    throw new InvalidTokenError('algorithm_not_allowed', 'The token algorithm is not allowed');
  }
  if (crit !== undefined || header.b64 !== undefined) {
    throw new InvalidTokenError('header_not_allowed', 'The token header uses an unsupported extension');
  }
  for (const name of KEY_CARRYING_HEADERS) {
    if (header[name] !== undefined) {
      throw new InvalidTokenError('header_not_allowed', 'The token header carries its own key material');
    }
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) {
    throw malformed('The token kid is not a short string');
  }
  if (typ !== undefined && typeof typ !== 'string') throw malformed('The token typ is not a string');
  if (options.typ && !(typeof typ === 'string' && options.typ.includes(mediaType(typ)))) {
    throw new InvalidTokenError('type_not_allowed', 'The token type is not allowed');
  }
  if (!isCanonicalBase64url(p) || !isCanonicalBase64url(s)) throw malformed('The token is not canonical base64url');
  checkSignatureEncoding(alg, Buffer.from(s, 'base64url'));
  return { header: header as ProtectedHeader, segments: { protected: h, payload: p, signature: s } };
}

/** The payload of a prechecked JWS, decoded as a strict JSON object (a claim set, not yet verified). */
export function decodePayload(jws: PrecheckedJws): Record<string, unknown> {
  // precheckJws checked the segment's encoding already.
  return decodeJsonObject(jws.segments.payload, 'payload', true);
}
