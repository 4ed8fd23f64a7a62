/**
 * Ownership requirements: validated and compiled once, when `requireTokens` is called, then
 * checked against verified claims on every request with Picket's semantics.
 */
import { InsufficientScopeError, didYouMean, type RequirementsDescription } from '../errors';
import type { AccessTokenClaims, TokenBalances } from '../token/claims';
import { Decimal, isDecimalString, type Decimal as DecimalValue } from '../chain/decimal';
import { addressKey, addressProblem, CHAIN_NAME, DEFAULT_NETWORK, isEvmChain } from '../chain/address';

/** What a route requires, in the issuer's own vocabulary. */
export interface TokenRequirements {
  /** Chain of the wallet and contracts. Default `ethereum` for 0x addresses; required otherwise. */
  chain?: string;
  /** The chain's network, e.g. `goerli`. Default `mainnet`: a testnet session never passes a mainnet route. */
  network?: string;
  contractAddress?: string;
  /**
   * EVM chains: ids of tokens within `contractAddress` (whole numbers). Other chains (Solana):
   * token (mint) addresses, no contract needed. Their balances are summed.
   */
  tokenIds?: Array<string | number | bigint>;
  /** Collections (e.g. Solana collection addresses); their balances are summed. */
  collection?: string | string[];
  creatorAddress?: string;
  /** Unset or 0: a balance above 0. Otherwise: a balance of at least this. Decimal string or number. */
  minTokenBalance?: string | number;
  /** Only these wallets pass. */
  allowedWallets?: string[];
}

/**
 * A requirement ready to check claims, plus the description a 403 hands the client. The one place
 * that knows what a requirement needs: `check` is `checkWallet` then, when `needsBalance`,
 * `checkBalance`; live ownership uses the same pieces with a balance asked of a resolver.
 */
export interface CompiledRequirements {
  readonly description: RequirementsDescription;
  /**
   * Whether anything must be held: a contract, tokens, a collection or a creator. `false` only
   * for a requirement on `allowedWallets` alone, which the token decides.
   */
  readonly needsBalance: boolean;
  /** Throws `InsufficientScopeError` when `claims` do not meet the requirement. */
  check(claims: AccessTokenClaims): void;
  /** Who the wallet is (chain, network, `allowedWallets`): throws `chain_mismatch` or `wallet_not_allowed`. */
  checkWallet(claims: AccessTokenClaims): void;
  /** What the token proves it holds: throws `insufficient_balance` when its balances fall short. */
  checkBalance(claims: AccessTokenClaims): void;
  /** Whether `balance` (whole tokens) meets the minimum: unset or 0 means above 0, otherwise at least it. */
  isEnough(balance: DecimalValue): boolean;
}

const KNOWN = new Set([
  'chain',
  'network',
  'contractAddress',
  'tokenIds',
  'collection',
  'creatorAddress',
  'minTokenBalance',
  'allowedWallets',
]);

export class RequirementsError extends TypeError {
  override name = 'RequirementsError';
  constructor(field: string, problem: string) {
    super(`express-token-gate: requirement "${field}" ${problem}`);
  }
}

function address(chain: string, field: string, value: unknown): string {
  const problem = addressProblem(chain, value);
  if (problem) throw new RequirementsError(field, problem);
  return value as string;
}

function minimum(value: unknown): string {
  if (value === undefined) return '0';
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    const text = new Decimal(value).toFixed();
    if (isDecimalString(text)) return text;
  }
  if (isDecimalString(value)) return value;
  throw new RequirementsError('minTokenBalance', 'must be a non-negative decimal string or number, e.g. "1" or "0.5"');
}

function tokenId(value: unknown): string {
  const text =
    typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)) ? String(value) : value;
  if (typeof text !== 'string' || !/^(?:0|[1-9][0-9]{0,77})$/.test(text)) {
    throw new RequirementsError('tokenIds', 'must hold non-negative whole numbers (strings, safe integers or bigints)');
  }
  return text;
}

