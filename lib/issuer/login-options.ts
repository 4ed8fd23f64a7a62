/**
 * The `login` and `chains` options of `createIssuer`: message format, statement, domains, nonce
 * lifetime, and the RPC URLs contract-wallet signatures are checked through.
 */
import { OptionsError, rejectUnknownKeys } from '../errors';
import { chainInfo, CHAINS } from './chains';
import type { ContractWallets, LoginSettings, MessageFormat } from './login';
import {
  assertStatement,
  defaultStatement,
  domainPolicy,
  evmSignatureVerifier,
  parseAuthority,
  type DomainPolicy,
} from './siwe';
import { asciiLowerCase } from './siwe/grammar';
import type { EnsChain } from './ens';
import { isEvmAddress } from '../chain/address';

export interface LoginOptions {
  /** The message format `/auth/nonce` announces: `'siwe'` (EIP-4361, default) or `'simple'`. */
  format?: MessageFormat;
  /**
   * The statement wallets sign: one line of EIP-4361's characters (checked at startup). Default
   * `Sign in with your wallet to <audience>`, with the characters EIP-4361 refuses dropped.
   */
  statement?: string;
  /**
   * Domains (`host[:port]`) SIWE messages may name, e.g. `app.example.com`, `localhost:5173`,
   * `[::1]:5173`. Default: any loopback host (localhost, 127.x.x.x, [::1], *.localhost) on any port.
   */
  domains?: string[];
  /** Seconds a nonce stays good (and how old a SIWE message's issuedAt may be), up to a day. Default 600. */
  nonceTtlSeconds?: number;
}

/** One chain of `chains`: its JSON-RPC endpoint and, for test chains and private deployments, its ENS Universal Resolver. */
export interface ChainOptions {
  rpcUrl: string;
  /** The ENS Universal Resolver to ask for `displayAddress` (`ethereum` only). Default viem's for mainnet. */
  ensUniversalResolver?: string;
}

/** `chains` of `createIssuer`: `{ ethereum: { rpcUrl }, polygon: { rpcUrl }, … }`. */
export type ChainsOptions = Partial<Record<string, ChainOptions>>;

const EVM_SLUGS = CHAINS.filter((c) => c.chainType === 'ethereum').map((c) => c.chainSlug);

/** Validates `login`; throws an `OptionsError` naming the field. */
export function loginSettings(audience: string, options: LoginOptions = {}): LoginSettings {
  if (typeof options !== 'object' || options === null) throw new OptionsError('login', 'must be an object');
  rejectUnknownKeys(options, ['format', 'statement', 'domains', 'nonceTtlSeconds'], 'login');
  const { format = 'siwe', domains, nonceTtlSeconds = 600 } = options;
  if (format !== 'siwe' && format !== 'simple') throw new OptionsError('login.format', "must be 'siwe' or 'simple'");
  const statement =
    options.statement === undefined
      ? defaultStatement(audience)
      : assertStatement(options.statement, 'login.statement');
  if (
    typeof nonceTtlSeconds !== 'number' ||
    !Number.isFinite(nonceTtlSeconds) ||
    nonceTtlSeconds < 0 ||
    nonceTtlSeconds > 86_400
  ) {
    throw new OptionsError('login.nonceTtlSeconds', 'must be a number of seconds from 0 to 86400');
  }
  return {
    format,
    statement,
    nonceTtlMs: Math.round(nonceTtlSeconds * 1000),
    domains: domains === undefined ? LOOPBACK : domainPolicy(domains, 'login.domains'),
  };
}

const loopbackAddress = domainPolicy();

/**
 * The default domains: loopback addresses and `localhost` (`domainPolicy()`), and the names below
 * `localhost` that RFC 6761 keeps for loopback (`app.localhost:5173`), as the default CORS origins.
 */
const LOOPBACK: DomainPolicy = (domain) => {
  if (loopbackAddress(domain)) return true;
  const authority = parseAuthority(domain);
  return (
    authority !== undefined &&
    authority.userinfo === undefined &&
    authority.host.kind === 'reg-name' &&
    /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.localhost$/.test(asciiLowerCase(authority.host.text))
  );
};

/**
 * Validates `chains` and builds the contract-wallet verifier once: each entry names an EVM chain of
 * the chain table, its `rpcUrl` an http(s) URL; the chain id comes from the table.
 */
export function contractWallets(chains: unknown): ContractWallets & { ens: Record<string, EnsChain> } {
  if (chains === undefined) return { verifier: evmSignatureVerifier(), chainIds: new Set(), ens: {} };
  if (typeof chains !== 'object' || chains === null || Array.isArray(chains))
    throw new OptionsError('chains', 'must be an object such as { ethereum: { rpcUrl } }');
  const rpcUrls: Record<number, string> = {};
  const ens: Record<string, EnsChain> = {};
  for (const [slug, entry] of Object.entries(chains as Record<string, unknown>)) {
    const info = chainInfo(slug);
    if (!info || info.chainType !== 'ethereum')
      throw new OptionsError(`chains.${slug}`, `is not an EVM chain of the issuer (${EVM_SLUGS.join(', ')})`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new OptionsError(`chains.${slug}`, 'must be an object { rpcUrl }');
    for (const key of Object.keys(entry))
      if (key !== 'rpcUrl' && key !== 'ensUniversalResolver')
        throw new OptionsError(`chains.${slug}.${key}`, 'is not a known option');
    const { rpcUrl, ensUniversalResolver } = entry as { rpcUrl?: unknown; ensUniversalResolver?: unknown };
    let url: URL | undefined;
    try {
      url = typeof rpcUrl === 'string' ? new URL(rpcUrl) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new OptionsError(`chains.${slug}.rpcUrl`, 'must be an http:// or https:// URL');
    if (ensUniversalResolver !== undefined) {
      if (slug !== 'ethereum')
        throw new OptionsError(`chains.${slug}.ensUniversalResolver`, 'is read on ethereum only, where ENS names live');
      if (typeof ensUniversalResolver !== 'string' || !isEvmAddress(ensUniversalResolver))
        throw new OptionsError(`chains.${slug}.ensUniversalResolver`, 'must be a 0x contract address');
    }
    rpcUrls[info.chainId] = rpcUrl as string;
    ens[slug] = {
      rpcUrl: rpcUrl as string,
      ...(ensUniversalResolver !== undefined && { universalResolver: ensUniversalResolver }),
    };
  }
  return {
    verifier: evmSignatureVerifier({ rpcUrls }),
    chainIds: new Set(Object.keys(rpcUrls).map(Number)),
    ens,
  };
}
