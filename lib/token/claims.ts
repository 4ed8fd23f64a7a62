/**
 * Claims normalisation: type-checks the verified payload and smooths the issuer's naming quirks
 * (`ext` for `exp`, legacy `numTokens`, the chain hidden in `sub`) into one `AccessTokenClaims`.
 */
import { InvalidTokenError } from '../errors';
import { isDecimalString } from '../chain/decimal';
import {
  addressKey,
  asciiLowerCase,
  CHAIN_NAME,
  DEFAULT_NETWORK,
  isEvmAddress,
  isEvmChain,
  parseSubject,
} from '../chain/address';

/** Balances proven by the token, each a decimal string, keyed by what they count. */
export interface TokenBalances {
  contractAddress?: Record<string, string>;
  collection?: Record<string, string>;
  creatorAddress?: Record<string, string>;
  tokenIds?: Record<string, string>;
}

/** The verified payload, normalised. Unknown claims are kept as they were. */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  sub?: string;
  /** Expiry in seconds since the epoch (the token's `exp`, or `ext` when `exp` is absent). */
  exp: number;
  iat?: number;
  nbf?: number;
  walletAddress: string;
  displayAddress: string;
  /** The wallet's chain: the `chain` claim, or the prefix of `sub` (`ethereum/mainnet:0x…` → `ethereum`). */
  chain: string;
  /** The chain's network, from `sub` (`ethereum/goerli:0x…` → `goerli`); `mainnet` by default. */
  network: string;
  /** The contract of the issuer's single-requirement claims: `tokenBalance` and `tokenIds` are its. */
  contractAddress?: string;
  /** Balance for `contractAddress` (also read from the legacy `numTokens`). */
  tokenBalance?: string;
  /** Token ids of `contractAddress` the wallet holds: the only ids bound to a contract by name. */
  tokenIds?: string[];
  /** Every proven balance; the legacy `contractAddress` + `tokenBalance` are merged in here too. */
  tokenBalances?: TokenBalances;
  tid?: string;
  ver?: number;
  email?: string;
  [claim: string]: unknown;
}

const BALANCE_KINDS = ['contractAddress', 'collection', 'creatorAddress', 'tokenIds'] as const;
const MAX_ENTRIES = 1000;
const MAX_SHORT_STRING = 256;

function invalid(description: string): InvalidTokenError {
  return new InvalidTokenError('claim_invalid', description);
}

/**
 * One rule for every required claim the token lacks (`iss`, `aud`, `exp`, `walletAddress`; `iat`
 * under `maxTokenAge`): `claim_invalid`, "The token has no <name> claim". A claim that is present
 * is judged by its own check (`issuer_mismatch`, `audience_mismatch`, `token_expired`, …).
 */
export function missingClaim(name: string): InvalidTokenError {
  return invalid(`The token has no ${name} claim`);
}

function optionalString(payload: Record<string, unknown>, name: string, max = MAX_SHORT_STRING): string | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw invalid(`The ${name} claim is not a string`);
  }
  return value;
}

function optionalNumber(payload: Record<string, unknown>, name: string): number | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`The ${name} claim is not a finite number`);
  return value;
}

function optionalBalance(payload: Record<string, unknown>, name: string): string | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (!isDecimalString(value)) throw invalid(`The ${name} claim is not a decimal string`);
  return value;
}

/** Copies a `{ key: decimal }` map; `__proto__` never becomes a prototype. */
function balanceMap(value: unknown, name: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`The tokenBalances.${name} claim is not an object`);
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_ENTRIES) throw invalid(`The tokenBalances.${name} claim has too many entries`);
  const out: Record<string, string> = {};
  for (const [key, balance] of entries) {
    if (key.length === 0 || key.length > MAX_SHORT_STRING || key === '__proto__') {
      throw invalid(`The tokenBalances.${name} claim has an invalid key`);
    }
    if (!isDecimalString(balance))
      throw invalid(`The tokenBalances.${name} claim has a balance that is not a decimal string`);
    out[key] = balance;
  }
  return out;
}

function tokenBalancesOf(value: unknown, chain: string): TokenBalances | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('The tokenBalances claim is not an object');
  }
  const out: TokenBalances = {};
  for (const [kind, map] of Object.entries(value)) {
    if (!(BALANCE_KINDS as readonly string[]).includes(kind))
      throw invalid('The tokenBalances claim has an unknown kind');
    const balances = balanceMap(map, kind);
    // Two spellings of one EVM address would make the proven balance depend on how a requirement
    // spells it (and tempt a sum that counts it twice): such a token contradicts itself.
    if (isEvmChain(chain)) {
      const seen = new Set<string>();
      for (const key of Object.keys(balances)) {
        const normalised = addressKey(chain, key);
        if (seen.has(normalised)) throw invalid(`The tokenBalances.${kind} claim names one address twice`);
        seen.add(normalised);
      }
    }
    out[kind as (typeof BALANCE_KINDS)[number]] = balances;
  }
  return out;
}

