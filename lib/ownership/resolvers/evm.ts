/**
 * `evmOwnershipResolver`: reads current balances from the chain with `eth_call`, through viem.
 * How a contract's kind is told apart, and which node answers which chain and network: docs/live-ownership.md,
 * "`evmOwnershipResolver({ rpcUrl, rpcUrls, timeoutMs, contractMaxAgeMs, fetch })`".
 *
 * Invariants: viem (an optional peer dependency) is loaded with `require` on the first question,
 * never by an application that does not revalidate on-chain (`import()` fails under Jest without
 * --experimental-vm-modules). Each node answers only for the chain and network it is configured
 * for, and only once its `eth_chainId` has said so. Only a revert from an address that has code
 * reads as "no decimals"; an empty answer, a timeout or a transport error is a failure, never a
 * default that could grant access, and a failure is never remembered.
 */
import { createRequire } from 'node:module';
import { OptionsError, rejectUnknownKeys } from '../../errors';
import { CHAIN_NAME, DEFAULT_NETWORK, isEvmAddress, isEvmChain } from '../../chain/address';
import { evmChainId } from '../../chain/chain-ids';
import { readCapped } from '../../net/capped-body';
import { FETCH_OPTION_SHAPE, isFetchOption, isResponseLike, untilAborted, type FetchFunction } from '../../net/fetch';
import { ResolverError, UnsupportedRequirementError, type OwnershipResolver } from './types';

type Viem = typeof import('viem');
type PublicClient = ReturnType<Viem['createPublicClient']>;

/** One JSON-RPC node with the EIP-155 chain id it must answer. */
export interface EvmRpcEndpoint {
  /** An http(s) JSON-RPC URL. */
  url: string;
  /** What the node must answer to `eth_chainId`. Default: the known id of the chain and network. */
  chainId?: number;
}

export interface EvmOwnershipResolverOptions {
  /** A JSON-RPC URL (http or https) for `ethereum` mainnet: shorthand for `rpcUrls: { ethereum: url }`. */
  rpcUrl?: string;
  /**
   * One node per chain (its `mainnet`) or `chain/network`:
   * `{ ethereum: url, 'ethereum/sepolia': url, polygon: url, 'base/devnet': { url, chainId: 31337 } }`.
   */
  rpcUrls?: Record<string, string | EvmRpcEndpoint>;
  /** Give up on one JSON-RPC exchange (body included) after this long. Default 5000. */
  timeoutMs?: number;
  /** How long a contract's decimals and kind (ERC-1155 or not) are remembered. Default 3600000 (1 hour). */
  contractMaxAgeMs?: number;
  /**
   * Called instead of the global `fetch` for every JSON-RPC exchange: `(url, init) => Promise<Response>`
   * (a proxy, mTLS, an API key header), handed to viem's http transport as `fetchFn`. The timeout
   * and the answer's size cap still apply.
   */
  fetch?: FetchFunction;
}

/** Largest JSON-RPC answer read; a batch of balance calls is a few hundred bytes per call. */
const MAX_RESPONSE_BYTES = 1_048_576;
/** Contracts whose kind and decimals are remembered per resolver. */
const MAX_REMEMBERED_CONTRACTS = 1000;
const DEFAULT_CONTRACT_MAX_AGE_MS = 3_600_000;
const MAX_CONTRACT_MAX_AGE_MS = 86_400_000;
const ERC1155_INTERFACE = '0xd9b67a26';

const MISSING_VIEM =
  'express-token-gate: evmOwnershipResolver needs the "viem" package (an optional peer dependency). Install it: npm install viem';
const OPTIONS = new Set(['rpcUrl', 'rpcUrls', 'timeoutMs', 'contractMaxAgeMs', 'fetch']);

