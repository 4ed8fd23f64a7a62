/**
 * `evmOwnershipResolver`: reads current balances from the chain with `eth_call`, through viem.
 * How a contract's kind is told apart: README, "`evmOwnershipResolver({ rpcUrl, timeoutMs })`".
 *
 * Invariants: viem (an optional peer dependency) is loaded with `require` on the first question,
 * never by an application that does not revalidate on-chain (`import()` fails under Jest without
 * --experimental-vm-modules). Only a revert or an empty answer of `decimals()`,
 * `supportsInterface()` or `ownerOf()` reads as "absent"; a timeout or a transport error is a
 * failure, never a default that could grant access.
 */
import { createRequire } from 'node:module';
import { OptionsError } from '../../errors';
import { CHAIN_NAME, isEvmAddress, isEvmChain } from '../../chain/address';
import { ResolverError, UnsupportedRequirementError, type OwnershipResolver } from './types';

type Viem = typeof import('viem');
type PublicClient = ReturnType<Viem['createPublicClient']>;

export interface EvmOwnershipResolverOptions {
  /** A JSON-RPC endpoint (http or https) for `ethereum`, or one per chain: `{ ethereum: '…', polygon: '…' }`. */
  rpcUrl: string | Record<string, string>;
  /** Give up on one JSON-RPC exchange (body included) after this long. Default 5000. */
  timeoutMs?: number;
}

/** Largest JSON-RPC answer read; a batch of balance calls is a few hundred bytes per call. */
const MAX_RESPONSE_BYTES = 1_048_576;
/** Contracts whose kind and decimals are remembered per resolver. */
const MAX_REMEMBERED_CONTRACTS = 1000;
const ERC1155_INTERFACE = '0xd9b67a26';

const MISSING_VIEM =
  'express-token-gate: evmOwnershipResolver needs the "viem" package (an optional peer dependency). Install it: npm install viem';

function parseRpcUrl(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new OptionsError(name, 'must be an http(s) URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError(name, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionsError(name, 'must use http or https');
  return url.href;
}

function parseRpcUrls(value: unknown): Map<string, string> {
  if (typeof value === 'string') return new Map([['ethereum', parseRpcUrl('rpcUrl', value)]]);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
    throw new OptionsError('rpcUrl', 'is required: a URL, or { [chain]: URL }');
  }
  const urls = new Map<string, string>();
  for (const [chain, url] of Object.entries(value)) {
    if (!CHAIN_NAME.test(chain) || !isEvmChain(chain))
      throw new OptionsError(`rpcUrl.${chain}`, 'does not name an EVM chain such as "ethereum" or "polygon"');
    urls.set(chain, parseRpcUrl(`rpcUrl.${chain}`, url));
  }
  return urls;
}

/** True for an error that says the call itself reverted or returned nothing (not a transport failure). */
function isRevert(error: unknown): boolean {
  let current = error as { name?: string; code?: number; details?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 12; depth += 1, current = current.cause as typeof current) {
    if (current.name === 'ContractFunctionRevertedError' || current.name === 'ContractFunctionZeroDataError')
      return true;
    if (current.name === 'RpcRequestError' && (current.code === 3 || /revert/i.test(current.details ?? '')))
      return true;
  }
  return false;
}

/** A small bounded memo: oldest entry out first. */
function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= MAX_REMEMBERED_CONTRACTS) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}

/**
 * An `OwnershipResolver` that reads balances on-chain. It answers requirements on one
 * `contractAddress` (with or without `tokenIds`) on the chains it has an `rpcUrl` for; anything else
 * counts as a resolver failure.
 *
 * @example
 * createTokenGate({ audience, revalidate: { resolver: evmOwnershipResolver({ rpcUrl: process.env.RPC_URL }) } });
 */
