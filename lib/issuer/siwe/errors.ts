/**
 * Every refusal of a login message names the field that disagreed: a stable `reason`, a short
 * `message`, the `field` (the context's key) and a `kind` that picks the answer's status.
 */

/** `malformed`: the message or context breaks EIP-4361 (400). `refused`: well-formed but not
 * acceptable here (401). `forbidden`: signed for another page than the browser's origin (403).
 * `unavailable`: the chain could not be asked (503). */
export type SiweErrorKind = 'malformed' | 'refused' | 'forbidden' | 'unavailable';

/** The context's field names, in message order. */
export type SiweField =
  | 'scheme'
  | 'domain'
  | 'address'
  | 'statement'
  | 'uri'
  | 'version'
  | 'chainId'
  | 'nonce'
  | 'issuedAt'
  | 'expirationTime'
  | 'notBefore'
  | 'requestId'
  | 'resources'
  | 'message'
  | 'signature';

export class SiweError extends Error {
  override name = 'SiweError';
  constructor(
    /** Stable code, e.g. `uri_missing`, `address_not_checksummed`, `expired`, `signature_invalid`. */
    readonly reason: string,
    message: string,
    readonly field: SiweField,
    readonly kind: SiweErrorKind = 'malformed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** snake_case of a field name: `chainId` → `chain_id`. */
export function reasonOf(field: SiweField, problem: string): string {
  return `${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_${problem}`;
}

export function missing(field: SiweField, what: string): SiweError {
  return new SiweError(reasonOf(field, 'missing'), `${what} is missing`, field);
}

export function invalid(field: SiweField, why: string): SiweError {
  return new SiweError(reasonOf(field, 'invalid'), why, field);
}

export function refused(reason: string, message: string, field: SiweField): SiweError {
  return new SiweError(reason, message, field, 'refused');
}
