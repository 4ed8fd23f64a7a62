/**
 * The issuer's own Node client, @picketapi/picket-node 0.0.12, against the emulator: its
 * requests and the answers it reads (`AuthState`, the token payload, `{ code, msg }` errors).
 */
import Picket from '@picketapi/picket-node';
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createTokenGate } from '../../../lib';
import { TEST_SOLANA_WALLET, TEST_WALLET, createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { createSigningMessage } from './picket-js';
import { APES_CONTRACT, AUDIENCE, OTHER_AUDIENCE, PUNKS_CONTRACT } from '../../helpers/fixtures';

const SOL_COLLECTION = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
const SOL_CREATOR = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
const SOL_MINT = 'HqSvNPsbcvPfDZAujDqDrVvbu3z9Zm9qBRrJSD9NXmMu';

let issuer: TestIssuer;
let picket: Picket;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: '3', [`${APES_CONTRACT}:7`]: '1' });
  picket = new Picket('test-project-secret');
  picket.baseURL = issuer.apiUrl;
});
afterAll(() => issuer.close());

describe('picket.authz() answers AuthState { accessToken, user }', () => {
  test('the user carries the wallet and the balances the new token proves', async () => {
    const state = await picket.authz({
      accessToken: await issuer.sign(),
      requirements: { contractAddress: APES_CONTRACT },
    });
    expect(state.user).toEqual({
      chain: 'ethereum',
      walletAddress: TEST_WALLET,
      displayAddress: TEST_WALLET,
      tokenBalances: { contractAddress: { [APES_CONTRACT]: '3' } },
    });
    expect(decodeJwt(state.accessToken).tokenBalances).toEqual(state.user.tokenBalances);
  });

  test('a refusal rejects with { code, msg } and the requirements', async () => {
    await expect(
      picket.authz({ accessToken: await issuer.sign(), requirements: { contractAddress: PUNKS_CONTRACT } }),
    ).rejects.toEqual({
      code: 'insufficient_balance',
      msg: 'The token does not prove the required balance',
      error: 'insufficient_scope',
      error_description: 'The token does not prove the required balance',
      reason: 'insufficient_balance',
      requirements: { chain: 'ethereum', contractAddress: PUNKS_CONTRACT, minTokenBalance: '0' },
    });
  });

  test('an expired token rejects with code token_expired', async () => {
    await expect(
      picket.authz({
        accessToken: await issuer.sign({}, { expiresIn: -60 }),
        requirements: { contractAddress: APES_CONTRACT },
      }),
    ).rejects.toMatchObject({
      code: 'token_expired',
      msg: expect.any(String),
      error: 'invalid_token',
    });
  });
});

describe('revalidate', () => {
  test('without it, a token that already proves the requirement is answered as it is', async () => {
    const wallet = '0x5555555555555555555555555555555555555555';
    issuer.setBalances(wallet, { [APES_CONTRACT]: '1' });
    const proven = await issuer.authorize(await issuer.sign({ walletAddress: wallet }), {
      contractAddress: APES_CONTRACT,
    });
    issuer.setBalances(wallet, {});
    const state = await picket.authz({ accessToken: proven, requirements: { contractAddress: APES_CONTRACT } });
    expect(state.accessToken).toBe(proven);
  });

  test('with revalidate: true the balances are read again: a wallet that sold is refused', async () => {
    const wallet = '0x6666666666666666666666666666666666666666';
    issuer.setBalances(wallet, { [APES_CONTRACT]: '1' });
    const proven = await issuer.authorize(await issuer.sign({ walletAddress: wallet }), {
      contractAddress: APES_CONTRACT,
    });
    issuer.setBalances(wallet, {});
    await expect(
      picket.authz({ accessToken: proven, requirements: { contractAddress: APES_CONTRACT }, revalidate: true }),
    ).rejects.toMatchObject({
      code: 'insufficient_balance',
    });
  });

  test('with revalidate: true a wallet that still holds gets a freshly signed token', async () => {
    const proven = await issuer.authorize(await issuer.sign(), { contractAddress: APES_CONTRACT });
    const state = await picket.authz({
      accessToken: proven,
      requirements: { contractAddress: APES_CONTRACT },
      revalidate: true,
    });
    expect(state.accessToken).not.toBe(proven);
    expect(state.user.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '3' } });
  });
});

describe("requirements without chain take the token's chain", () => {
  test('a polygon wallet upgrades for a polygon contract named without chain', async () => {
    const state = await picket.authz({
      accessToken: await issuer.sign({ chain: 'polygon' }),
      requirements: { contractAddress: APES_CONTRACT },
    });
    expect(state.user).toMatchObject({
      chain: 'polygon',
      tokenBalances: { contractAddress: { [APES_CONTRACT]: '3' } },
    });
    const gate = createTokenGate(issuer.options);
    const app = express().get(
      '/poly',
      gate.requireTokens({ chain: 'polygon', contractAddress: APES_CONTRACT }),
      (_req, res) => res.end('ok'),
    );
    app.use(authErrorHandler());
    await request(app).get('/poly').set('Authorization', `Bearer ${state.accessToken}`).expect(200);
  });
});

