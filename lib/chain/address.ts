/**
 * Chain-aware addresses: EVM hex addresses are case-insensitive (EIP-55 case is only a checksum),
 * base58 addresses (Solana) and everything else compare exactly.
 */

/** Chains whose addresses are 20-byte hex (`0x` + 40 hex digits). */
export const EVM_CHAINS: ReadonlySet<string> = new Set([
  'ethereum',
  'polygon',
  'arbitrum',
  'optimism',
  'base',
  'avalanche',
  'bsc',
  'fantom',
  'gnosis',
  'celo',
  'zksync',
  'linea',
  'scroll',
  'sepolia',
  'goerli',
  'holesky',
  'mumbai',
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
  if (isEvmChain(chain) && !EVM_ADDRESS.test(address))
    return `is not a 0x-prefixed 40-digit hex address (chain ${chain})`;
  if (chain === 'solana' && !BASE58_ADDRESS.test(address)) return 'is not a base58 Solana address';
  return undefined;
}

/** The network of a chain when nothing names one. */
export const DEFAULT_NETWORK = 'mainnet';

/**
 * Lower case for ASCII letters only: `String#toLowerCase` would fold look-alikes too (U+212A
 * KELVIN SIGN becomes `k`), letting a name that is not `klaytn` pass for it.
 */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** What `sub` says: the wallet's chain, its network and the address. */
export interface Subject {
  chain: string;
  network: string;
  address: string;
}

/** `<chain>[/<network>]:<address>`, the issuer's form (`ethereum:0x…`, `ethereum/goerli:0x…`). */
const ISSUER_SUBJECT = /^([A-Za-z][A-Za-z0-9-]{0,31})(?:\/([A-Za-z0-9-]{1,32}))?:([^:/\s]{1,256})$/;
/** CAIP-10 account ids: `<namespace>:<reference>:<address>` (`eip155:1:0x…`). */
const CAIP10_SUBJECT = /^([-a-z0-9]{3,8}):([-_a-zA-Z0-9]{1,32}):([-.%a-zA-Z0-9]{1,128})$/;

/** CAIP-2 references of the chains named in `EVM_CHAINS` and Solana's clusters. */
const CAIP2_CHAINS: Readonly<Record<string, readonly [string, string]>> = {
  'eip155:1': ['ethereum', 'mainnet'],
  'eip155:5': ['ethereum', 'goerli'],
  'eip155:11155111': ['ethereum', 'sepolia'],
  'eip155:17000': ['ethereum', 'holesky'],
  'eip155:137': ['polygon', 'mainnet'],
  'eip155:80001': ['polygon', 'mumbai'],
  'eip155:42161': ['arbitrum', 'mainnet'],
  'eip155:10': ['optimism', 'mainnet'],
  'eip155:8453': ['base', 'mainnet'],
  'eip155:43114': ['avalanche', 'mainnet'],
  'eip155:56': ['bsc', 'mainnet'],
  'eip155:250': ['fantom', 'mainnet'],
  'eip155:100': ['gnosis', 'mainnet'],
  'eip155:42220': ['celo', 'mainnet'],
  'eip155:324': ['zksync', 'mainnet'],
  'eip155:59144': ['linea', 'mainnet'],
  'eip155:534352': ['scroll', 'mainnet'],
  'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp': ['solana', 'mainnet'],
  'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1': ['solana', 'devnet'],
  'solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z': ['solana', 'testnet'],
};

/** A CAIP-2 chain id (`eip155:1`): the chain and network it names, or undefined when unknown. */
export function caip2Chain(id: string): readonly [chain: string, network: string] | undefined {
  return Object.hasOwn(CAIP2_CHAINS, id) ? CAIP2_CHAINS[id] : undefined;
}

/**
 * Reads a `sub` claim; undefined when it is in no form we know. Chain and network names are
 * lower-cased (ASCII only); a CAIP-10 id must name a chain listed above.
 */
export function parseSubject(sub: string): Subject | undefined {
  const caip = CAIP10_SUBJECT.exec(sub);
  if (caip) {
    const known = Object.hasOwn(CAIP2_CHAINS, `${caip[1]}:${caip[2]}`)
      ? CAIP2_CHAINS[`${caip[1]}:${caip[2]}`]
      : undefined;
    return known && { chain: known[0], network: known[1], address: caip[3]! };
  }
  const match = ISSUER_SUBJECT.exec(sub);
  if (!match) return undefined;
  const chain = asciiLowerCase(match[1]!);
  const network = match[2] === undefined ? DEFAULT_NETWORK : asciiLowerCase(match[2]);
  if (!CHAIN_NAME.test(chain) || !CHAIN_NAME.test(network)) return undefined;
  return { chain, network, address: match[3]! };
}
