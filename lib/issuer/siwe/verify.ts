/**
 * Who signed an Ethereum login message (EIP-191 `personal_sign` of its text). A wallet that holds
 * its key (an EOA) is recovered offline: a 65-byte signature (`v` 27/28 or 0/1) or an EIP-2098
 * compact 64-byte one. Any other outcome asks the chain, when the issuer has an RPC URL for the
 * message's chain id: viem's `verifyMessage` calls EIP-1271 `isValidSignature` on a deployed
 * contract wallet, and runs an EIP-6492 signature (a wallet not deployed yet, wrapped with its
 * factory call) through the universal validator without deploying anything.
 */
import { refused, SiweError } from './errors';
import { loadViem } from './viem';

type Hex = `0x${string}`;
type PublicClient = ReturnType<ReturnType<typeof loadViem>['createPublicClient']>;

/** Longest signature read: contract wallets and EIP-6492 wrappers carry calldata, not megabytes. */
export const MAX_SIGNATURE_BYTES = 8192;
/** Largest JSON-RPC answer read. */
const MAX_RESPONSE_BYTES = 262_144;
export const DEFAULT_RPC_TIMEOUT_MS = 5000;

export interface EvmSignatureOptions {
  /** JSON-RPC endpoints by chain id, for contract wallets: `{ 1: 'https://…' }`. Without one, only EOAs log in. */
  rpcUrls?: Readonly<Record<number, string>>;
  /** Give up on one JSON-RPC exchange after this long. Default 5000. */
  timeoutMs?: number;
}

export interface SignatureCheck {
  message: string;
  address: string;
  signature: unknown;
  chainId: number;
}

/** How the signature was found good: recovered offline, or confirmed by the chain. */
export type SignerKind = 'eoa' | 'contract';

/** A verifier of Ethereum login signatures with its own JSON-RPC clients (one per chain id). */
export interface EvmSignatureVerifier {
  verify(check: SignatureCheck): Promise<SignerKind>;
}

function signatureHex(signature: unknown): Hex {
  if (typeof signature !== 'string' || !/^0x(?:[0-9a-fA-F]{2})+$/.test(signature))
    throw new SiweError(
      'signature_malformed',
      'signature must be 0x followed by an even number of hex digits',
      'signature',
    );
  if ((signature.length - 2) / 2 > MAX_SIGNATURE_BYTES)
    throw new SiweError('signature_malformed', `signature is longer than ${MAX_SIGNATURE_BYTES} bytes`, 'signature');
  return signature as Hex;
}

/** The signer recovered from a 64- or 65-byte signature, or undefined when it recovers nobody. */
async function recoverEoa(message: string, signature: Hex): Promise<string | undefined> {
  const viem = loadViem();
  const bytes = (signature.length - 2) / 2;
  if (bytes !== 64 && bytes !== 65) return undefined;
  try {
    // A 64-byte value that is no compact signature (r or s out of range) recovers nobody.
    const full =
      bytes === 65
        ? signature
        : viem.serializeSignature(viem.compactSignatureToSignature(viem.parseCompactSignature(signature)));
    return await viem.recoverMessageAddress({ message, signature: full });
  } catch {
    return undefined;
  }
}

export function evmSignatureVerifier(options: EvmSignatureOptions = {}): EvmSignatureVerifier {
  const timeout = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
  const urls = new Map<number, string>();
  for (const [id, url] of Object.entries(options.rpcUrls ?? {})) {
    if (!/^(?:0|[1-9][0-9]*)$/.test(id))
      throw new TypeError(`express-token-gate: rpcUrls key "${id}" is not a chain id`);
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`express-token-gate: rpcUrls[${id}] must use http or https`);
    urls.set(Number(id), parsed.href);
  }
  const clients = new Map<number, PublicClient>();
  const checkedChains = new Set<number>();
  const clientFor = (chainId: number): PublicClient | undefined => {
    const url = urls.get(chainId);
    if (url === undefined) return undefined;
    let client = clients.get(chainId);
    if (!client) {
      const viem = loadViem();
      const transport = viem.http(url, { retryCount: 0, timeout, maxResponseBodySize: MAX_RESPONSE_BYTES });
      client = viem.createPublicClient({ transport });
      clients.set(chainId, client);
    }
    return client;
  };

  return {
    async verify({ message, address, signature, chainId }) {
      const hex = signatureHex(signature);
      const signer = await recoverEoa(message, hex);
      if (signer !== undefined && signer.toLowerCase() === address.toLowerCase()) return 'eoa';
      const client = clientFor(chainId);
      if (!client)
        throw refused(
          'signature_invalid',
          `The signature is not this wallet's key (a contract wallet on chain ${chainId} cannot be checked: the issuer has no RPC URL for it)`,
          'signature',
        );
      const unavailable = (why: string, cause?: unknown) =>
        new SiweError('signature_unverifiable', why, 'signature', 'unavailable', { cause });
      let valid: boolean;
      try {
        // viem's verifyMessage reads a failed call as "not signed"; a transport failure must not
        // look like a wrong signature, so the chain is asked something first. The chain id is
        // checked once per client: a wallet's code depends on the chain it lives on.
        if (!checkedChains.has(chainId)) {
          const served = await client.getChainId();
          if (served !== chainId)
            throw unavailable(`The RPC URL for chain ${chainId} serves chain ${served}: fix the issuer's rpcUrls`);
          checkedChains.add(chainId);
        }
        await client.getCode({ address: address as Hex });
        valid = await client.verifyMessage({ address: address as Hex, message, signature: hex });
      } catch (error) {
        if (error instanceof SiweError) throw error;
        throw unavailable(`The chain ${chainId} could not be asked whether the wallet signed: try again`, error);
      }
      if (!valid)
        throw refused(
          'signature_invalid',
          'The message was not signed by this wallet (key or contract wallet)',
          'signature',
        );
      return 'contract';
    },
  };
}