describe('Solana requirements', () => {
  let solana: TestIssuer;
  let client: Picket;
  beforeAll(async () => {
    solana = await createTestIssuer({ audience: AUDIENCE, chain: 'solana' });
    solana.setBalances(TEST_SOLANA_WALLET, { [SOL_COLLECTION]: '2', [SOL_CREATOR]: '1', [SOL_MINT]: '1' });
    client = new Picket('test-project-secret');
    client.baseURL = solana.url;
  });
  afterAll(() => solana.close());

  test.each([
    ['collection', { collection: SOL_COLLECTION }, 'collection', SOL_COLLECTION, '2'],
    ['creatorAddress', { creatorAddress: SOL_CREATOR }, 'creatorAddress', SOL_CREATOR, '1'],
    ['tokenIds as mint addresses', { tokenIds: [SOL_MINT] }, 'tokenIds', SOL_MINT, '1'],
  ])('%s, without chain, is proven from the table', async (_name, requirements, kind, key, balance) => {
    const state = await client.authz({ accessToken: await solana.sign(), requirements });
    expect(state.user).toMatchObject({ chain: 'solana', tokenBalances: { [kind]: { [key]: balance } } });
  });

  test('a mint the wallet does not hold is refused', async () => {
    await expect(
      client.authz({
        accessToken: await solana.sign(),
        requirements: { tokenIds: ['9ARngHhVaCtH5JFieRdSS5Y8cdZk2TBF4tfGSWFB9iSK'] },
      }),
    ).rejects.toMatchObject({
      code: 'insufficient_balance',
    });
  });

  test('the upgraded token opens a route gated on the mint', async () => {
    const { accessToken } = await client.authz({
      accessToken: await solana.sign(),
      requirements: { tokenIds: [SOL_MINT] },
    });
    const gate = createTokenGate(solana.options);
    const app = express().get('/nft', gate.requireTokens({ chain: 'solana', tokenIds: [SOL_MINT] }), (_req, res) =>
      res.end('ok'),
    );
    await request(app).get('/nft').set('Authorization', `Bearer ${accessToken}`).expect(200);
  });
});

describe('picket.validate()', () => {
  test('answers the payload of a token the issuer signed', async () => {
    const token = await issuer.sign();
    expect(await picket.validate(token)).toEqual(decodeJwt(token));
  });

  test('checks requirements against what the token proves', async () => {
    const proven = await issuer.authorize(await issuer.sign(), { contractAddress: APES_CONTRACT });
    await expect(
      picket.validate(proven, { contractAddress: APES_CONTRACT, minTokenBalance: 3 }),
    ).resolves.toMatchObject({ walletAddress: TEST_WALLET });
    await expect(picket.validate(proven, { contractAddress: APES_CONTRACT, minTokenBalance: 4 })).rejects.toMatchObject(
      { code: 'insufficient_balance' },
    );
  });

  test('rejects forged, expired and foreign tokens with their reason', async () => {
    for (const [token, code] of [
      [await issuer.sign({}, { unpublishedKey: true }), 'key_not_found'],
      [await issuer.sign({}, { expiresIn: -60 }), 'token_expired'],
      [await issuer.sign({ aud: OTHER_AUDIENCE }), 'audience_mismatch'],
      ['not-a-token', 'token_malformed'],
    ]) {
      await expect(picket.validate(token!)).rejects.toMatchObject({
        code,
        msg: expect.any(String),
        error: 'invalid_token',
      });
    }
  });
});

describe('picket.tokenOwnership()', () => {
  test('answers { allowed, walletAddress, tokenBalance } from the table', async () => {
    expect(await picket.tokenOwnership({ walletAddress: TEST_WALLET, contractAddress: APES_CONTRACT })).toEqual({
      allowed: true,
      walletAddress: TEST_WALLET,
      tokenBalance: '3',
    });
    expect(
      await picket.tokenOwnership({ walletAddress: TEST_WALLET, contractAddress: APES_CONTRACT, minTokenBalance: 4 }),
    ).toEqual({
      allowed: false,
      walletAddress: TEST_WALLET,
      tokenBalance: '3',
    });
    expect(await picket.tokenOwnership({ walletAddress: TEST_WALLET, contractAddress: PUNKS_CONTRACT })).toMatchObject({
      allowed: false,
      tokenBalance: '0',
    });
  });

  test('counts only the listed token ids of the contract', async () => {
    expect(
      await picket.tokenOwnership({ walletAddress: TEST_WALLET, contractAddress: APES_CONTRACT, tokenIds: ['7', '8'] }),
    ).toMatchObject({ allowed: true, tokenBalance: '1' });
    expect(
      await picket.tokenOwnership({ walletAddress: TEST_WALLET, contractAddress: APES_CONTRACT, tokenIds: ['8'] }),
    ).toMatchObject({ allowed: false, tokenBalance: '0' });
  });

  test('a wallet that is not an address of the chain is a 400 with { code, msg }', async () => {
    await expect(
      picket.tokenOwnership({ walletAddress: 'nobody', contractAddress: APES_CONTRACT }),
    ).rejects.toMatchObject({ code: 'request_invalid', msg: expect.any(String) });
  });
});

describe('picket.nonce() and picket.auth()', () => {
  test('log a wallet in with a SIWE context, at the root and under /api/v1', async () => {
    for (const baseURL of [issuer.url, issuer.apiUrl]) {
      const client = new Picket('test-project-secret');
      client.baseURL = baseURL;
      const account = privateKeyToAccount(generatePrivateKey());
      const { nonce, statement, format } = await client.nonce({ chain: 'ethereum', walletAddress: account.address });
      const context = {
        domain: '127.0.0.1:3000',
        uri: 'http://127.0.0.1:3000',
        chainId: 1,
        issuedAt: new Date().toISOString(),
        chainType: 'ethereum' as const,
      };
      const message = createSigningMessage({ format, nonce, statement, walletAddress: account.address, ...context });
      const state = await client.auth({
        chain: 'ethereum',
        walletAddress: account.address,
        signature: await account.signMessage({ message }),
        context,
      });
      expect(state.user.walletAddress).toBe(account.address);
    }
  });
});
