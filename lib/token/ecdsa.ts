/**
 * ES256 through Node's own OpenSSL binding (`crypto.verify` over a `KeyObject`): the ECDSA
 * verification WebCrypto (and so jose) reaches too, without WebCrypto's per-call algorithm
 * normalisation, job object and promise. No arithmetic or signature parsing of our own: OpenSSL
 * reads the raw r‖s (`dsaEncoding: 'ieee-p1363'`), hashes the signing input and verifies.
 */
import { KeyObject } from 'node:crypto';
import { verifyOffLoop } from './es256-thread';

/**
 * The key set hands out the same CryptoKey objects for every token: each is judged and converted
 * once. `null` marks a key that is not a P-256 ECDSA public verification key (jose decides then).
 */
const keyObjects = new WeakMap<CryptoKey, KeyObject | null>();

/**
 * The `KeyObject` of an ES256 verification key, or undefined when `key` is anything else: not a
 * public key, not ECDSA on P-256, or without the `verify` usage (the conditions under which jose
 * lets WebCrypto verify ES256).
 */
export function es256KeyObject(key: CryptoKey): KeyObject | undefined {
  let found = keyObjects.get(key);
  if (found === undefined) {
    const algorithm = key.algorithm as Partial<EcKeyAlgorithm>;
    const usable =
      key.type === 'public' &&
      algorithm.name === 'ECDSA' &&
      algorithm.namedCurve === 'P-256' &&
      key.usages.includes('verify');
    found = usable ? KeyObject.from(key) : null;
    keyObjects.set(key, found);
  }
  return found ?? undefined;
}

/**
 * Whether `signature` (raw r‖s) signs `data` under the P-256 `key`. The check runs off the event
 * loop, on the library's ES256 thread or on the libuv pool (es256-thread.ts): the loop only hands
 * it over, so on a machine with a spare core the ECDSA work runs beside the HTTP work instead of
 * after it. On this thread (`crypto.verify` without a callback) it costs less CPU in all but
 * blocks the loop for the whole check; end to end off the loop wins (bench/RESULTS.md). False,
 * never a rejection, for a signature OpenSSL cannot read.
 */
export function verifyEs256(key: KeyObject, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return verifyOffLoop(key, data, signature);
}
