/**
 * Cheap, strict checks that run before any key lookup or signature work: size, shape, canonical
 * base64url and a protected header the verifier is willing to act on.
 */
import { InvalidTokenError } from '../errors';

/** Tokens longer than this are refused before decoding. Picket tokens are well under 2 KiB. */
export const MAX_TOKEN_LENGTH = 8192;

/** Signature sizes for the fixed-size JWS algorithms (raw r‖s for ECDSA, RFC 7518 §3.4). */
const SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132, EdDSA: 64, Ed25519: 64 };

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

export interface PrecheckedToken {
  header: ProtectedHeader;
  payload: Record<string, unknown>;
}

function malformed(description: string): InvalidTokenError {
  return new InvalidTokenError('token_malformed', description);
}

/** True when `segment` is canonical unpadded base64url (RFC 7515 §2, RFC 4648 §3.5). */
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

/** Decodes a base64url segment as strict UTF-8 JSON that must be an object. */
function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(segment, 'base64url'));
    value = JSON.parse(text);
  } catch {
    throw malformed(`The token ${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`The token ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

export interface PrecheckOptions {
  algorithms: readonly string[];
  typ: readonly string[] | undefined;
}

/** Splits and checks a compact JWS; throws `InvalidTokenError` for anything not worth verifying. */
export function precheck(token: string, options: PrecheckOptions): PrecheckedToken {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidTokenError('token_too_large', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('The token does not have three segments');
  const [h, p, s] = parts as [string, string, string];
  if (!isCanonicalBase64url(h) || !isCanonicalBase64url(p) || !isCanonicalBase64url(s)) {
    throw malformed('The token is not canonical base64url');
  }
  const header = decodeJsonObject(h, 'header');
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
  if (options.typ && !(typeof typ === 'string' && options.typ.includes(typ.toLowerCase()))) {
    throw new InvalidTokenError('type_not_allowed', 'The token type is not allowed');
  }
  const expected = SIGNATURE_BYTES[alg];
  if (expected !== undefined && Buffer.byteLength(s, 'base64url') !== expected) {
    throw new InvalidTokenError('signature_invalid', 'The token signature has the wrong length');
  }
  const payload = decodeJsonObject(p, 'payload');
  return { header: header as ProtectedHeader, payload };
}
