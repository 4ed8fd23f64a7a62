/**
 * jose, loaded on first use. ES256 keys are imported and checked through node:crypto; jose is
 * needed only for a key or a token of another algorithm, so `require('express-token-gate')` does
 * not pay for loading it. `require` rather than `import()`: jose ships only ES modules, which
 * Node >= 20.19 requires synchronously, and which Jest's CommonJS runtime transforms (a dynamic
 * `import()` would need --experimental-vm-modules there). The exported signatures name only the
 * library's own types, so no published declaration refers to jose.
 */
import type { PublicJwk } from './parse';

type Jose = typeof import('jose');

let jose: Jose | undefined;

function load(): Jose {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (jose ??= require('jose') as Jose);
}

/** jose's importJWK: a key of any algorithm but ES256. */
export function importJwkWithJose(jwk: PublicJwk, alg: string): Promise<CryptoKey | Uint8Array> {
  return load().importJWK(jwk, alg);
}

/** jose's flattenedVerify over the segments of a compact JWS; rejects when the signature is not valid. */
export async function flattenedVerifyWithJose(
  jws: { protected: string; payload: string; signature: string },
  key: CryptoKey,
  algorithms: readonly string[],
): Promise<void> {
  await load().flattenedVerify(jws, key, { algorithms: [...algorithms] });
}