function hasAddress(map: Record<string, string> | undefined, chain: string, address: string): boolean {
  if (map === undefined) return false;
  const wanted = addressKey(chain, address);
  return Object.keys(map).some((key) => addressKey(chain, key) === wanted);
}

function tokenIdsOf(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > MAX_ENTRIES) throw invalid('The tokenIds claim is not a list');
  for (const id of value) {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_SHORT_STRING) {
      throw invalid('The tokenIds claim holds something other than strings');
    }
  }
  return [...(value as string[])];
}

function audienceOf(value: unknown): string | string[] {
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.length <= 100 && value.every((a) => typeof a === 'string')) {
    return [...value] as string[];
  }
  if (value === undefined) throw missingClaim('aud');
  throw new InvalidTokenError('audience_mismatch', 'The aud claim is not a string or a list of strings');
}

/**
 * Checks claim types and returns the normalised claims; throws `InvalidTokenError`, mostly
 * `claim_invalid` (see `missingClaim` for absent claims).
 */
export function normaliseClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const iss = payload.iss;
  if (iss === undefined) throw missingClaim('iss');
  if (typeof iss !== 'string') throw new InvalidTokenError('issuer_mismatch', 'The iss claim is not a string');
  const aud = audienceOf(payload.aud);
  const exp = optionalNumber(payload, 'exp') ?? optionalNumber(payload, 'ext');
  if (exp === undefined) throw missingClaim('exp');
  const iat = optionalNumber(payload, 'iat');
  const nbf = optionalNumber(payload, 'nbf');
  const walletAddress = optionalString(payload, 'walletAddress');
  if (walletAddress === undefined) throw missingClaim('walletAddress');
  const displayAddress = optionalString(payload, 'displayAddress') ?? walletAddress;
  const sub = optionalString(payload, 'sub', 512);
  // A sub we cannot read might name another wallet or network: it is refused, never skipped.
  const subject = sub === undefined ? undefined : parseSubject(sub);
  if (sub !== undefined && subject === undefined)
    throw invalid('The sub claim is not of the form <chain>[/<network>]:<address>');
  if (subject && !sameWallet(subject.address, walletAddress)) throw invalid('The sub claim names another wallet');
  // Chain names are compared in lower case everywhere (requirements, address keys), so they are
  // normalised here: "Ethereum" and "ethereum" must yield the same wallet address.
  const chainText = optionalString(payload, 'chain', 64);
  const chainClaim = chainText === undefined ? undefined : asciiLowerCase(chainText);
  if (chainClaim !== undefined && !CHAIN_NAME.test(chainClaim)) throw invalid('The chain claim is not a chain name');
  if (chainClaim !== undefined && subject !== undefined && subject.chain !== chainClaim) {
    throw invalid('The chain claim and the sub claim name different chains');
  }
  const chain = chainClaim ?? subject?.chain ?? (isEvmAddress(walletAddress) ? 'ethereum' : undefined);
  if (chain === undefined) throw invalid('The token does not say which chain its wallet is on');
  if (isEvmChain(chain) && !isEvmAddress(walletAddress))
    throw invalid('The walletAddress claim is not a 20-byte hex address');
  const network = subject?.network ?? DEFAULT_NETWORK;
  if (payload.network !== undefined && payload.network !== network)
    throw invalid('The network claim and the sub claim disagree');
  const contractAddress = optionalString(payload, 'contractAddress');
  const tokenBalance = optionalBalance(payload, 'tokenBalance') ?? optionalBalance(payload, 'numTokens');
  const tokenIds = tokenIdsOf(payload.tokenIds);
  let tokenBalances = tokenBalancesOf(payload.tokenBalances, chain);
  // The single-contract claims are a contract balance too; tokenBalances, the newer format, wins.
  // The top-level tokenIds stay where they are: only there are they bound to contractAddress.
  if (
    contractAddress !== undefined &&
    tokenBalance !== undefined &&
    !hasAddress(tokenBalances?.contractAddress, chain, contractAddress)
  ) {
    tokenBalances = {
      ...tokenBalances,
      contractAddress: { ...tokenBalances?.contractAddress, [contractAddress]: tokenBalance },
    };
  }
  const tid = optionalString(payload, 'tid');
  const ver = optionalNumber(payload, 'ver');
  const email = optionalString(payload, 'email');

  // Own-property copy without `__proto__`: a later Object.assign by the application must not be
  // able to swap a prototype because a token said so.
  const claims = {} as AccessTokenClaims;
  for (const [name, value] of Object.entries(payload)) if (name !== '__proto__') claims[name] = value;
  const checked = {
    iss,
    aud,
    exp,
    walletAddress,
    displayAddress,
    chain,
    network,
    sub,
    iat,
    nbf,
    contractAddress,
    tokenBalance,
    tokenIds,
    tokenBalances,
    tid,
    ver,
    email,
  };
  for (const [name, value] of Object.entries(checked)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}

function sameWallet(a: string, b: string): boolean {
  return isEvmAddress(a) && isEvmAddress(b) ? a.toLowerCase() === b.toLowerCase() : a === b;
}
