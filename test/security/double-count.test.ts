/**
 * A balance counts once. Requirements list each address once after normalisation, and a token
 * that names one EVM address in two spellings is refused: otherwise the outcome would depend on
 * how the route spells the address.
 */
import request from 'supertest';
import { appWith, BAYC, useTestIssuer } from '../helpers/app';

const env = useTestIssuer();

const BAYC_CHECKSUMMED = '0xBC4CA0EdA7647A8aB7C2061c2E118A18a936f13D';
const BAYC_UPPER = `0x${BAYC.slice(2).toUpperCase()}`;
const WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';

async function answer(middleware: Parameters<typeof appWith>[0], claims: Record<string, unknown>) {
  return request(appWith(middleware)).get('/r').set('Authorization', `Bearer ${await env.issuer.sign(claims)}`);
}

describe('a requirement listing one address twice counts its balance once', () => {
  test('collection [X, X]', async () => {
    const mw = env.gate.requireTokens({ chain: 'ethereum', collection: [BAYC, BAYC], minTokenBalance: '2' });
    expect((await answer(mw, { tokenBalances: { collection: { [BAYC]: '1' } } })).status).toBe(403);
    expect((await answer(mw, { tokenBalances: { collection: { [BAYC]: '2' } } })).status).toBe(200);
  });

  test('collection [X, X] in two EVM spellings', async () => {
    const mw = env.gate.requireTokens({ chain: 'ethereum', collection: [BAYC, BAYC_CHECKSUMMED], minTokenBalance: '2' });
    expect((await answer(mw, { tokenBalances: { collection: { [BAYC]: '1' } } })).status).toBe(403);
  });

  test('the 403 lists the address once', async () => {
    const mw = env.gate.requireTokens({ chain: 'ethereum', collection: [BAYC, BAYC_UPPER, 'apes', 'apes'], allowedWallets: [WALLET, WALLET.toLowerCase()] });
    const res = await answer(mw, {});
    expect(res.status).toBe(403);
    expect(res.body.requirements).toMatchObject({ collection: [BAYC, 'apes'], allowedWallets: [WALLET] });
  });

  test('Solana mints that differ only in case are different tokens and both count', async () => {
    const sol = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
    const solWallet = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
    const other = sol.replace('J1S9', 'J1s9');
    const mw = env.gate.requireTokens({ chain: 'solana', collection: [sol, other, sol], minTokenBalance: '2' });
    const res = await answer(mw, { chain: 'solana', walletAddress: solWallet, tokenBalances: { collection: { [sol]: '1', [other]: '1' } } });
    expect(res.status).toBe(200);
  });
});

describe('a token naming one EVM address in two spellings is refused, whatever the route’s spelling', () => {
  test.each([
    ['contractAddress', { contractAddress: { [BAYC]: '0', [BAYC_CHECKSUMMED]: '5' } }],
    ['collection', { collection: { [BAYC_UPPER]: '5', [BAYC]: '0' } }],
    ['creatorAddress', { creatorAddress: { [BAYC]: '5', [BAYC_CHECKSUMMED]: '5' } }],
  ])('two spellings in tokenBalances.%s', async (_kind, tokenBalances) => {
    for (const spelling of [BAYC, BAYC_CHECKSUMMED, BAYC_UPPER]) {
      const mw = env.gate.requireTokens({ chain: 'ethereum', contractAddress: spelling });
      const res = await answer(mw, { tokenBalances });
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('claim_invalid');
    }
  });

  test('the legacy contractAddress + tokenBalance in another spelling than tokenBalances: tokenBalances decides', async () => {
    const claims = { contractAddress: BAYC_CHECKSUMMED, tokenBalance: '5', tokenBalances: { contractAddress: { [BAYC]: '1' } } };
    for (const spelling of [BAYC, BAYC_CHECKSUMMED]) {
      expect((await answer(env.gate.requireTokens(spelling, '2'), claims)).status).toBe(403);
      expect((await answer(env.gate.requireTokens(spelling, '1'), claims)).status).toBe(200);
    }
  });
});
