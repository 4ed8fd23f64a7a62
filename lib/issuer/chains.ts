/**
 * `GET /chains` and `GET /chains/{chain}`: the chain information picket-js reads before a login
 * (the chain id it puts in a SIWE message, the chain type that picks the wallets).
 */
import { ApiError } from './errors';

export interface ChainInfo {
  chainSlug: string;
  chainId: number;
  chainType: 'ethereum' | 'solana';
  chainName: string;
  publicRPC: string;
  authorizationSupported: boolean;
}

export const CHAINS: readonly ChainInfo[] = [
  {
    chainSlug: 'ethereum',
    chainId: 1,
    chainType: 'ethereum',
    chainName: 'Ethereum',
    publicRPC: 'https://cloudflare-eth.com',
    authorizationSupported: true,
  },
  {
    chainSlug: 'polygon',
    chainId: 137,
    chainType: 'ethereum',
    chainName: 'Polygon',
    publicRPC: 'https://polygon-rpc.com',
    authorizationSupported: true,
  },
  {
    chainSlug: 'optimism',
    chainId: 10,
    chainType: 'ethereum',
    chainName: 'Optimism',
    publicRPC: 'https://mainnet.optimism.io',
    authorizationSupported: true,
  },
  {
    chainSlug: 'arbitrum',
    chainId: 42161,
    chainType: 'ethereum',
    chainName: 'Arbitrum',
    publicRPC: 'https://arb1.arbitrum.io/rpc',
    authorizationSupported: true,
  },
  {
    chainSlug: 'solana',
    chainId: 101,
    chainType: 'solana',
    chainName: 'Solana',
    publicRPC: 'https://api.mainnet-beta.solana.com',
    authorizationSupported: true,
  },
];

export function chainInfo(slug: string): ChainInfo | undefined {
  return CHAINS.find((c) => c.chainSlug === slug);
}

export function listChains(): { data: readonly ChainInfo[] } {
  return { data: CHAINS };
}

export function getChain(slug: string): ChainInfo {
  const info = chainInfo(slug);
  if (!info) throw new ApiError(404, 'chain_not_found', `The issuer does not know the chain "${slug.slice(0, 32)}"`);
  return info;
}
