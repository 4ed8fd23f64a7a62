/**
 * Token ids are bound to their contract. Most collections have a token #1, so an id proven for
 * one contract must never count for another: an EVM token id proves ownership only where the token
 * says which contract it belongs to.
 */
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { authErrorHandler, createTokenGate } from '../../lib';
import { TEST_SOLANA_WALLET, TEST_WALLET, createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT, APES_CONTRACT_CHECKSUMMED, AUDIENCE, PUNKS_CONTRACT } from '../helpers/fixtures';

const MINT = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
const OTHER_MINT = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';

let issuer: TestIssuer;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  issuer.setBalances(TEST_WALLET, {
    [APES_CONTRACT]: '2',
    [`${PUNKS_CONTRACT}:1`]: '1',
    [`${APES_CONTRACT}:7`]: '1',
    [`${APES_CONTRACT}:8`]: '1',
  });
  const gate = createTokenGate(issuer.options);
  app = express();
  const ok = (_req: unknown, res: express.Response) => res.end('ok');
  app.get('/a-1', gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: ['1'] }), ok);
  app.get('/a-7', gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: ['7'] }), ok);
  app.get(
    '/a-7-or-8',
    gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: ['7', '8'], minTokenBalance: '2' }),
    ok,
  );
  app.get('/b-1', gate.requireTokens({ contractAddress: PUNKS_CONTRACT, tokenIds: ['1'] }), ok);
  app.get('/a', gate.requireTokens({ contractAddress: APES_CONTRACT }), ok);
  app.get('/b', gate.requireTokens({ contractAddress: PUNKS_CONTRACT }), ok);
  app.use(authErrorHandler());
});
afterAll(() => issuer.close());

const get = (path: string, token: string) => request(app).get(path).set('Authorization', `Bearer ${token}`);

describe('an EVM token id proven for one contract never counts for another', () => {
  test('tokenBalances naming two contracts and id 1 do not prove apes #1', async () => {
    const token = await issuer.sign({
      tokenBalances: { contractAddress: { [PUNKS_CONTRACT]: '1', [APES_CONTRACT]: '0' }, tokenIds: { 1: '1' } },
    });
    const res = await get('/a-1', token);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      reason: 'insufficient_balance',
      requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, tokenIds: ['1'] },
    });
  });

  test('the issuer’s single-requirement claims bind ids to their contract: punks #1 proves punks #1, not apes #1', async () => {
    const token = await issuer.sign({
      contractAddress: PUNKS_CONTRACT,
      tokenIds: ['1'],
      tokenBalance: '1',
      tokenBalances: { contractAddress: { [APES_CONTRACT]: '5' } },
    });
    expect((await get('/b-1', token)).status).toBe(200);
    expect((await get('/a-1', token)).status).toBe(403);
  });

  test('ids in tokenBalances count for the one contract a token names, in any spelling', async () => {
    const token = await issuer.sign({
      tokenBalances: { contractAddress: { [APES_CONTRACT_CHECKSUMMED]: '1' }, tokenIds: { 1: '1' } },
    });
    expect((await get('/a-1', token)).status).toBe(200);
  });

  test('ids in tokenBalances are ambiguous once the token also names a collection or a creator', async () => {
    for (const other of [{ collection: { apes: '1' } }, { creatorAddress: { [PUNKS_CONTRACT]: '1' } }]) {
      const token = await issuer.sign({
        tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' }, tokenIds: { 1: '1' }, ...other },
      });
      expect((await get('/a-1', token)).status).toBe(403);
    }
  });

  test('ids alone, with no contract at all, prove nothing', async () => {
    expect((await get('/a-1', await issuer.sign({ tokenBalances: { tokenIds: { 1: '1' } } }))).status).toBe(403);
    expect((await get('/a-1', await issuer.sign({ tokenIds: ['1'] }))).status).toBe(403);
  });

  test('the bound ids count one each, and only the required ones', async () => {
    const both = await issuer.sign({ contractAddress: APES_CONTRACT, tokenIds: ['7', '8'], tokenBalance: '2' });
    expect((await get('/a-7-or-8', both)).status).toBe(200);
    const oneRequired = await issuer.sign({ contractAddress: APES_CONTRACT, tokenIds: ['7', '9'], tokenBalance: '2' });
    expect((await get('/a-7-or-8', oneRequired)).status).toBe(403);
  });
});

describe('the test kit’s /authz binds the ids it proves to their contract', () => {
  test('proving punks #1 and then any apes does not open the apes #1 route', async () => {
    const b1 = await issuer.authorize(await issuer.sign(), { contractAddress: PUNKS_CONTRACT, tokenIds: ['1'] });
    expect((await get('/b-1', b1)).status).toBe(200);
    const thenA = await issuer.authorize(b1, { contractAddress: APES_CONTRACT });
    expect((await get('/a', thenA)).status).toBe(200);
    expect((await get('/a-1', thenA)).status).toBe(403);
    expect((await get('/b-1', thenA)).status).toBe(200);
  });

  test('the upgraded token carries the issuer’s binding claims: contractAddress, tokenIds, tokenBalance', async () => {
    const token = await issuer.authorize(await issuer.sign(), { contractAddress: APES_CONTRACT, tokenIds: ['7', '8'] });
    expect(decodeJwt(token)).toMatchObject({ contractAddress: APES_CONTRACT, tokenIds: ['7', '8'], tokenBalance: '2' });
    expect((await get('/a-7', token)).status).toBe(200);
    expect((await get('/a', token)).status).toBe(200);
  });

  test('it refuses apes #1 for a wallet that holds punks #1 and some apes, but not apes #1', async () => {
    const both = await issuer.authorize(
      await issuer.authorize(await issuer.sign(), { contractAddress: PUNKS_CONTRACT, tokenIds: ['1'] }),
      { contractAddress: APES_CONTRACT },
    );
    await expect(issuer.authorize(both, { contractAddress: APES_CONTRACT, tokenIds: ['1'] })).rejects.toMatchObject({
      status: 403,
    });
  });
});

describe('Solana token ids are mint addresses and need no contract', () => {
  let solana: TestIssuer;
  let solApp: express.Express;
  beforeAll(async () => {
    solana = await createTestIssuer({ audience: AUDIENCE, chain: 'solana' });
    const gate = createTokenGate(solana.options);
    solApp = express();
    solApp.get('/mint', gate.requireTokens({ chain: 'solana', tokenIds: [MINT] }), (_req, res) => res.end('ok'));
    solApp.use(authErrorHandler());
  });
  afterAll(() => solana.close());

  test('a proven mint passes; another mint, or the mint in another case, does not', async () => {
    const status = async (tokenIds: Record<string, string>) =>
      (
        await request(solApp)
          .get('/mint')
          .set('Authorization', `Bearer ${await solana.sign({ tokenBalances: { tokenIds } })}`)
      ).status;
    expect(await status({ [MINT]: '1' })).toBe(200);
    expect(await status({ [OTHER_MINT]: '1' })).toBe(403);
    expect(await status({ [MINT.toLowerCase()]: '1' })).toBe(403);
  });

  test('the kit proves a mint from its balance table', async () => {
    solana.setBalances(TEST_SOLANA_WALLET, { [MINT]: '1' });
    const token = await solana.authorize(await solana.sign(), { chain: 'solana', tokenIds: [MINT] });
    expect((await request(solApp).get('/mint').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });
});
