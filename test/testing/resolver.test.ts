/** issuer.ownershipResolver(): live ownership in tests, answered from the issuer's balance table. */
import { createTokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { appWith } from '../helpers/app';
import { get } from '../helpers/live';
import { describeOwnershipResolver } from '../ownership/resolvers/port-suite';

const APES = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
const PUNKS = '0xb47e3cd837ddf8e4c57f05d70ab865de6e193bbb';
const WALLET = '0x1111111111111111111111111111111111111111';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: 'kit-live' });
  issuer.setBalances(WALLET, { [APES]: '3', [`${PUNKS}:7`]: '1', [`${PUNKS}:8`]: '1' });
});
afterAll(() => issuer.close());

describe('issuer.ownershipResolver()', () => {
  test('a revalidating gate follows setBalances: a login token opens the route while the wallet holds', async () => {
    const gate = createTokenGate({ ...issuer.options, revalidate: { resolver: issuer.ownershipResolver(), maxAgeMs: 0 } });
    const app = appWith(gate.requireTokens({ contractAddress: APES, minTokenBalance: '2' }));
    const login = await issuer.sign({ walletAddress: WALLET });
    await get(app, login).expect(200);
    issuer.setBalances(WALLET, { [APES]: '1' });
    await get(app, login).expect(403);
    issuer.setBalances(WALLET, { [APES]: '3', [`${PUNKS}:7`]: '1', [`${PUNKS}:8`]: '1' });
  });

  test('token ids sum the balances set as "<contract>:<id>"', async () => {
    const answer = await issuer.ownershipResolver().resolve({
      chain: 'ethereum',
      walletAddress: WALLET,
      requirements: { chain: 'ethereum', contractAddress: PUNKS, tokenIds: ['7', '8', '9'], minTokenBalance: '0' },
      signal: new AbortController().signal,
    });
    expect(answer).toEqual({ balance: '2' });
  });
});

describeOwnershipResolver(
  "the test issuer's ownershipResolver()",
  () => ({ resolver: issuer.ownershipResolver(), contractAddress: APES, holder: { wallet: WALLET, balance: '3' }, stranger: '0x3333333333333333333333333333333333333333' }),
  { inProcess: true },
);
