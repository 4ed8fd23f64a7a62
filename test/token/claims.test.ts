import request from 'supertest';
import { createTokenGate, type TokenGate } from '../../lib';
import { APES_CONTRACT, nowSeconds, WALLET } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

const SOLANA_WALLET = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';

async function walletOf(claims: Record<string, unknown>) {
  const res = await request(appWith(env.gate.requireAuth()))
    .get('/r')
    .set('Authorization', `Bearer ${await env.issuer.sign(claims)}`);
  expect(res.status).toBe(200);
  return res.body.wallet;
}

describe('req.wallet', () => {
  test('carries address, displayAddress, chain, claims and the token', async () => {
    const token = await env.issuer.sign({ displayAddress: 'ens.eth' });
    const res = await request(appWith(env.gate.requireAuth())).get('/r').set('Authorization', `Bearer ${token}`);
    expect(res.body.wallet).toMatchObject({
      address: WALLET.toLowerCase(),
      displayAddress: 'ens.eth',
      chain: 'ethereum',
      token,
    });
    expect(res.body.wallet.claims.walletAddress).toBe(WALLET);
  });

  test('keeps a Solana address exactly as issued', async () => {
    const wallet = await walletOf({ walletAddress: SOLANA_WALLET, chain: 'solana', sub: `solana:${SOLANA_WALLET}` });
    expect(wallet.address).toBe(SOLANA_WALLET);
    expect(wallet.chain).toBe('solana');
  });

  test('uses requestProperty instead of wallet when configured', async () => {
    const custom = createTokenGate({ ...env.issuer.options, requestProperty: 'picket' });
    const express = (await import('express')).default;
    const app = express();
    app.get('/r', custom.requireAuth(), (req, res) => {
      res.json({ picket: (req as unknown as { picket: { chain: string } }).picket.chain, wallet: req.wallet ?? null });
    });
    const res = await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.body).toEqual({ picket: 'ethereum', wallet: null });
  });

  test('claims are frozen so one handler cannot change what another request sees', async () => {
    const express = (await import('express')).default;
    const app = express();
    app.get('/r', env.gate.requireAuth(), (req, res) => {
      res.json({ frozen: Object.isFrozen(req.wallet!.claims) && Object.isFrozen(req.wallet!.claims.aud) });
    });
    const res = await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign({ aud: ['test-project'] })}`);
    expect(res.body.frozen).toBe(true);
  });
});

describe('naming quirks are normalised into claims', () => {
  test('exp comes from ext only when exp is absent', async () => {
    const ext = nowSeconds() + 900;
    expect((await walletOf({ exp: undefined, ext })).claims.exp).toBe(ext);
    const exp = nowSeconds() + 600;
    expect((await walletOf({ exp, ext })).claims.exp).toBe(exp);
  });

  test('tokenBalance comes from the legacy numTokens', async () => {
    const { claims } = await walletOf({ contractAddress: APES_CONTRACT, numTokens: '0.1337' });
    expect(claims.tokenBalance).toBe('0.1337');
    expect(claims.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '0.1337' } });
  });

  test('tokenBalance wins over numTokens when both are present', async () => {
    const { claims } = await walletOf({ contractAddress: APES_CONTRACT, numTokens: '1', tokenBalance: '2' });
    expect(claims.tokenBalance).toBe('2');
  });

  test.each([
    ['ethereum:', `ethereum:${WALLET}`, 'ethereum'],
    ['ethereum/mainnet:', `ethereum/mainnet:${WALLET}`, 'ethereum'],
    ['polygon:', `polygon:${WALLET}`, 'polygon'],
  ])('chain comes from the sub prefix %s when the chain claim is absent', async (_p, sub, chain) => {
    expect((await walletOf({ chain: undefined, sub })).chain).toBe(chain);
  });

  test('a chain claim and a sub prefix naming different chains are refused', async () => {
    const token = await env.issuer.sign({ chain: 'polygon', sub: `ethereum:${WALLET}` });
    const res = await request(appWith(env.gate.requireAuth())).get('/r').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('claim_invalid');
  });

  test('an EVM wallet without chain or sub is on ethereum', async () => {
    expect((await walletOf({ chain: undefined, sub: undefined })).chain).toBe('ethereum');
  });

  test('tokenBalances are kept; the single-requirement tokenIds stay beside their contractAddress', async () => {
    const { claims } = await walletOf({
      contractAddress: APES_CONTRACT,
      tokenIds: ['7', '9'],
      tokenBalance: '2',
      tokenBalances: { collection: { apes: '2' } },
    });
    expect(claims.tokenBalances).toEqual({ collection: { apes: '2' }, contractAddress: { [APES_CONTRACT]: '2' } });
    expect(claims).toMatchObject({ contractAddress: APES_CONTRACT, tokenIds: ['7', '9'] });
  });

  test('the Picket documentation example token shape is understood', async () => {
    // Claims as in the issuer's reference: ext instead of exp, numTokens, sub with a network.
    const now = nowSeconds();
    const wallet = await walletOf({
      walletAddress: WALLET,
      contractAddress: APES_CONTRACT,
      numTokens: '0.1337',
      nbf: now,
      iat: now,
      exp: undefined,
      ext: now + 600,
      chain: undefined,
      sub: `ethereum/mainnet:${WALLET}`,
    });
    expect(wallet).toMatchObject({ chain: 'ethereum', address: WALLET.toLowerCase() });
    expect(wallet.claims).toMatchObject({ exp: now + 600, tokenBalance: '0.1337' });
  });
});