/** Keeps the first of each address as the chain compares them: one balance is never summed twice. */
function distinct(chain: string, addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((a) => {
    const key = addressKey(chain, a);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Validates `input` and returns a checker. Throws `RequirementsError` naming the bad field. */
export function compileRequirements(input: TokenRequirements): CompiledRequirements {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RequirementsError('requirements', 'must be an object');
  }
  for (const key of Object.keys(input))
    if (!KNOWN.has(key)) throw new RequirementsError(key, `is not a known requirement${didYouMean(key, KNOWN)}`);
  const { contractAddress, creatorAddress, tokenIds, allowedWallets } = input;
  const collection = typeof input.collection === 'string' ? [input.collection] : input.collection;
  if ([contractAddress, creatorAddress, collection, allowedWallets, tokenIds].every((v) => v === undefined)) {
    throw new RequirementsError(
      'requirements',
      'need a contractAddress, collection, creatorAddress, tokenIds or allowedWallets',
    );
  }

  let chain = input.chain;
  if (chain === undefined) {
    const sample = contractAddress ?? creatorAddress ?? allowedWallets?.[0];
    // A 0x address means ethereum even when malformed, so the error names the address, not the chain.
    if (typeof sample === 'string' && /^0x/i.test(sample)) chain = 'ethereum';
    else throw new RequirementsError('chain', 'is required unless the addresses are 0x hex (ethereum)');
  }
  if (typeof chain !== 'string' || !CHAIN_NAME.test(chain)) {
    throw new RequirementsError('chain', 'must be a lower-case chain name such as "ethereum" or "solana"');
  }
  const network = input.network ?? DEFAULT_NETWORK;
  if (typeof network !== 'string' || !CHAIN_NAME.test(network)) {
    throw new RequirementsError('network', 'must be a lower-case network name such as "mainnet" or "sepolia"');
  }
  const description: RequirementsDescription = { chain, minTokenBalance: minimum(input.minTokenBalance) };
  // The issuer's requirement shape has no network: it is named only when it is not the default.
  if (network !== DEFAULT_NETWORK) description.network = network;
  if (contractAddress !== undefined) description.contractAddress = address(chain, 'contractAddress', contractAddress);
  if (creatorAddress !== undefined) description.creatorAddress = address(chain, 'creatorAddress', creatorAddress);
  if (collection !== undefined) {
    if (!Array.isArray(collection) || collection.length === 0)
      throw new RequirementsError('collection', 'must be a string or a non-empty list');
    const listed = collection.map((c, i) => {
      if (typeof c !== 'string' || c.length === 0 || c.length > 256)
        throw new RequirementsError(`collection[${i}]`, 'must be a non-empty string');
      return c;
    });
    description.collection = distinct(chain, listed);
  }
  if (tokenIds !== undefined) {
    if (!Array.isArray(tokenIds) || tokenIds.length === 0)
      throw new RequirementsError('tokenIds', 'must be a non-empty list');
    if (isEvmChain(chain)) {
      // An EVM token id means something only within its contract: #1 exists in most collections.
      if (contractAddress === undefined) throw new RequirementsError('tokenIds', 'needs a contractAddress');
      description.tokenIds = [...new Set(tokenIds.map(tokenId))];
    } else {
      // Elsewhere (Solana) a token id is the token's own (mint) address.
      description.tokenIds = distinct(
        chain,
        tokenIds.map((id, i) => address(chain, `tokenIds[${i}]`, id)),
      );
    }
  }
  if (allowedWallets !== undefined) {
    if (!Array.isArray(allowedWallets) || allowedWallets.length === 0)
      throw new RequirementsError('allowedWallets', 'must be a non-empty list');
    description.allowedWallets = distinct(
      chain,
      allowedWallets.map((w, i) => address(chain, `allowedWallets[${i}]`, w)),
    );
  }
  Object.freeze(description);
  return new Requirement(description, network);
}

class Requirement implements CompiledRequirements {
  readonly needsBalance: boolean;
  private readonly wallets: ReadonlySet<string> | undefined;
  private readonly min: DecimalValue;
  private readonly evm: boolean;

  constructor(
    readonly description: RequirementsDescription,
    private readonly network: string,
  ) {
    const { chain, allowedWallets, contractAddress, creatorAddress, collection, tokenIds } = description;
    this.needsBalance = [contractAddress, creatorAddress, collection, tokenIds].some((v) => v !== undefined);
    this.wallets = allowedWallets && new Set(allowedWallets.map((w) => addressKey(chain, w)));
    this.min = new Decimal(description.minTokenBalance);
    this.evm = isEvmChain(chain);
  }

  check(claims: AccessTokenClaims): void {
    this.checkWallet(claims);
    if (this.needsBalance) this.checkBalance(claims);
  }

  checkWallet(claims: AccessTokenClaims): void {
    const { chain } = this.description;
    if (claims.chain !== chain || (claims.network ?? DEFAULT_NETWORK) !== this.network) {
      const where = this.network === DEFAULT_NETWORK ? chain : `${chain} ${this.network}`;
      throw this.refuse('chain_mismatch', `This resource needs a wallet on ${where}`);
    }
    if (this.wallets && !this.wallets.has(addressKey(chain, claims.walletAddress))) {
      throw this.refuse('wallet_not_allowed', 'This wallet is not allowed here');
    }
  }

  checkBalance(claims: AccessTokenClaims): void {
    if (!this.isEnough(this.balance(claims))) {
      throw this.refuse('insufficient_balance', 'The token does not prove the required balance');
    }
  }

  isEnough(balance: DecimalValue): boolean {
    return this.min.isZero() ? balance.isGreaterThan(0) : balance.isGreaterThanOrEqualTo(this.min);
  }

  /** Sums the proven balances of everything the requirement lists (each listed once). */
  private balance(claims: AccessTokenClaims): DecimalValue {
    const { chain, contractAddress, tokenIds, collection, creatorAddress } = this.description;
    const balances: TokenBalances = claims.tokenBalances ?? {};
    let total = new Decimal(0);
    const add = (value: string | undefined) => {
      if (value !== undefined) total = total.plus(value);
    };
    if (contractAddress !== undefined && tokenIds !== undefined) {
      total = total.plus(boundIdBalance(claims, chain, contractAddress, tokenIds));
    } else if (contractAddress !== undefined) {
      add(lookup(balances.contractAddress, chain, contractAddress));
    } else if (tokenIds !== undefined) {
      // Token (mint) addresses: each names one token, whatever else the token proves.
      for (const id of tokenIds)
        add(lookup(balances.tokenIds, undefined, id) ?? (claims.tokenIds?.includes(id) ? '1' : undefined));
    }
    for (const c of collection ?? []) add(lookup(balances.collection, this.evm ? chain : undefined, c));
    if (creatorAddress !== undefined) add(lookup(balances.creatorAddress, chain, creatorAddress));
    return total;
  }

  private refuse(
    reason: 'chain_mismatch' | 'wallet_not_allowed' | 'insufficient_balance',
    text: string,
  ): InsufficientScopeError {
    return new InsufficientScopeError(reason, text, this.description);
  }
}

/**
 * What the token proves of `tokenIds` within `contract` on an EVM chain. An id proves nothing
 * about a contract unless the token binds the two, which it does in two ways:
 * - the issuer's single-requirement claims: `contractAddress` with its `tokenIds` (one token each);
 * - `tokenBalances.tokenIds` (keyed by id alone) in a token whose proofs name that one contract and
 *   nothing else: the issuer records id balances only for a requirement naming a contract, so
 *   there they can only be that contract's. Next to a second contract, a collection or a creator,
 *   an id could belong to any of them and counts for none.
 */
function boundIdBalance(
  claims: AccessTokenClaims,
  chain: string,
  contract: string,
  tokenIds: readonly string[],
): DecimalValue {
  const wanted = addressKey(chain, contract);
  const balances = claims.tokenBalances ?? {};
  const contracts = Object.keys(balances.contractAddress ?? {});
  const soleContract =
    contracts.length === 1 &&
    addressKey(chain, contracts[0]!) === wanted &&
    isEmpty(balances.collection) &&
    isEmpty(balances.creatorAddress);
  const named =
    claims.contractAddress !== undefined && addressKey(chain, claims.contractAddress) === wanted
      ? claims.tokenIds
      : undefined;
  let total = new Decimal(0);
  for (const id of tokenIds) {
    const proven =
      soleContract && balances.tokenIds !== undefined && Object.hasOwn(balances.tokenIds, id)
        ? balances.tokenIds[id]
        : undefined;
    if (proven !== undefined) total = total.plus(proven);
    else if (named?.includes(id)) total = total.plus(1);
  }
  return total;
}

function isEmpty(map: Record<string, string> | undefined): boolean {
  return map === undefined || Object.keys(map).length === 0;
}

/**
 * Finds a balance by address: exact first, then (on EVM chains, `chain` given) case-insensitively.
 * Claims never hold two spellings of one EVM address, so the answer does not depend on the spelling.
 */
function lookup(map: Record<string, string> | undefined, chain: string | undefined, key: string): string | undefined {
  if (map === undefined) return undefined;
  if (Object.hasOwn(map, key)) return map[key];
  if (chain === undefined || !isEvmChain(chain)) return undefined;
  const wanted = addressKey(chain, key);
  for (const [candidate, value] of Object.entries(map)) if (addressKey(chain, candidate) === wanted) return value;
  return undefined;
}
