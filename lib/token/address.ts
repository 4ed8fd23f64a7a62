/**
 * Chain-aware addresses: EVM hex addresses are case-insensitive (EIP-55 case is only a checksum),
 * base58 addresses (Solana) and everything else compare exactly.
 */

/** Chains whose addresses are 20-byte hex (`0x` + 40 hex digits). */
export const EVM_CHAINS: ReadonlySet<string> = new Set([
  'ethereum', 'polygon', 'arbitrum', 'optimism', 'base', 'avalanche', 'bsc', 'fantom', 'gnosis',
  'celo', 'zksync', 'linea', 'scroll', 'sepolia', 'goerli', 'holesky', 'mumbai',
]);

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** A chain name as tokens and requirements spell it: lower case, e.g. `ethereum`, `solana`. */
export const CHAIN_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const BASE58_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

/** `0x` followed by 40 hex digits, in any case. */
export function isEvmAddress(address: string): boolean {
  return EVM_ADDRESS.test(address);
}

export function isEvmChain(chain: string): boolean {
  return EVM_CHAINS.has(chain);
}

/** The form an address is compared in: lower-case hex on EVM chains, unchanged elsewhere. */
export function addressKey(chain: string, address: string): string {
  return isEvmChain(chain) && EVM_ADDRESS.test(address) ? address.toLowerCase() : address;
}

/** Checks that `address` is well-formed for `chain`; returns a problem description or undefined. */
export function addressProblem(chain: string, address: unknown): string | undefined {
  if (typeof address !== 'string' || address.length === 0 || address.length > 256) return 'must be a non-empty string';
  if (isEvmChain(chain) && !EVM_ADDRESS.test(address)) return `is not a 0x-prefixed 40-digit hex address (chain ${chain})`;
  if (chain === 'solana' && !BASE58_ADDRESS.test(address)) return 'is not a base58 Solana address';
  return undefined;
}
