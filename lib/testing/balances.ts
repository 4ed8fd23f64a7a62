/**
 * The test issuer's balance table: what each wallet holds, as a test sets it. The issuer reads it
 * through `balanceTableResolver` (lib/testing/resolver.ts), like any ownership resolver.
 */
import { addressKey, addressProblem, isEvmAddress, isEvmChain } from '../chain/address';
import { isDecimalString } from '../chain/decimal';

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
