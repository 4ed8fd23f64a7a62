/**
 * The behaviour every OwnershipResolver shares, run against each adapter (the issuer's API, the
 * chain, the test kit's balance table).
 */
import type { OwnershipQuery, OwnershipResolver } from '../../../lib';
import { closedPort } from '../../helpers/net';

export interface ResolverFixture {
  resolver: OwnershipResolver;
  /** A contract the holder holds `holder.balance` of (in whole tokens). */
  contractAddress: string;
  holder: { wallet: string; balance: string };
  /** A wallet holding none of it. */
  stranger: string;
  /** The same resolver pointed at a port nothing listens on (resolvers that call a service). */
  unreachable?(port: number): OwnershipResolver;
}

/** `inProcess`: the resolver calls no service (the test kit's), so it has no way to be unreachable. */
export function describeOwnershipResolver(
  name: string,
  fixture: () => ResolverFixture,
  { inProcess = false } = {},
): void {
  const ask = (
    resolver: OwnershipResolver,
    walletAddress: string,
    contractAddress: string,
    minTokenBalance = '1',
  ): Promise<unknown> => {
    const query: OwnershipQuery = {
      chain: 'ethereum',
      walletAddress,
      requirements: Object.freeze({ chain: 'ethereum', contractAddress, minTokenBalance }),
      signal: new AbortController().signal,
    };
    return resolver.resolve(query);
  };

  describe(`${name} implements the OwnershipResolver port`, () => {
    test("answers the holder's current balance in whole tokens, as a decimal string", async () => {
      const { resolver, holder, contractAddress } = fixture();
      const answer = (await ask(resolver, holder.wallet, contractAddress)) as { balance: string; allowed?: boolean };
      expect(answer.balance).toBe(holder.balance);
      expect(answer.allowed ?? true).toBe(true);
    });

    test('answers a zero balance for a wallet that holds none', async () => {
      const { resolver, stranger, contractAddress } = fixture();
      const answer = (await ask(resolver, stranger, contractAddress)) as { balance: string; allowed?: boolean };
      expect(answer.balance).toBe('0');
      expect(answer.allowed ?? false).toBe(false);
    });

    test('reads EVM wallet and contract addresses case-insensitively', async () => {
      const { resolver, holder, contractAddress } = fixture();
      const shout = (a: string) => `0x${a.slice(2).toUpperCase()}`;
      const answer = (await ask(resolver, shout(holder.wallet), shout(contractAddress))) as { balance: string };
      expect(answer.balance).toBe(holder.balance);
    });

    if (!inProcess) {
      test('rejects, rather than answering a balance, when its service cannot be reached', async () => {
        const { unreachable, holder, contractAddress } = fixture();
        const port = await closedPort();
        await expect(ask(unreachable!(port), holder.wallet, contractAddress)).rejects.toThrow();
      });
    }
  });
}
