/**
 * Ownership requirements: validated and compiled once, when `requireTokens` is called, then
 * checked against verified claims on every request with Picket's semantics.
 */
import { InsufficientScopeError, type RequirementsDescription } from '../errors';
import type { AccessTokenClaims, TokenBalances } from '../token/claims';
import { Decimal, isDecimalString, type Decimal as DecimalValue } from '../token/decimal';
import { addressKey, addressProblem, CHAIN_NAME, isEvmChain } from '../token/address';

/** What a route requires, in the issuer's own vocabulary. */
export interface TokenRequirements {
  /** Chain of the wallet and contracts. Default `ethereum` for 0x addresses; required otherwise. */
  chain?: string;
  contractAddress?: string;
  /** Specific token ids within `contractAddress` (on Solana: mint addresses, no contract); their balances are summed. */
  tokenIds?: Array<string | number | bigint>;
  /** Collections (e.g. Solana collection addresses); their balances are summed. */
  collection?: string | string[];
  creatorAddress?: string;
  /** Unset or 0: a balance above 0. Otherwise: a balance of at least this. Decimal string or number. */
  minTokenBalance?: string | number;
  /** Only these wallets pass. */
  allowedWallets?: string[];
}

/** A requirement ready to check claims, plus the description a 403 hands the client. */
export interface CompiledRequirements {
  readonly description: RequirementsDescription;
  /** Throws `InsufficientScopeError` when `claims` do not meet the requirement. */
  check(claims: AccessTokenClaims): void;
}

const KNOWN = new Set(['chain', 'contractAddress', 'tokenIds', 'collection', 'creatorAddress', 'minTokenBalance', 'allowedWallets']);

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
  const text = typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)) ? String(value) : value;
  if (typeof text !== 'string' || !/^(?:0|[1-9][0-9]{0,77})$/.test(text)) {
    throw new RequirementsError('tokenIds', 'must hold non-negative whole numbers (strings, safe integers or bigints)');
  }
  return text;
}

/** Validates `input` and returns a checker. Throws `RequirementsError` naming the bad field. */
export function compileRequirements(input: TokenRequirements): CompiledRequirements {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RequirementsError('requirements', 'must be an object');
  }
  for (const key of Object.keys(input)) if (!KNOWN.has(key)) throw new RequirementsError(key, 'is not a known requirement');
  const { contractAddress, creatorAddress, tokenIds, allowedWallets } = input;
  const collection = typeof input.collection === 'string' ? [input.collection] : input.collection;
  const solanaMints = input.chain === 'solana' && tokenIds !== undefined;
  if ([contractAddress, creatorAddress, collection, allowedWallets].every((v) => v === undefined) && !solanaMints) {
    throw new RequirementsError('requirements', 'need a contractAddress, collection, creatorAddress or allowedWallets');
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
  const description: RequirementsDescription = { chain, minTokenBalance: minimum(input.minTokenBalance) };
  if (contractAddress !== undefined) description.contractAddress = address(chain, 'contractAddress', contractAddress);
  if (creatorAddress !== undefined) description.creatorAddress = address(chain, 'creatorAddress', creatorAddress);
  if (collection !== undefined) {
    if (!Array.isArray(collection) || collection.length === 0) throw new RequirementsError('collection', 'must be a string or a non-empty list');
    description.collection = collection.map((c, i) => {
      if (typeof c !== 'string' || c.length === 0 || c.length > 256) throw new RequirementsError(`collection[${i}]`, 'must be a non-empty string');
      return c;
    });
  }
  if (tokenIds !== undefined) {
    if (chain === 'solana') {
      // On Solana every NFT is its own mint: a token id is the mint address and needs no contract.
      if (!Array.isArray(tokenIds) || tokenIds.length === 0) throw new RequirementsError('tokenIds', 'must be a non-empty list');
      description.tokenIds = [...new Set(tokenIds.map((id, i) => address(chain, `tokenIds[${i}]`, id)))];
    } else {
      if (contractAddress === undefined) throw new RequirementsError('tokenIds', 'needs a contractAddress');
      if (!Array.isArray(tokenIds) || tokenIds.length === 0) throw new RequirementsError('tokenIds', 'must be a non-empty list');
      description.tokenIds = [...new Set(tokenIds.map(tokenId))];
    }
  }
  if (allowedWallets !== undefined) {
    if (!Array.isArray(allowedWallets) || allowedWallets.length === 0) throw new RequirementsError('allowedWallets', 'must be a non-empty list');
    description.allowedWallets = allowedWallets.map((w, i) => address(chain, `allowedWallets[${i}]`, w));
  }
  const needsBalance =
    description.contractAddress !== undefined ||
    description.creatorAddress !== undefined ||
    description.collection !== undefined ||
    description.tokenIds !== undefined;
  Object.freeze(description);
  return new Requirement(description, needsBalance);
}

