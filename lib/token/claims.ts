/**
 * Claims normalisation: type-checks the verified payload and smooths the issuer's naming quirks
 * (`ext` for `exp`, legacy `numTokens`, the chain hidden in `sub`) into one `AccessTokenClaims`.
 */
import { InvalidTokenError } from '../errors';
import { isDecimalString } from '../chain/decimal';
import {
  addressKey,
  addressProblem,
  asciiLowerCase,
  caip2Chain,
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
 * The wallet of a token of another wallet service, read by the `wallet` option from its verified
 * claims. `chain` is a chain name (`ethereum`, `solana`) or a CAIP-2 id (`eip155:1`), whose network
 * it names too; `network` defaults to `mainnet`.
 */
export interface ForeignWallet {
  address: string;
  chain: string;
  network?: string;
}

/** The `wallet` option: the wallet the verified claims name, or nothing (then the token is refused). */
export type WalletOf = (claims: Readonly<Record<string, unknown>>) => ForeignWallet | undefined | null;

/** Claims of Picket's format that prove ownership: never read from, nor kept in, other services' tokens. */
const PROOF_CLAIMS = ['contractAddress', 'tokenBalance', 'numTokens', 'tokenIds', 'tokenBalances'] as const;

const CAIP2_ID = /^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/;

/** The wallet `wallet(claims)` names, checked; a 401 `claim_invalid` saying what is wrong otherwise. */
function foreignWallet(claims: Record<string, unknown>, wallet: WalletOf): Required<ForeignWallet> {
  let answer: unknown;
  try {
    answer = wallet(claims);
  } catch {
    throw invalid('The wallet option could not read a wallet from the token');
  }
  if (answer === undefined || answer === null) throw invalid('The token names no wallet the wallet option could read');
  if (typeof (answer as { then?: unknown }).then === 'function')
    throw invalid('The wallet option answered with a Promise; it must answer { address, chain } synchronously');
  if (typeof answer !== 'object' || Array.isArray(answer))
    throw invalid('The wallet option answered with something other than { address, chain }');
  const { address, chain: chainText, network: networkText } = answer as Partial<Record<keyof ForeignWallet, unknown>>;
  if (typeof chainText !== 'string' || chainText.length === 0 || chainText.length > 64)
    throw invalid("The wallet's chain is not a string");
  let chain: string;
  let network: string | undefined;
  if (CAIP2_ID.test(chainText)) {
    const known = caip2Chain(chainText);
    if (known === undefined) throw invalid(`The wallet's chain ${chainText} is not a chain the gate knows`);
    [chain, network] = known;
  } else {
    chain = asciiLowerCase(chainText);
    if (chain === 'eip155')
      throw invalid("The wallet's chain eip155 names no single chain: give a chain such as ethereum or eip155:1");
    if (!CHAIN_NAME.test(chain)) throw invalid("The wallet's chain is not a chain name");
  }
  if (networkText !== undefined) {
    const named = typeof networkText === 'string' ? asciiLowerCase(networkText) : undefined;
    if (named === undefined || !CHAIN_NAME.test(named)) throw invalid("The wallet's network is not a network name");
    if (network !== undefined && named !== network)
      throw invalid(`The wallet's network ${named} and its chain ${chainText} disagree`);
    network = named;
  }
  const problem = addressProblem(chain, address);
  if (problem !== undefined) throw invalid(`The wallet's address ${problem}`);
  return { address: address as string, chain, network: network ?? DEFAULT_NETWORK };
}

/**
 * Checks claim types and returns the normalised claims; throws `InvalidTokenError`, mostly
 * `claim_invalid` (see `missingClaim` for absent claims). With `wallet`, the wallet comes from it
 * instead of Picket's `walletAddress`, `chain`, `sub` and `network`, and Picket's ownership claims
 * are dropped: another service's token proves no balance.
 */
export function normaliseClaims(payload: Record<string, unknown>, wallet?: WalletOf): AccessTokenClaims {
  const iss = payload.iss;
  if (iss === undefined) throw missingClaim('iss');
  if (typeof iss !== 'string') throw new InvalidTokenError('issuer_mismatch', 'The iss claim is not a string');
  const aud = audienceOf(payload.aud);
  const exp = optionalNumber(payload, 'exp') ?? optionalNumber(payload, 'ext');
  if (exp === undefined) throw missingClaim('exp');
  const iat = optionalNumber(payload, 'iat');
  const nbf = optionalNumber(payload, 'nbf');
  if (wallet !== undefined) return foreignClaims(payload, wallet, { iss, aud, exp, iat, nbf });
  const walletAddress = optionalString(payload, 'walletAddress');
  if (walletAddress === undefined) throw missingClaim('walletAddress');
  const displayAddress = optionalString(payload, 'displayAddress') ?? walletAddress;
  const sub = optionalString(payload, 'sub', 512);
  // A sub we cannot read might name another wallet or network: it is refused, never skipped.
  const subject = sub === undefined ? undefined : parseSubject(sub);
  if (sub !== undefined && subject === undefined)
    throw invalid('The sub claim is not of the form <chain>[/<network>]:<address>');
  // The address's shape is read once: the sub, chain and address rules below all ask.
  const walletIsEvm = isEvmAddress(walletAddress);
  if (subject && !sameWallet(subject.address, walletAddress, walletIsEvm))
    throw invalid('The sub claim names another wallet');
  // Chain names are compared in lower case everywhere (requirements, address keys), so they are
  // normalised here: "Ethereum" and "ethereum" must yield the same wallet address.
  const chainText = optionalString(payload, 'chain', 64);
  const chainClaim = chainText === undefined ? undefined : asciiLowerCase(chainText);
  if (chainClaim !== undefined && !CHAIN_NAME.test(chainClaim)) throw invalid('The chain claim is not a chain name');
  if (chainClaim !== undefined && subject !== undefined && subject.chain !== chainClaim) {
    throw invalid('The chain claim and the sub claim name different chains');
  }
  const chain = chainClaim ?? subject?.chain ?? (walletIsEvm ? 'ethereum' : undefined);
  if (chain === undefined) throw invalid('The token does not say which chain its wallet is on');
  if (isEvmChain(chain) && !walletIsEvm) throw invalid('The walletAddress claim is not a 20-byte hex address');
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
  return withChecked(payload, {
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
    ...commonClaims(payload),
  });
}

/** The claims every token may carry, type-checked. */
function commonClaims(payload: Record<string, unknown>) {
  return {
    tid: optionalString(payload, 'tid'),
    ver: optionalNumber(payload, 'ver'),
    email: optionalString(payload, 'email'),
  };
}

/** A token of another wallet service: the wallet from `wallet(claims)`, no ownership claims. */
function foreignClaims(
  payload: Record<string, unknown>,
  wallet: WalletOf,
  times: Pick<AccessTokenClaims, 'iss' | 'aud' | 'exp' | 'iat' | 'nbf'>,
): AccessTokenClaims {
  const sub = optionalString(payload, 'sub', 512);
  const common = commonClaims(payload);
  const found = foreignWallet(ownCopy(payload), wallet);
  const claims = withChecked(payload, {
    ...times,
    sub,
    walletAddress: found.address,
    displayAddress: found.address,
    chain: found.chain,
    network: found.network,
    ...common,
  });
  for (const name of PROOF_CLAIMS) delete claims[name];
  return claims;
}

/**
 * Own-property copy without `__proto__`: a later Object.assign by the application must not be
 * able to swap a prototype because a token said so.
 */
function ownCopy(payload: Record<string, unknown>): AccessTokenClaims {
  const claims = {} as AccessTokenClaims;
  for (const [name, value] of Object.entries(payload)) if (name !== '__proto__') claims[name] = value;
  return claims;
}

/**
 * The payload's claims with the checked ones in their normalised form (absent ones removed), in
 * one pass: the payload's names in their order, then the checked names the payload lacks.
 */
function withChecked(payload: Record<string, unknown>, checked: Record<string, unknown>): AccessTokenClaims {
  const claims = {} as AccessTokenClaims;
  for (const name of Object.keys(payload)) {
    if (name === '__proto__') continue;
    const value = Object.hasOwn(checked, name) ? checked[name] : payload[name];
    if (value !== undefined) claims[name] = value;
  }
  for (const name of Object.keys(checked)) {
    const value = checked[name];
    if (value !== undefined && !Object.hasOwn(payload, name)) claims[name] = value;
  }
  return claims;
}

function sameWallet(a: string, b: string, bIsEvm: boolean): boolean {
  if (a === b) return true;
  return bIsEvm && isEvmAddress(a) && a.toLowerCase() === b.toLowerCase();
}