/** A configured node: where it is, what it must answer to eth_chainId, and which option named it. */
interface Endpoint {
  url: string;
  chainId: number;
  source: 'rpcUrl' | 'rpcUrls';
}

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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `rpcUrl` and `rpcUrls` as one map of `chain/network` to its node. */
function parseEndpoints(rpcUrl: unknown, rpcUrls: unknown): Map<string, Endpoint> {
  const endpoints = new Map<string, Endpoint>();
  if (rpcUrl !== undefined) {
    if (typeof rpcUrl !== 'string')
      throw new OptionsError('rpcUrl', 'must be a URL string, for ethereum mainnet; use rpcUrls for other chains');
    endpoints.set(`ethereum/${DEFAULT_NETWORK}`, { url: parseRpcUrl('rpcUrl', rpcUrl), chainId: 1, source: 'rpcUrl' });
  }
  if (rpcUrls !== undefined) {
    if (!isPlainObject(rpcUrls) || Object.keys(rpcUrls).length === 0)
      throw new OptionsError('rpcUrls', 'must be an object of { [chain or chain/network]: URL or { url, chainId } }');
    for (const [key, entry] of Object.entries(rpcUrls)) {
      const name = `rpcUrls.${key}`;
      const [chain = '', network = DEFAULT_NETWORK, ...rest] = key.split('/');
      if (rest.length > 0 || !CHAIN_NAME.test(chain) || !isEvmChain(chain))
        throw new OptionsError(
          name,
          'does not name an EVM chain such as "ethereum" or "polygon" (or "ethereum/sepolia")',
        );
      if (!CHAIN_NAME.test(network))
        throw new OptionsError(name, 'does not name a network: lower case, as in "ethereum/sepolia"');
      const pair = `${chain}/${network}`;
      if (endpoints.has(pair))
        throw new OptionsError(name, `names ${pair} twice (rpcUrl is ethereum/mainnet, and so is rpcUrls.ethereum)`);
      endpoints.set(pair, { ...parseEndpoint(name, entry, chain, network), source: 'rpcUrls' });
    }
  }
  if (endpoints.size === 0)
    throw new OptionsError(
      'rpcUrl',
      'or rpcUrls is required: rpcUrl for ethereum mainnet, rpcUrls: { [chain or chain/network]: URL }',
    );
  return endpoints;
}

function parseEndpoint(name: string, entry: unknown, chain: string, network: string): Omit<Endpoint, 'source'> {
  if (typeof entry === 'string') entry = { url: parseRpcUrl(name, entry) };
  if (!isPlainObject(entry)) throw new OptionsError(name, 'must be a URL string or { url, chainId }');
  rejectUnknownKeys(entry, ['url', 'chainId'], name, 'is not url or chainId');
  const url = parseRpcUrl(`${name}.url`, entry.url);
  const known = evmChainId(chain, network);
  if (entry.chainId === undefined) {
    if (known === undefined)
      throw new OptionsError(name, `needs a chainId: the chain id of ${chain}/${network} is not one the library knows`);
    return { url, chainId: known };
  }
  const { chainId } = entry;
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId < 1)
    throw new OptionsError(
      `${name}.chainId`,
      'must be a positive integer: the chain id the node answers to eth_chainId',
    );
  return { url, chainId };
}

/** The viem errors of `error`'s cause chain, outermost first. */
function* causes(error: unknown): Generator<{ name?: string; code?: number; details?: string; shortMessage?: string }> {
  let current = error as { name?: string; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 12; depth += 1, current = current.cause as typeof current) yield current;
}

/** True for an error that says the call reverted (not an empty answer, not a transport failure). */
function isRevert(error: unknown): boolean {
  for (const e of causes(error)) {
    if (e.name === 'ContractFunctionRevertedError') return true;
    if (e.name === 'RpcRequestError' && (e.code === 3 || /revert/i.test(e.details ?? ''))) return true;
  }
  return false;
}

/** True for an `eth_call` that answered `0x`: what an address without code answers, or a node behind. */
function isEmpty(error: unknown): boolean {
  for (const e of causes(error)) if (e.name === 'ContractFunctionZeroDataError') return true;
  return false;
}

/** What went wrong, in viem's words, or ours when the size cap of a custom fetch's answer was passed. */
function shortMessage(error: unknown): string {
  for (const e of causes(error)) if (e.name === 'BodyTooLargeError') return (e as Error).message;
  return (error as { shortMessage?: string }).shortMessage ?? 'the call failed';
}

/** Statuses whose `Response` cannot carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * The application's fetch as viem's `fetchFn`, held to the bounds of the default one whether or
 * not it honours the signal: viem's timeout only aborts that signal, so the exchange is raced
 * against it here, and the body is read here under the size cap before viem sees it.
 */
