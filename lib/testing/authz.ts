/**
 * The issuer's side of incremental authorization: the balances a test says each wallet holds,
 * and the upgrade of verified claims to claims that prove a requirement from those balances.
 */
import { InsufficientScopeError } from '../errors';
import { addressKey, isEvmChain } from '../chain/address';
import type { CompiledRequirements } from '../ownership/requirements';
import { normaliseClaims, type AccessTokenClaims, type TokenBalances } from '../token/claims';
import { Decimal, isDecimalString } from '../chain/decimal';

/** Claims only the normalisation adds, or that tokenBalance and exp already carry: never re-signed. */
const DERIVED_CLAIMS = ['network', 'numTokens', 'ext'];

/** `<contractAddress>:<tokenId>`: how a balance table names one token of a contract. */
const TOKEN_ITEM = /^(.+):([0-9]+)$/;

/**
 * What each wallet holds, keyed by contract address, collection, creator address, Solana mint or
 * `<contractAddress>:<tokenId>`. Addresses are compared the way the chain compares them.
 */
export class BalanceTable {
  private readonly wallets = new Map<string, ReadonlyMap<string, string>>();

  constructor(private readonly chain: string) {}

  /** Replaces what `wallet` holds. */
  set(wallet: string, balances: Record<string, string>): void {
    if (typeof wallet !== 'string' || wallet === '') throw new TypeError('setBalances: wallet must be an address');
    if (typeof balances !== 'object' || balances === null)
      throw new TypeError('setBalances: balances must be an object');
    const items = new Map<string, string>();
    for (const [item, balance] of Object.entries(balances)) {
      if (!isDecimalString(balance))
        throw new TypeError(`setBalances: the balance of ${item} must be a decimal string such as "3"`);
      items.set(this.key(item), balance);
    }
    this.wallets.set(addressKey(this.chain, wallet), items);
  }

  /** The balance `wallet` holds of `item`, or undefined when the table does not say. */
  get(wallet: string, item: string): string | undefined {
    return this.wallets.get(addressKey(this.chain, wallet))?.get(this.key(item));
  }

  private key(item: string): string {
    const token = TOKEN_ITEM.exec(item);
    return token ? `${addressKey(this.chain, token[1]!)}:${token[2]}` : addressKey(this.chain, item);
  }
}

/**
 * Claims for the upgraded token: the old claims plus the balances the table proves for
 * `requirement`, or the refusal when they do not meet it. Earlier proofs are kept (that is what
 * makes the authorization incremental); the expiry stays that of the session.
 *
 * EVM token ids are proven in the issuer's single-requirement claims, `contractAddress` +
 * `tokenIds` + `tokenBalance`, the one place a token binds ids to their contract (ids of the same
 * contract accumulate; ids of another contract replace them, the contract's balance stays proven).
 * Solana token ids are mint addresses and go into `tokenBalances.tokenIds` like any balance.
 */
