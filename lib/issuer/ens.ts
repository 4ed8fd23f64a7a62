/**
 * `displayAddress` from ENS: the primary name of an Ethereum wallet, looked up through viem's
 * `getEnsName` on the chain's `rpcUrl` (the ENS Universal Resolver, which only answers a reverse
 * name whose forward record points back at the address). It is display only: tokens, sessions,
 * nonces and every gate key on `walletAddress`, never on the name.
 *
 * Bounded: one lookup waits at most `timeoutMs` (the JSON-RPC exchange is given up too), answers
 * are cached per address in a bounded LRU for `cacheSeconds`, and whatever goes wrong (no name, a
 * revert, a timeout, an answer that is not a short, normalised, printable name) gives the
 * checksummed address instead: a lookup never fails or delays a login past its deadline.
 *
 * The attack a shown name must not carry: a name with control or bidirectional characters
 * (U+202E turns `moc.elgoog` into what reads as another name), one that is not in ENS normal form
 * (`Vitalik.eth`, a homoglyph the normaliser maps elsewhere), or one so long it hides its end.
 */
import { LRUCache } from 'lru-cache';
import { isEvmAddress } from '../chain/address';
import { OptionsError, rejectUnknownKeys } from '../errors';
import { withDeadline } from '../net/deadline';
import { loadViem } from './siwe/viem';

type Hex = `0x${string}`;

export interface EnsOptions {
  /** The longest a login or `/authz` waits for ENS before it shows the address. Default 1000 ms. */
  timeoutMs?: number;
  /** How long a name (or the lack of one) is reused for an address. Default 300 s. */
  cacheSeconds?: number;
  /** Addresses whose answer is cached. Default 10000. */
  maxEntries?: number;
}

/** Longest name shown: a DNS name's limit. */
export const MAX_ENS_NAME_LENGTH = 253;
/** Largest JSON-RPC answer read: a name and two addresses, ABI-encoded. */
const MAX_RESPONSE_BYTES = 16_384;

/** The chains ENS names are looked up on: only Ethereum's reverse records (coin type 60) are read. */
export interface EnsChain {
  rpcUrl: string;
  /** The Universal Resolver's address; default viem's for Ethereum mainnet. */
  universalResolver?: string;
}

export interface DisplayNames {
  /**
   * What a token shows for `walletAddress` on `chain`: its ENS name when one is configured and
   * answers in time with an acceptable name, the checksummed address otherwise (the address as
   * given on chains without ENS).
   */
  displayAddress(chain: string, walletAddress: string): Promise<string>;
  /** Whether names are looked up for `chain`. */
  looksUp(chain: string): boolean;
}

/** Characters never shown: C0/C1 controls, bidirectional controls and marks, zero-width ones. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

/** A label that reads as a wallet address: a name must not pass for another wallet. */
const ADDRESS_LABEL = /^0x[0-9a-f]{40}$/i;

/**
 * The name itself when it may be shown: a string of at most 253 characters, dot-separated
 * non-empty labels, no control or bidirectional character, and equal to its ENS normalisation
 * (ENSIP-15, viem's `normalize`), no label that is a 0x address. Undefined otherwise.
 */
export function acceptableName(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '' || name.length > MAX_ENS_NAME_LENGTH) return undefined;
  if (UNSAFE.test(name) || name.split('.').some((label) => label === '' || ADDRESS_LABEL.test(label))) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { normalize } = require('viem/ens') as typeof import('viem/ens');
    return normalize(name) === name ? name : undefined;
  } catch {
    return undefined;
  }
}

function positive(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw new OptionsError(name, `must be a whole number from 1 to ${max}`);
  return value;
}

/** Validates `ens` (`false` turns lookups off); throws an `OptionsError` naming the field. */
export function displayNames(
  options: EnsOptions | false | undefined,
  chains: Readonly<Record<string, EnsChain>>,
): DisplayNames {
  if (options !== undefined && options !== false && (typeof options !== 'object' || options === null))
    throw new OptionsError('ens', 'must be false or { timeoutMs?, cacheSeconds?, maxEntries? }');
  const settings = options || {};
  rejectUnknownKeys(settings, ['timeoutMs', 'cacheSeconds', 'maxEntries'], 'ens');
  const timeoutMs = positive('ens.timeoutMs', settings.timeoutMs, 1000, 30_000);
  const ttl = positive('ens.cacheSeconds', settings.cacheSeconds, 300, 86_400) * 1000;
  const max = positive('ens.maxEntries', settings.maxEntries, 10_000, 1_000_000);
  const enabled = options !== false;
  // Only Ethereum: ENS primary names live there, under coin type 60.
  const entry = enabled ? chains.ethereum : undefined;
  const cache = new LRUCache<string, { name: string | null }>({ max, ttl });
  const inFlight = new Map<string, Promise<string | null>>();
  let client: ReturnType<ReturnType<typeof loadViem>['createPublicClient']> | undefined;
  let resolver: Hex | undefined;

  const lookup = (address: Hex): Promise<string | null> => {
    const viem = loadViem();
    if (!client) {
      const transport = viem.http(entry!.rpcUrl, {
        retryCount: 0,
        timeout: timeoutMs,
        maxResponseBodySize: MAX_RESPONSE_BYTES,
      });
      client = viem.createPublicClient({ transport });
      if (entry!.universalResolver !== undefined) resolver = entry!.universalResolver as Hex;
      else {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { mainnet } = require('viem/chains') as typeof import('viem/chains');
        resolver = mainnet.contracts.ensUniversalResolver.address;
      }
    }
    return client.getEnsName({ address, universalResolverAddress: resolver });
  };

  return {
    looksUp: (chain) => entry !== undefined && chain === 'ethereum',
    async displayAddress(chain, walletAddress) {
      if (!isEvmAddress(walletAddress)) return walletAddress;
      let address: Hex;
      try {
        address = loadViem().getAddress(walletAddress);
      } catch {
        // Mixed case that is no EIP-55 checksum: shown as given, never looked up.
        return walletAddress;
      }
      if (entry === undefined || chain !== 'ethereum') return address;
      const key = address.toLowerCase();
      const cached = cache.get(key);
      if (cached) return cached.name ?? address;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = lookup(address);
        inFlight.set(key, pending);
        pending.then(
          (name) => {
            // Only a name that may be shown is kept; anything else is the address, for a while too.
            cache.set(key, { name: acceptableName(name) ?? null });
          },
          () => undefined,
        );
        void pending.finally(() => inFlight.delete(key)).catch(() => undefined);
      }
      try {
        const name = await withDeadline(pending, timeoutMs, 'ENS');
        return acceptableName(name) ?? address;
      } catch {
        return address;
      }
    },
  };
}
