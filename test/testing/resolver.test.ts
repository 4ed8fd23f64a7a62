/** issuer.ownershipResolver(): live ownership in tests, answered from the issuer's balance table. */
import { createTokenGate } from '../../lib';
import { createTestIssuer, TEST_SOLANA_WALLET, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT, AUDIENCE, OTHER_WALLET, PUNKS_CONTRACT, STRANGER_WALLET } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';
import { get } from '../helpers/live';
import { describeOwnershipResolver } from '../ownership/resolvers/port-suite';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  issuer.setBalances(OTHER_WALLET, {
    [APES_CONTRACT]: '3',
    [`${PUNKS_CONTRACT}:7`]: '1',
    [`${PUNKS_CONTRACT}:8`]: '1',
  });
});
afterAll(() => issuer.close());

describe('issuer.ownershipResolver()', () => {
  test('a revalidating gate follows setBalances: a login token opens the route while the wallet holds', async () => {
    const gate = createTokenGate({
      ...issuer.options,
      revalidate: { resolver: issuer.ownershipResolver(), maxAgeMs: 0 },
    });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT, minTokenBalance: '2' }));
    const login = await issuer.sign({ walletAddress: OTHER_WALLET });
    await get(app, login).expect(200);
    issuer.setBalances(OTHER_WALLET, { [APES_CONTRACT]: '1' });
    await get(app, login).expect(403);
    issuer.setBalances(OTHER_WALLET, {
      [APES_CONTRACT]: '3',
      [`${PUNKS_CONTRACT}:7`]: '1',
      [`${PUNKS_CONTRACT}:8`]: '1',
    });
  });

  test('token ids sum the balances set as "<contract>:<id>"', async () => {
    const answer = await issuer.ownershipResolver().resolve({
      chain: 'ethereum',
      walletAddress: OTHER_WALLET,
      requirements: {
        chain: 'ethereum',
        contractAddress: PUNKS_CONTRACT,
        tokenIds: ['7', '8', '9'],
        minTokenBalance: '0',
      },
      signal: new AbortController().signal,
    });
    expect(answer).toEqual({ balance: '2' });
  });

  test('Solana token ids are mints: each is looked up under its own address, no contract', async () => {
    const mint = 'So11111111111111111111111111111111111111112';
    const other = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
    const solana = await createTestIssuer({ audience: AUDIENCE, chain: 'solana' });
    try {
      solana.setBalances(TEST_SOLANA_WALLET, { [mint]: '1' });
      const answer = await solana.ownershipResolver().resolve({
        chain: 'solana',
        walletAddress: TEST_SOLANA_WALLET,
        requirements: { chain: 'solana', tokenIds: [mint, other], minTokenBalance: '0' },
        signal: new AbortController().signal,
      });
      expect(answer).toEqual({ balance: '1' });
    } finally {
      await solana.close();
    }
  });
});

describeOwnershipResolver(
  "the test issuer's ownershipResolver()",
  () => ({
    resolver: issuer.ownershipResolver(),
    contractAddress: APES_CONTRACT,
    holder: { wallet: OTHER_WALLET, balance: '3' },
    stranger: STRANGER_WALLET,
  }),
  { inProcess: true },
);
