/**
 * Claim checks: an application's own rule over the verified claims (an email domain, a role, a
 * tenant), validated when the middleware is created and run on every request, cached tokens
 * included. A failed check is a 403 `insufficient_scope` with reason `claim_check_failed`.
 */
import { ClaimCheckError, OptionsError, rejectUnknownKeys } from '../errors';
import type { AccessTokenClaims } from '../token/claims';

/** A predicate over the verified claims: `true` lets the request through, `false` refuses it. */
export type ClaimCheck = (claims: AccessTokenClaims) => boolean;

/** A check ready to run: throws `ClaimCheckError` when the claims fail it. */
export interface CompiledClaimCheck {
  check(claims: AccessTokenClaims): void;
}

/** What `claimEquals` and `claimIncludes` compare with. */
export type ClaimValue = string | number | boolean | null;

export const DEFAULT_CLAIM_CHECK_DESCRIPTION = 'The token does not meet the conditions of this resource';

/** Sent in `WWW-Authenticate` as is, so it must fit RFC 6750's error_description characters. */
const DESCRIPTION = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

/**
 * Validates `check` and `description` (throws an `OptionsError` naming `option`) and returns the
 * compiled check. Only `true` passes and only `false` refuses: anything else (a Promise from an
 * async predicate, a truthy string) is a programming error that reaches the application's error
 * handler, so the request fails closed instead of passing on a truthy value.
 */
export function compileClaimCheck(check: unknown, description: unknown, option: string): CompiledClaimCheck {
  if (typeof check !== 'function')
    throw new OptionsError(option, 'must be a function of the claims returning true or false');
  let text = DEFAULT_CLAIM_CHECK_DESCRIPTION;
  if (description !== undefined) {
    if (typeof description !== 'string' || !DESCRIPTION.test(description)) {
      throw new OptionsError(
        `${option} description`,
        'must be 1 to 200 printable characters without quotes or backslashes',
      );
    }
    text = description;
  }
  const predicate = check as ClaimCheck;
  return {
    check(claims) {
      const answer: unknown = predicate(claims);
      if (answer === true) return;
      if (answer === false) throw new ClaimCheckError(text);
      throw new TypeError(`express-token-gate: a claim check must return true or false, not ${describe(answer)}`);
    },
  };
}

/** The `claims` option: a check, or `{ check, description }`. */
export function parseClaimsOption(value: unknown): CompiledClaimCheck | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') return compileClaimCheck(value, undefined, 'claims');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError('claims', 'must be a function of the claims or { check, description }');
  }
  rejectUnknownKeys(value, ['check', 'description'], 'claims');
  const { check, description } = value as { check?: unknown; description?: unknown };
  return compileClaimCheck(check, description, 'claims.check');
}

function describe(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
    return 'a Promise (claim checks are synchronous)';
  }
  return value === null ? 'null' : typeof value;
}

function claimName(name: unknown, helper: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new OptionsError(`${helper}(claim)`, 'must be a claim name');
  return name;
}

function claimValue(value: unknown, helper: string): ClaimValue {
  if (
    value === null ||
    ['string', 'boolean'].includes(typeof value) ||
    (typeof value === 'number' && Number.isFinite(value))
  ) {
    return value as ClaimValue;
  }
  throw new OptionsError(`${helper}(value)`, 'must be a string, a finite number, a boolean or null');
}

function own(claims: AccessTokenClaims, name: string): unknown {
  return Object.hasOwn(claims, name) ? claims[name] : undefined;
}

/**
 * A check that the claim `name` equals `expected` exactly (express-oauth2-jwt-bearer's
 * `claimEquals`).
 *
 * @example app.get('/staff', gate.requireClaims(claimEquals('email_verified', true)), handler);
 */
export function claimEquals(name: string, expected: ClaimValue): ClaimCheck {
  const claim = claimName(name, 'claimEquals');
  const value = claimValue(expected, 'claimEquals');
  return (claims) => own(claims, claim) === value;
}

/**
 * A check that the claim `name` (a list, or a space-separated string such as `scope`) includes
 * every one of `expected` (express-oauth2-jwt-bearer's `claimIncludes`).
 *
 * @example app.get('/admin', gate.requireClaims(claimIncludes('roles', 'admin')), handler);
 */
export function claimIncludes(name: string, ...expected: ClaimValue[]): ClaimCheck {
  const claim = claimName(name, 'claimIncludes');
  if (expected.length === 0) throw new OptionsError('claimIncludes(values)', 'needs at least one value');
  const wanted = expected.map((v) => claimValue(v, 'claimIncludes'));
  return (claims) => {
    const actual = own(claims, claim);
    const list: readonly unknown[] | undefined =
      typeof actual === 'string' ? actual.split(' ') : Array.isArray(actual) ? actual : undefined;
    return list !== undefined && wanted.every((v) => list.includes(v));
  };
}