function boundedFetch(custom: FetchFunction): typeof fetch {
  return (async (url: string, init: Parameters<FetchFunction>[1]) => {
    const signal = init.signal ?? undefined;
    const exchange = async () => {
      const res: unknown = await custom(url, init);
      if (!isResponseLike(res)) throw new TypeError('the fetch option did not return a Response');
      const body = await readCapped(res, MAX_RESPONSE_BYTES, signal);
      return new Response(NULL_BODY_STATUSES.has(res.status) ? null : new Uint8Array(body), {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    };
    return signal ? untilAborted(exchange(), signal) : exchange();
  }) as typeof fetch;
}

/** A small bounded memo whose entries expire: oldest entry out first. */
class Memo<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(private readonly maxAgeMs: number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (performance.now() < entry.until) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): V {
    if (this.maxAgeMs === 0) return value;
    this.entries.delete(key);
    if (this.entries.size >= MAX_REMEMBERED_CONTRACTS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: performance.now() + this.maxAgeMs });
    return value;
  }
}

/** One node's client and whether its chain id has been seen to match. */
interface Node {
  client: PublicClient;
  verified: boolean;
  checking?: Promise<void>;
}

/**
 * An `OwnershipResolver` that reads balances on-chain. It answers requirements on one
 * `contractAddress` (with or without `tokenIds`) on the chains and networks it has a node for;
 * anything else counts as a resolver failure.
 *
 * @example
 * evmOwnershipResolver({ rpcUrl: process.env.RPC_URL, rpcUrls: { 'ethereum/sepolia': process.env.SEPOLIA_RPC_URL } });
 */
