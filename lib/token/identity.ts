/**
 * Token identity: one key per token, the same for every spelling the verifier accepts, scoped by
 * the issuer that signed it.
 *
 * A token string is not an identity. An ECDSA signature (r, s) has a twin (r, n − s) that
 * verifies over the same bytes, so one token has two valid strings, and an RSA-PSS or ECDSA signer
 * could sign the same claims many times. What every accepted spelling shares is its signing input
 * (`header.payload`, canonical base64url only, so it has one spelling) and therefore its `tid`.
 * The identity is `<scope>|tid:<tid>` when the token carries a `tid`, else `<scope>|sha256:<digest
 * of the signing input>`; `<scope>` is `iss:<digest of iss>`, so two issuers of one gate never
 * share an identity, and an identity has a bounded length whatever the issuer's name.
 */
import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from './claims';

/**
 * Every claims object the verifier produced, after all its checks passed, and the token it was
 * read from (for `tokenIdentity`). Private to this module: membership cannot be copied onto
 * another object (unlike a property), so nothing a caller builds, spreads or parses from JSON
 * passes for verified claims, and a copy has no token.
 */
const verified = new WeakMap<object, string>();

/** Longest session id kept as it is in an identity; a longer one is digested. */
const MAX_SID_LENGTH = 256;

/**
 * Marks `claims` as having passed every check of a verifier (signature, issuer, audience, time),
 * as read from `token`.
 */
export function markVerified(claims: AccessTokenClaims, token: string): AccessTokenClaims {
  verified.set(claims, token);
  return claims;
}

/** Whether `value` is a claims object a verifier produced (not a copy, not a lookalike). */
export function isVerifiedClaims(value: unknown): value is AccessTokenClaims {
  return typeof value === 'object' && value !== null && verified.has(value);
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Issuer scopes, by `iss`: a gate trusts at most a few issuers, so this stays small. */
const scopes = new Map<string, string>();
const MAX_SCOPES = 1000;

function issuerScope(iss: string): string {
  let scope = scopes.get(iss);
  if (scope === undefined) {
    if (scopes.size >= MAX_SCOPES) scopes.clear();
    scope = `iss:${digest(iss)}`;
    scopes.set(iss, scope);
  }
  return scope;
}

/**
 * The identity of verified claims: their issuer's scope, then `tid`, or the digest of the signing
 * input of the token they were verified from. Undefined for claims without `tid` that did not come
 * from the verifier (a copy).
 */
export function tokenIdentity(claims: AccessTokenClaims): string | undefined {
  const scope = issuerScope(String(claims.iss));
  if (typeof claims.tid === 'string' && claims.tid.length > 0) return `${scope}|tid:${claims.tid}`;
  const source = verified.get(claims);
  if (source === undefined) return undefined;
  return `${scope}|sha256:${digest(source.slice(0, source.lastIndexOf('.')))}`;
}

/**
 * The identity of the session the claims belong to (`<scope>|sid:<sid>`), when they carry a
 * non-empty string `sid`; undefined otherwise. A `sid` over 256 characters is digested
 * (`<scope>|sid-sha256:<digest>`), so identities stay bounded.
 */
export function sessionIdentity(claims: AccessTokenClaims): string | undefined {
  const { sid } = claims;
  if (typeof sid !== 'string' || sid.length === 0) return undefined;
  const scope = issuerScope(String(claims.iss));
  return sid.length > MAX_SID_LENGTH ? `${scope}|sid-sha256:${digest(sid)}` : `${scope}|sid:${sid}`;
}
