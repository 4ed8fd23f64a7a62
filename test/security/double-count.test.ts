/**
 * A balance counts once. Requirements list each address once after normalisation, and a token
 * that names one EVM address in two spellings is refused: otherwise the outcome would depend on
 * how the route spells the address.
 */
import request from 'supertest';
import { APES_CONTRACT, APES_CONTRACT_CHECKSUMMED, WALLET } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

const BAYC_UPPER = `0x${APES_CONTRACT.slice(2).toUpperCase()}`;

async function answer(middleware: Parameters<typeof appWith>[0], claims: Record<string, unknown>) {
  return request(appWith(middleware))
    .get('/r')
    .set('Authorization', `Bearer ${await env.issuer.sign(claims)}`);
}

describe('a requirement listing one address twice counts its balance once', () => {
  test('collection [X, X]', async () => {
    const mw = env.gate.requireTokens({
      chain: 'ethereum',
      collection: [APES_CONTRACT, APES_CONTRACT],
      minTokenBalance: '2',
    });
    expect((await answer(mw, { tokenBalances: { collection: { [APES_CONTRACT]: '1' } } })).status).toBe(403);
    expect((await answer(mw, { tokenBalances: { collection: { [APES_CONTRACT]: '2' } } })).status).toBe(200);
  });

  test('collection [X, X] in two EVM spellings', async () => {
    const mw = env.gate.requireTokens({
      chain: 'ethereum',
      collection: [APES_CONTRACT, APES_CONTRACT_CHECKSUMMED],
      minTokenBalance: '2',
    });
    expect((await answer(mw, { tokenBalances: { collection: { [APES_CONTRACT]: '1' } } })).status).toBe(403);
  });

  test('the 403 lists the address once', async () => {
    const mw = env.gate.requireTokens({
      chain: 'ethereum',
      collection: [APES_CONTRACT, BAYC_UPPER, 'apes', 'apes'],
      allowedWallets: [WALLET, WALLET.toLowerCase()],
    });
    const res = await answer(mw, {});
    expect(res.status).toBe(403);
    expect(res.body.requirements).toMatchObject({ collection: [APES_CONTRACT, 'apes'], allowedWallets: [WALLET] });
  });

  test('Solana mints that differ only in case are different tokens and both count', async () => {
    const sol = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
    const solWallet = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
    const other = sol.replace('J1S9', 'J1s9');
    const mw = env.gate.requireTokens({ chain: 'solana', collection: [sol, other, sol], minTokenBalance: '2' });
    const res = await answer(mw, {
      chain: 'solana',
      walletAddress: solWallet,
      tokenBalances: { collection: { [sol]: '1', [other]: '1' } },
    });
    expect(res.status).toBe(200);
  });
});

describe('a token naming one EVM address in two spellings is refused, whatever the route’s spelling', () => {
  test.each([
    ['contractAddress', { contractAddress: { [APES_CONTRACT]: '0', [APES_CONTRACT_CHECKSUMMED]: '5' } }],
    ['collection', { collection: { [BAYC_UPPER]: '5', [APES_CONTRACT]: '0' } }],
    ['creatorAddress', { creatorAddress: { [APES_CONTRACT]: '5', [APES_CONTRACT_CHECKSUMMED]: '5' } }],
  ])('two spellings in tokenBalances.%s', async (_kind, tokenBalances) => {
    for (const spelling of [APES_CONTRACT, APES_CONTRACT_CHECKSUMMED, BAYC_UPPER]) {
      const mw = env.gate.requireTokens({ chain: 'ethereum', contractAddress: spelling });
      const res = await answer(mw, { tokenBalances });
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('claim_invalid');
    }
  });

  test('the legacy contractAddress + tokenBalance in another spelling than tokenBalances: tokenBalances decides', async () => {
    const claims = {
      contractAddress: APES_CONTRACT_CHECKSUMMED,
      tokenBalance: '5',
      tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } },
    };
    for (const spelling of [APES_CONTRACT, APES_CONTRACT_CHECKSUMMED]) {
      expect((await answer(env.gate.requireTokens(spelling, '2'), claims)).status).toBe(403);
      expect((await answer(env.gate.requireTokens(spelling, '1'), claims)).status).toBe(200);
    }
  });
});
