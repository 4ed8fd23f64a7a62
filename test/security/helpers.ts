/**
 * What only the security suite needs: P-256 scalars, signature surgery and the vendored
 * Wycheproof vectors. The harness, issuers and constants are shared with every suite in
 * test/helpers.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { b64url } from '../helpers/fixtures';

/** The Wycheproof vectors vendored in test/fixtures/wycheproof (see its README for the upstream commit). */
export function wycheproofDir(): string {
  const dir = path.resolve(__dirname, '../fixtures/wycheproof');
  if (!existsSync(dir)) throw new Error(`Wycheproof vectors not found at ${dir}`);
  return dir;
}

/** A 32-byte big-endian scalar. */
export function scalar(value: bigint): Buffer {
  if (value < 0n || value >= 1n << 256n) throw new RangeError('scalar out of 32 bytes');
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

export const toBigInt = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

/** Replaces the signature segment of a compact token. */
export function withSignature(token: string, signature: Uint8Array | string): string {
  const [h, p] = token.split('.');
  return `${h}.${p}.${typeof signature === 'string' ? signature : b64url(signature)}`;
}

export const signatureOf = (token: string): Buffer => Buffer.from(token.split('.')[2]!, 'base64url');
