/**
 * The issuer's side of incremental authorization: the balances a test says each wallet holds,
 * and the upgrade of verified claims to claims that prove a requirement from those balances.
 */
import { InsufficientScopeError } from '../errors';
import { addressKey, addressProblem, isEvmAddress, isEvmChain } from '../chain/address';
import type { CompiledRequirements } from '../ownership/requirements';
import { normaliseClaims, type AccessTokenClaims, type TokenBalances } from '../token/claims';
import { Decimal, isDecimalString } from '../chain/decimal';

/** `<contractAddress>:<tokenId>`: how a balance table names one token of a contract. */
const TOKEN_ITEM = /^(.+):([0-9]+)$/;

/** A name as an error message shows it: quoted and cut to 100 characters, or the kind of value it is. */
function quoted(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.slice(0, 100))
    : `of type ${value === null ? 'null' : typeof value}`;
}

/**
 * What each wallet holds, keyed by contract address, collection, creator address, Solana mint or
 * `<contractAddress>:<tokenId>`. Addresses are compared the way the chain compares them.
 */
export class BalanceTable {
  private readonly wallets = new Map<string, ReadonlyMap<string, string>>();

  constructor(private readonly chain: string) {}

  /**
   * Replaces what `wallet` holds. Throws a `TypeError` naming the wallet, item or balance that is
   * malformed: a mistyped address would otherwise hold nothing, silently.
   */
  set(wallet: string, balances: Record<string, string>): void {
    const walletProblem = addressProblem(this.chain, wallet);
    if (walletProblem !== undefined) throw new TypeError(`setBalances: wallet ${quoted(wallet)} ${walletProblem}`);
    if (typeof balances !== 'object' || balances === null || Array.isArray(balances))
      throw new TypeError(`setBalances: what wallet "${wallet}" holds must be an object such as { "0x…": "3" }`);
    const items = new Map<string, string>();
    for (const [item, balance] of Object.entries(balances)) {
      const itemProblem = this.itemProblem(item);
      if (itemProblem !== undefined)
        throw new TypeError(`setBalances: item ${quoted(item)} of wallet "${wallet}" ${itemProblem}`);
      if (!isDecimalString(balance))
        throw new TypeError(
          `setBalances: the balance of ${item} held by wallet "${wallet}" must be a decimal string such as "3"`,
        );
      items.set(this.key(item), balance);
    }
    this.wallets.set(addressKey(this.chain, wallet), items);
  }

  /** The balance `wallet` holds of `item`, or undefined when the table does not say. */
  get(wallet: string, item: string): string | undefined {
    return this.wallets.get(addressKey(this.chain, wallet))?.get(this.key(item));
  }

  /**
   * What is wrong with a balance table key, if anything. On EVM chains a key that starts with `0x`
   * is an address, and so is the contract of `<contractAddress>:<tokenId>`; anything else there is a
   * collection. On Solana every key (mint, collection, creator) is an address.
   */
  private itemProblem(item: string): string | undefined {
    if (item.length === 0 || item.length > 256) return 'must be 1 to 256 characters';
    if (isEvmChain(this.chain)) {
      const token = TOKEN_ITEM.exec(item);
      if (token)
        return isEvmAddress(token[1]!) ? undefined : `names a contract that ${addressProblem(this.chain, token[1]!)}`;
      return /^0x/i.test(item) ? addressProblem(this.chain, item) : undefined;
    }
    return this.chain === 'solana' ? addressProblem(this.chain, item) : undefined;
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
  // Claims only the normalisation adds, or that tokenBalance and exp already carry.
  for (const derived of ['network', 'numTokens', 'ext']) delete upgraded[derived];
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

function isPositive(balance: string | undefined): boolean {
  return balance !== undefined && new Decimal(balance).isGreaterThan(0);
}
