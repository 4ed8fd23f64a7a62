/**
 * The EIP-155 chain id of each EVM chain and network the library names: what a JSON-RPC node for it
 * answers to `eth_chainId`. Keyed `<chain>/<network>`, as requirements and `sub` spell them; the
 * chains named after a testnet (`sepolia`, …) have that testnet's id on their only network,
 * `mainnet`. The same ids as the CAIP-2 references read from `sub` (`address.ts`).
 */
const EVM_CHAIN_IDS: Readonly<Record<string, number>> = {
  'ethereum/mainnet': 1,
  'ethereum/goerli': 5,
  'ethereum/sepolia': 11155111,
  'ethereum/holesky': 17000,
  'polygon/mainnet': 137,
  'polygon/mumbai': 80001,
  'arbitrum/mainnet': 42161,
  'optimism/mainnet': 10,
  'base/mainnet': 8453,
  'avalanche/mainnet': 43114,
  'bsc/mainnet': 56,
  'fantom/mainnet': 250,
  'gnosis/mainnet': 100,
  'celo/mainnet': 42220,
  'zksync/mainnet': 324,
  'linea/mainnet': 59144,
  'scroll/mainnet': 534352,
  'sepolia/mainnet': 11155111,
  'goerli/mainnet': 5,
  'holesky/mainnet': 17000,
  'mumbai/mainnet': 80001,
};

/** The chain id of `chain` on `network`, or undefined when the library does not know it. */
export function evmChainId(chain: string, network: string): number | undefined {
  const key = `${chain}/${network}`;
  return Object.hasOwn(EVM_CHAIN_IDS, key) ? EVM_CHAIN_IDS[key] : undefined;
}
