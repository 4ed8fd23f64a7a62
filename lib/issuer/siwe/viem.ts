/**
 * viem, an optional peer dependency, does the secp256k1 and keccak work: EIP-55 checksums, signer
 * recovery, and contract-wallet checks over JSON-RPC. It is loaded with `require` on first use
 * (`import()` fails under Jest without --experimental-vm-modules), so modules that only import
 * this room load without it.
 */
type Viem = typeof import('viem');

export const MISSING_VIEM =
  'express-token-gate: Ethereum logins need the "viem" package (an optional peer dependency). Install it: npm install viem';

let loaded: Viem | undefined;

export function loadViem(): Viem {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('viem') as Viem;
  } catch (error) {
    const missing = (error as { code?: string }).code === 'MODULE_NOT_FOUND' && /'viem'/.test((error as Error).message);
    throw new Error(missing ? MISSING_VIEM : 'express-token-gate: viem failed to load', { cause: error });
  }
  return loaded;
}
