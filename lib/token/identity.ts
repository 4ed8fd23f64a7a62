/**
 * Token identity: one key per token, the same for every spelling the verifier accepts.
 *
 * A token string is not an identity. An ECDSA signature (r, s) has a twin (r, n − s) that
 * verifies over the same bytes, so one token has two valid strings, and an RSA-PSS or ECDSA signer
 * could sign the same claims many times. What every accepted spelling shares is its signing input
 * (`header.payload`, canonical base64url only, so it has one spelling) and therefore its `tid`.
 * The identity is `tid:<tid>` when the token carries a `tid`, else `sha256:<digest of the signing
 * input>`.
 */
import { createHash } from 'node:crypto';
import { InvalidTokenError } from '../errors';
import { MAX_TOKEN_LENGTH, isCanonicalBase64url } from './precheck';
import { parseStrictJson } from './json';
import type { AccessTokenClaims } from './claims';

/** Where the verifier keeps, out of sight, the token a claims object was read from. */
const SOURCE = Symbol('express-token-gate.token');

/** Longest `tid` the claims accept (the claims' short-string bound). */
const MAX_TID_LENGTH = 256;

/**
 * Records on `claims` (before they are frozen) the token they were verified from, as a
 * non-enumerable property: invisible to JSON, spreading and equality, there for `tokenIdentity`.
 */
export function bindSource(claims: AccessTokenClaims, token: string): AccessTokenClaims {
  Object.defineProperty(claims, SOURCE, { value: token });
  return claims;
}

function signingInputDigest(token: string): string {
  const signingInput = token.slice(0, token.lastIndexOf('.'));
  return `sha256:${createHash('sha256').update(signingInput).digest('base64url')}`;
}

/**
 * The identity of verified claims: from `tid`, or from the signing input of the token they were
 * verified from. Undefined for claims without `tid` that did not come from the verifier (a copy).
 */
export function tokenIdentity(claims: AccessTokenClaims): string | undefined {
  if (typeof claims.tid === 'string' && claims.tid.length > 0) return `tid:${claims.tid}`;
  const source = (claims as { [SOURCE]?: unknown })[SOURCE];
  return typeof source === 'string' ? signingInputDigest(source) : undefined;
}

/** What an unverified token says about itself: enough to name it and to know when it ends. */
export interface UnverifiedIdentity {
  id: string;
  /** The token's `exp` (or Picket's `ext` when `exp` is absent), seconds since the epoch. */
  exp: number;
}

function malformed(description: string): InvalidTokenError {
  return new InvalidTokenError('token_malformed', description);
}

function decodeObject(segment: string, what: string): Record<string, unknown> {
  if (!isCanonicalBase64url(segment)) throw malformed(`The token ${what} is not canonical base64url`);
  const parsed = parseStrictJson(Buffer.from(segment, 'base64url'));
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    throw malformed(`The token ${what} is not a JSON object`);
  }
  return parsed.value as Record<string, unknown>;
}

/**
 * Reads the identity and expiry of a compact JWS without verifying it: nothing but its identity is
 * trusted. Throws `InvalidTokenError` (`token_malformed`, `claim_invalid`) for anything the
 * verifier could never accept as a token: a wrong shape, non-canonical segments, JSON that is
 * not an object, a missing or non-numeric `exp`, a `tid` that is not a short string.
 */
export function readUnverifiedIdentity(token: string): UnverifiedIdentity {
  if (typeof token !== 'string') throw malformed('The token is not a string');
  if (token.length > MAX_TOKEN_LENGTH) throw new InvalidTokenError('token_too_large', 'The token is too large');
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed('The token does not have three segments');
  decodeObject(parts[0]!, 'header');
  const payload = decodeObject(parts[1]!, 'payload');
  if (!isCanonicalBase64url(parts[2]!)) throw malformed('The token signature is not canonical base64url');
  const exp = payload.exp ?? payload.ext;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new InvalidTokenError('claim_invalid', 'The token has no numeric exp');
  }
  const { tid } = payload;
  if (tid === undefined) return { id: signingInputDigest(token), exp };
  if (typeof tid !== 'string' || tid.length === 0 || tid.length > MAX_TID_LENGTH) {
    throw new InvalidTokenError('claim_invalid', 'The tid claim is not a string');
  }
  return { id: `tid:${tid}`, exp };
}