export function evmOwnershipResolver(options: EvmOwnershipResolverOptions): OwnershipResolver {
  if (typeof options !== 'object' || options === null)
    throw new OptionsError('options', 'must be { rpcUrl?, rpcUrls?, timeoutMs?, contractMaxAgeMs?, fetch? }');
  rejectUnknownKeys(options, OPTIONS, undefined, 'is not a known evmOwnershipResolver option');
  const endpoints = parseEndpoints(options.rpcUrl, options.rpcUrls);
  const { timeoutMs = 5000, contractMaxAgeMs = DEFAULT_CONTRACT_MAX_AGE_MS } = options;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000) {
    throw new OptionsError('timeoutMs', 'must be a number of milliseconds from 1 to 120000');
  }
  if (
    typeof contractMaxAgeMs !== 'number' ||
    !Number.isFinite(contractMaxAgeMs) ||
    contractMaxAgeMs < 0 ||
    contractMaxAgeMs > MAX_CONTRACT_MAX_AGE_MS
  ) {
    throw new OptionsError('contractMaxAgeMs', 'must be a number of milliseconds from 0 to 86400000 (a day)');
  }
  const customFetch: unknown = options.fetch;
  if (!isFetchOption(customFetch)) throw new OptionsError('fetch', FETCH_OPTION_SHAPE);
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
  const nodes = new Map<string, Node>();
  const nodeFor = (viem: Viem, pair: string, endpoint: Endpoint): Node => {
    let node = nodes.get(pair);
    if (node === undefined) {
      const transport = viem.http(endpoint.url, {
        batch: true,
        retryCount: 0,
        timeout: timeoutMs,
        maxResponseBodySize: MAX_RESPONSE_BYTES,
        // viem calls fetchFn as (url, init) with init.headers a plain object: the FetchFunction shape.
        fetchFn: customFetch && boundedFetch(customFetch),
      });
      node = { client: viem.createPublicClient({ transport }), verified: false };
      nodes.set(pair, node);
    }
    return node;
  };
  /** Resolves once the node has answered the chain id it must; a mismatch or a failure is asked again next time. */
  const checkChainId = (node: Node, pair: string, endpoint: Endpoint): Promise<void> | undefined => {
    if (node.verified) return undefined;
    node.checking ??= (async () => {
      let answered: number;
      try {
        answered = await node.client.getChainId();
      } catch (error) {
        throw new ResolverError(`eth_chainId for ${pair} failed: ${shortMessage(error)}`, { cause: error });
      }
      if (answered !== endpoint.chainId)
        throw new ResolverError(
          `${endpoint.source} for ${pair} answers chain id ${answered}, expected ${endpoint.chainId}`,
        );
      node.verified = true;
    })().finally(() => {
      node.checking = undefined;
    });
    return node.checking;
  };
  const decimals = new Memo<number>(contractMaxAgeMs);
  const multiToken = new Memo<boolean>(contractMaxAgeMs);

  return {
    name: 'evm',
    async resolve({ chain, walletAddress, requirements, signal }) {
      const pair = `${chain}/${requirements.network ?? DEFAULT_NETWORK}`;
      const endpoint = endpoints.get(pair);
      if (endpoint === undefined)
        throw new UnsupportedRequirementError(`evmOwnershipResolver has no RPC URL for ${pair}`);
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
      const node = nodeFor(viem, pair, endpoint);
      await checkChainId(node, pair, endpoint);
      if (signal.aborted) throw new ResolverError('Abandoned');
      const { client } = node;
      const address = contractAddress.toLowerCase() as `0x${string}`;
      const owner = walletAddress.toLowerCase() as `0x${string}`;
      const contractKey = `${pair}:${address}`;
      const read = (
        functionName: 'balanceOf' | 'decimals' | 'ownerOf' | 'supportsInterface',
        args: readonly unknown[],
      ) =>
        // The arguments are checked by each caller's ABI entry, not by the compiler (`args` is untyped here).
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        client.readContract({ address, abi, functionName, args } as Parameters<
          PublicClient['readContract']
        >[0]) as Promise<unknown>;
      /** A call whose empty answer (`0x`) is a failure that says so. */
      const call = (functionName: 'balanceOf' | 'decimals', args: readonly unknown[]) =>
        read(functionName, args).catch((error: unknown) => {
          if (!isEmpty(error)) throw error;
          throw new ResolverError(
            `${functionName}() of ${address} on ${pair} answered nothing (0x): no contract there yet, or a node behind`,
            { cause: error },
          );
        });
      /** A revert or an empty answer means "absent" only where a contract is: elsewhere nothing is known. */
      const requireCode = async () => {
        let code: string | undefined;
        try {
          code = await client.getCode({ address });
        } catch (error) {
          throw new ResolverError(`eth_getCode of ${address} on ${pair} failed: ${shortMessage(error)}`, {
            cause: error,
          });
        }
        if (code === undefined || code === '0x')
          throw new ResolverError(`There is no contract at ${address} on ${pair}`);
      };
      const readDecimals = async (): Promise<number> => {
        const known = decimals.get(contractKey);
        if (known !== undefined) return known;
        let places: number;
        try {
          places = Number(await call('decimals', []));
        } catch (error) {
          if (!isRevert(error)) throw error;
          await requireCode();
          places = 0; // a contract without decimals(): an ERC-721, or an ERC-20 counted in whole units
        }
        return decimals.set(contractKey, places);
      };
      const readKind = async (): Promise<boolean> => {
        const known = multiToken.get(contractKey);
        if (known !== undefined) return known;
        let erc1155: boolean;
        try {
          erc1155 = (await read('supportsInterface', [ERC1155_INTERFACE])) === true;
        } catch (error) {
          if (!isRevert(error) && !isEmpty(error)) throw error;
          await requireCode();
          erc1155 = false; // no ERC-165
        }
        return multiToken.set(contractKey, erc1155);
      };

      try {
        if (tokenIds === undefined) {
          const [raw, places] = await Promise.all([call('balanceOf', [owner]) as Promise<bigint>, readDecimals()]);
          return { balance: viem.formatUnits(raw, places) };
        }
        const ids = tokenIds.map((id) => BigInt(id));
        const erc1155 = await readKind();
        if (signal.aborted) throw new ResolverError('Abandoned');
        if (erc1155) {
          const balances = (await Promise.all(ids.map((id) => read('balanceOf', [owner, id])))) as bigint[];
          return { balance: balances.reduce((sum, b) => sum + b, 0n).toString() };
        }
        // A burnt or never-minted id reverts (or answers nothing): it counts none.
        const owners = await Promise.all(
          ids.map((id) =>
            read('ownerOf', [id]).catch((error: unknown) => {
              if (isRevert(error) || isEmpty(error)) return null;
              throw error;
            }),
          ),
        );
        return { balance: String(owners.filter((o) => typeof o === 'string' && o.toLowerCase() === owner).length) };
      } catch (error) {
        if (error instanceof ResolverError) throw error;
        throw new ResolverError(`eth_call on ${pair} failed: ${shortMessage(error)}`, { cause: error });
      }
    },
  };
}