export function upgradeClaims(
  claims: AccessTokenClaims,
  requirement: CompiledRequirements,
  table: BalanceTable,
): { claims: Record<string, unknown> } | { refusal: InsufficientScopeError } {
  const { chain, contractAddress, tokenIds, collection, creatorAddress } = requirement.description;
  const held = (item: string) => table.get(claims.walletAddress, item);
  const proven: TokenBalances = {};
  for (const [kind, map] of Object.entries(claims.tokenBalances ?? {}))
    proven[kind as keyof TokenBalances] = { ...(map as Record<string, string>) };
  // The table is the truth for every item the requirement names: what it holds replaces what the
  // token proved, and an item it does not hold is no longer proven (a wallet that sold).
  const record = (kind: keyof TokenBalances, item: string, balance: string | undefined) => {
    // One entry per address as the chain compares them: a second spelling would void the token.
    const kept = Object.entries(proven[kind] ?? {}).filter(
      ([key]) => addressKey(chain, key) !== addressKey(chain, item),
    );
    proven[kind] = balance === undefined ? Object.fromEntries(kept) : { ...Object.fromEntries(kept), [item]: balance };
  };

  const upgraded: Record<string, unknown> = { ...claims };
  if (contractAddress !== undefined && tokenIds !== undefined) {
    const same =
      claims.contractAddress !== undefined &&
      addressKey(chain, claims.contractAddress) === addressKey(chain, contractAddress);
    const ids = new Set(same ? claims.tokenIds : []);
    for (const id of tokenIds) if (isPositive(held(`${contractAddress}:${id}`))) ids.add(id);
    let balance = new Decimal(0);
    for (const id of ids) balance = balance.plus(held(`${contractAddress}:${id}`) ?? '1');
    Object.assign(upgraded, { contractAddress, tokenIds: [...ids], tokenBalance: balance.toFixed() });
  } else if (contractAddress !== undefined) {
    record('contractAddress', contractAddress, held(contractAddress));
  } else {
    for (const id of tokenIds ?? []) record('tokenIds', id, held(id));
  }
  for (const c of collection ?? []) record('collection', c, held(c));
  if (creatorAddress !== undefined) record('creatorAddress', creatorAddress, held(creatorAddress));

  upgraded.tokenBalances = proven;
  for (const derived of DERIVED_CLAIMS) delete upgraded[derived];
  try {
    // The identity claims only matter to the check's normalisation: a login or a token-ownership
    // question has none yet, and the balances are what is judged here.
    requirement.check(normaliseClaims({ iss: 'upgrade', aud: 'upgrade', exp: Number.MAX_SAFE_INTEGER, ...upgraded }));
  } catch (refusal) {
    if (!(refusal instanceof InsufficientScopeError)) throw refusal;
    return { refusal };
  }
  return { claims: upgraded };
}

/**
 * The claims with every proof the token carries taken again from the table (`/authz` with
 * `revalidate`): a balance becomes what the wallet holds now, and what it no longer holds is no
 * longer proven, token ids included (an id the table does not hold never counts as one).
 */
export function reproveClaims(claims: AccessTokenClaims, table: BalanceTable): AccessTokenClaims {
  const chain = claims.chain;
  const held = (item: string) => table.get(claims.walletAddress, item);
  const reproven: Record<string, unknown> = { ...claims };
  const balances: TokenBalances = {};
  const contracts = Object.keys(claims.tokenBalances?.contractAddress ?? {});
  for (const [kind, map] of Object.entries(claims.tokenBalances ?? {})) {
    const kept: Record<string, string> = {};
    for (const item of Object.keys(map as Record<string, string>)) {
      // On EVM chains an id in tokenBalances is its token's only when one contract is proven.
      const evmId = kind === 'tokenIds' && isEvmChain(chain);
      const name = evmId ? (contracts.length === 1 ? `${contracts[0]}:${item}` : undefined) : item;
      const balance = name === undefined ? undefined : held(name);
      if (isPositive(balance)) kept[item] = balance!;
    }
    balances[kind as keyof TokenBalances] = kept;
  }
  reproven.tokenBalances = balances;
  for (const derived of DERIVED_CLAIMS) delete reproven[derived];
  const { contractAddress, tokenIds } = claims;
  if (contractAddress !== undefined && tokenIds !== undefined) {
    const ids = tokenIds.filter((id) => isPositive(held(`${contractAddress}:${id}`)));
    let total = new Decimal(0);
    for (const id of ids) total = total.plus(held(`${contractAddress}:${id}`)!);
    if (ids.length === 0) for (const claim of ['contractAddress', 'tokenIds', 'tokenBalance']) delete reproven[claim];
    else Object.assign(reproven, { tokenIds: ids, tokenBalance: total.toFixed() });
  } else if (contractAddress !== undefined && claims.tokenBalance !== undefined) {
    const balance = held(contractAddress);
    if (isPositive(balance)) reproven.tokenBalance = balance;
    else for (const claim of ['contractAddress', 'tokenBalance']) delete reproven[claim];
  }
  return reproven as unknown as AccessTokenClaims;
}

function isPositive(balance: string | undefined): boolean {
  return balance !== undefined && new Decimal(balance).isGreaterThan(0);
}