export function evmOwnershipResolver(options: EvmOwnershipResolverOptions): OwnershipResolver {
  if (typeof options !== 'object' || options === null)
    throw new OptionsError('options', 'must be { rpcUrl, timeoutMs? }');
  for (const key of Object.keys(options)) {
    if (key !== 'rpcUrl' && key !== 'timeoutMs')
      throw new OptionsError(key, 'is not a known evmOwnershipResolver option');
  }
  const urls = parseRpcUrls(options.rpcUrl);
  const { timeoutMs = 5000 } = options;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000) {
    throw new OptionsError('timeoutMs', 'must be a number of milliseconds from 1 to 120000');
  }
  // Fail at startup, not on the first request, when the peer dependency is missing.
  try {
    createRequire(__filename).resolve('viem');
  } catch {
    throw new Error(MISSING_VIEM);
  }

  let loaded: { viem: Viem; abi: ReturnType<Viem['parseAbi']> } | undefined;
  const load = () => {
    if (loaded) return loaded;
    let viem: Viem;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      viem = require('viem') as Viem;
    } catch (error) {
      const missing =
        (error as { code?: string }).code === 'MODULE_NOT_FOUND' && /'viem'/.test((error as Error).message);
      throw new ResolverError(missing ? MISSING_VIEM : 'express-token-gate: viem failed to load', { cause: error });
    }
    const abi = viem.parseAbi([
      'function balanceOf(address owner) view returns (uint256)',
      'function balanceOf(address owner, uint256 id) view returns (uint256)',
      'function decimals() view returns (uint8)',
      'function ownerOf(uint256 tokenId) view returns (address)',
      'function supportsInterface(bytes4 interfaceId) view returns (bool)',
    ]);
    return (loaded = { viem, abi });
  };
  const clients = new Map<string, PublicClient>();
  const decimals = new Map<string, number>();
  const multiToken = new Map<string, boolean>();

  return {
    name: 'evm',
    async resolve({ chain, walletAddress, requirements, signal }) {
      const url = urls.get(chain);
      if (url === undefined)
        throw new UnsupportedRequirementError(`evmOwnershipResolver has no rpcUrl for chain ${chain}`);
      const { contractAddress, tokenIds } = requirements;
      if (
        contractAddress === undefined ||
        requirements.collection !== undefined ||
        requirements.creatorAddress !== undefined
      ) {
        throw new UnsupportedRequirementError('evmOwnershipResolver answers contractAddress requirements only');
      }
      if (!isEvmAddress(walletAddress)) throw new UnsupportedRequirementError('The wallet is not an EVM address');
      const { viem, abi } = load();
      let client = clients.get(chain);
      if (client === undefined) {
        const transport = viem.http(url, {
          batch: true,
          retryCount: 0,
          timeout: timeoutMs,
          maxResponseBodySize: MAX_RESPONSE_BYTES,
        });
        client = viem.createPublicClient({ transport });
        clients.set(chain, client);
      }
      const address = contractAddress.toLowerCase() as `0x${string}`;
      const owner = walletAddress.toLowerCase() as `0x${string}`;
      const contractKey = `${chain}:${address}`;
      const read = (
        functionName: 'balanceOf' | 'decimals' | 'ownerOf' | 'supportsInterface',
        args: readonly unknown[],
      ) =>
        // The arguments are checked by each caller's ABI entry, not by the compiler (`args` is untyped here).
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        client!.readContract({ address, abi, functionName, args } as Parameters<
          PublicClient['readContract']
        >[0]) as Promise<unknown>;
      /** A probe's answer, `absent` when the call reverted; transport failures propagate. */
      const probe = <T>(call: Promise<unknown>, absent: T): Promise<T> =>
        call.then(
          (value) => value as T,
          (error: unknown) => {
            if (isRevert(error)) return absent;
            throw error;
          },
        );

      try {
        if (tokenIds === undefined) {
          const [raw, places] = await Promise.all([
            read('balanceOf', [owner]) as Promise<bigint>,
            decimals.get(contractKey) ??
              probe<number>(read('decimals', []), 0).then((d) => remember(decimals, contractKey, Number(d))),
          ]);
          return { balance: viem.formatUnits(raw, places) };
        }
        const ids = tokenIds.map((id) => BigInt(id));
        const erc1155 =
          multiToken.get(contractKey) ??
          remember(
            multiToken,
            contractKey,
            await probe<boolean>(read('supportsInterface', [ERC1155_INTERFACE]), false),
          );
        if (signal.aborted) throw new ResolverError('Abandoned');
        if (erc1155) {
          const balances = (await Promise.all(ids.map((id) => read('balanceOf', [owner, id])))) as bigint[];
          return { balance: balances.reduce((sum, b) => sum + b, 0n).toString() };
        }
        const owners = await Promise.all(ids.map((id) => probe<string | null>(read('ownerOf', [id]), null)));
        return { balance: String(owners.filter((o) => typeof o === 'string' && o.toLowerCase() === owner).length) };
      } catch (error) {
        if (error instanceof ResolverError) throw error;
        const message = (error as { shortMessage?: string }).shortMessage ?? 'the call failed';
        throw new ResolverError(`eth_call on ${chain} failed: ${message}`, { cause: error });
      }
    },
  };
}