class Requirement implements CompiledRequirements {
  private readonly wallets: ReadonlySet<string> | undefined;
  private readonly min: DecimalValue;

  constructor(
    readonly description: RequirementsDescription,
    private readonly needsBalance: boolean,
  ) {
    const { chain, allowedWallets } = description;
    this.wallets = allowedWallets && new Set(allowedWallets.map((w) => addressKey(chain, w)));
    this.min = new Decimal(description.minTokenBalance);
  }

  check(claims: AccessTokenClaims): void {
    const { chain } = this.description;
    if (claims.chain !== chain) {
      throw this.refuse('chain_mismatch', `This resource needs a wallet on ${chain}`);
    }
    if (this.wallets && !this.wallets.has(addressKey(chain, claims.walletAddress))) {
      throw this.refuse('wallet_not_allowed', 'This wallet is not allowed here');
    }
    if (!this.needsBalance) return;
    const balance = this.balance(claims);
    const enough = this.min.isZero() ? balance.isGreaterThan(0) : balance.isGreaterThanOrEqualTo(this.min);
    if (!enough) throw this.refuse('insufficient_balance', 'The token does not prove the required balance');
  }

  /** Sums the proven balances of everything the requirement lists. */
  private balance(claims: AccessTokenClaims): DecimalValue {
    const { chain, contractAddress, tokenIds, collection, creatorAddress } = this.description;
    const balances: TokenBalances = claims.tokenBalances ?? {};
    let total = new Decimal(0);
    const add = (map: Record<string, string> | undefined, key: string, exactKey: boolean) => {
      const value = map && lookup(map, key, exactKey ? undefined : chain);
      if (value !== undefined) total = total.plus(value);
    };
    if (contractAddress !== undefined) {
      if (tokenIds) {
        // Token-id balances count only when the token also proves the contract they belong to.
        const proven =
          (balances.contractAddress !== undefined && lookup(balances.contractAddress, contractAddress, chain) !== undefined) ||
          (claims.contractAddress !== undefined && addressKey(chain, claims.contractAddress) === addressKey(chain, contractAddress));
        if (proven) {
          for (const id of tokenIds) add(balances.tokenIds, id, true);
        }
      } else {
        add(balances.contractAddress, contractAddress, false);
      }
    }
    // Solana mints (tokenIds without a contract) are addresses of their own, compared exactly.
    if (contractAddress === undefined) for (const mint of tokenIds ?? []) add(balances.tokenIds, mint, true);
    for (const c of collection ?? []) add(balances.collection, c, !isEvmChain(chain));
    if (creatorAddress !== undefined) add(balances.creatorAddress, creatorAddress, false);
    return total;
  }

  private refuse(reason: 'chain_mismatch' | 'wallet_not_allowed' | 'insufficient_balance', text: string): InsufficientScopeError {
    return new InsufficientScopeError(reason, text, this.description);
  }
}

/** Finds a balance by address: exact first, then (on EVM chains) case-insensitively. */
function lookup(map: Record<string, string>, key: string, chain: string | undefined): string | undefined {
  if (Object.hasOwn(map, key)) return map[key];
  if (chain === undefined || !isEvmChain(chain)) return undefined;
  const wanted = addressKey(chain, key);
  for (const [candidate, value] of Object.entries(map)) if (addressKey(chain, candidate) === wanted) return value;
  return undefined;
}
