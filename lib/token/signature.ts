/**
 * The signature step. `checkSignatureEncoding` is the structural part, run before any key lookup;
 * `verifySignature` is the cryptographic part: ES256 through node:crypto's OpenSSL binding
 * (ecdsa.ts), every other algorithm through jose's flattenedVerify (jose loads on its first such
 * token), over the exact segments.
 * The verifier and the conformance vectors go through these same two functions.
 */
import { InvalidTokenError } from '../errors';
import { flattenedVerifyWithJose } from '../jwks/jose';
import { es256KeyObject } from './ecdsa';
import { verifyJwsOffLoop } from './es256-thread';
import { parseStrictJson } from './json';

/** The three segments of a compact JWS, as received. */
export interface JwsSegments {
  protected: string;
  payload: string;
  signature: string;
}

/** Signature sizes of the fixed-size JWS algorithms (raw r‖s for ECDSA, RFC 7518 §3.4). */
const SIGNATURE_BYTES: Record<string, number> = { ES256: 64, ES384: 96, ES512: 132, EdDSA: 64, Ed25519: 64 };

/** Group orders n of the ECDSA curves (SEC 2 §2.4.2, §2.5.1, §2.6.1), big-endian at scalar width. */
const ECDSA_ORDER: Record<string, Buffer> = {
  ES256: Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex'),
  ES384: Buffer.from(
    'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    'hex',
  ),
  ES512: Buffer.from(
    '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    'hex',
  ),
};

function invalid(description: string): InvalidTokenError {
  return new InvalidTokenError('signature_invalid', description);
}

/** 1 <= scalar < n, for big-endian byte strings of the same width. */
function inRange(scalar: Uint8Array, n: Buffer): boolean {
  return scalar.some((byte) => byte !== 0) && Buffer.compare(scalar, n) < 0;
}

/**
 * Structural checks on signature bytes: the exact size for fixed-size algorithms, and for ECDSA
 * both scalars in [1, n − 1] (SEC 1 §4.1.4 step 1). The range check does not rely on the crypto
 * backend to refuse r = 0 or s = 0 (CVE-2022-21449) and spares it work for such input.
 * Throws `InvalidTokenError('signature_invalid')`.
 */
export function checkSignatureEncoding(alg: string, signature: Uint8Array): void {
  const size = SIGNATURE_BYTES[alg];
  if (size === undefined) return;
  if (signature.length !== size) throw invalid('The token signature has the wrong length');
  const n = ECDSA_ORDER[alg];
  if (n === undefined) return;
  if (!inRange(signature.subarray(0, size / 2), n) || !inRange(signature.subarray(size / 2), n)) {
    throw invalid('The token signature is out of range');
  }
}

/** A canonical base64url ES256 signature: 64 bytes in 86 characters, the last carrying 4 bits. */
const ES256_SIGNATURE = /^[A-Za-z0-9_-]{85}[AQgw]$/;

/** The `alg` of a protected header jose would act on (a JSON object with neither `crit` nor `b64`). */
function headerAlgorithm(segment: string): string | undefined {
  const parsed = parseStrictJson(Buffer.from(segment, 'base64url'));
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return undefined;
  const { alg, crit, b64 } = parsed.value as Record<string, unknown>;
  return typeof alg === 'string' && crit === undefined && b64 === undefined ? alg : undefined;
}

/**
 * Verifies the signature of prechecked segments with `key`, allowing only `algorithms`.
 * `alg` is the protected header's, when the caller has read it already (the verifier has).
 * Throws `InvalidTokenError('signature_invalid')`.
 *
 * @example await verifySignature(precheckJws(token, options).segments, key, ['ES256']);
 */
export function verifySignature(
  jws: JwsSegments,
  key: CryptoKey,
  algorithms: readonly string[],
  alg: string | undefined = headerAlgorithm(jws.protected),
): Promise<void> {
  // ES256 with a P-256 key and a canonical signature: the only shape node:crypto checks here.
  // Anything else, including every malformed case, goes to jose.
  const keyObject =
    alg === 'ES256' && algorithms.includes(alg) && ES256_SIGNATURE.test(jws.signature)
      ? es256KeyObject(key)
      : undefined;
  // Thrown inside the callbacks, not returned as `Promise.reject(…)`: a rejected Promise without a
  // handler yet goes through Node's unhandled-rejection bookkeeping, twice, for every forged token.
  if (keyObject === undefined) {
    return flattenedVerifyWithJose(jws, key, algorithms).catch(() => {
      throw invalid('The token signature is invalid');
    });
  }
  return verifyJwsOffLoop(keyObject, jws.protected, jws.payload, jws.signature).then((valid) => {
    if (!valid) throw invalid('The token signature is invalid');
  });
}
