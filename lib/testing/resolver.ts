/**
 * The test issuer's balance table as an `OwnershipResolver`: a gate with `revalidate` sees, at
 * once, what `issuer.setBalances()` says the wallet holds now, the way `/authz` does.
 */
import type { OwnershipResolver } from '../ownership/resolvers/types';
import { Decimal } from '../chain/decimal';
import type { BalanceTable } from './balances';

export function balanceTableResolver(table: BalanceTable): OwnershipResolver {
  return {
    name: 'test-issuer',
    async resolve({ walletAddress, requirements }) {
      const { contractAddress, tokenIds, collection, creatorAddress } = requirements;
      const items: string[] = [];
      if (contractAddress !== undefined) {
        if (tokenIds) items.push(...tokenIds.map((id) => `${contractAddress}:${id}`));
        else items.push(contractAddress);
      } else if (tokenIds) {
        items.push(...tokenIds); // Solana mints: each is its own address
      }
      items.push(...(collection ?? []));
      if (creatorAddress !== undefined) items.push(creatorAddress);
      const balance = items.reduce((sum, item) => sum.plus(table.get(walletAddress, item) ?? '0'), new Decimal(0));
      return { balance: balance.toFixed() };
    },
  };
}
