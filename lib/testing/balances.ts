/**
 * The test issuer's balance table: what each wallet holds, as a test sets it. The issuer reads it
 * through `balanceTableResolver` (lib/testing/resolver.ts), like any ownership resolver.
 */
import { addressKey } from '../chain/address';
import { isDecimalString } from '../chain/decimal';

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
