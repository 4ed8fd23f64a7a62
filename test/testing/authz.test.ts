import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { authErrorHandler, createTokenGate } from '../../lib';
import { AuthzError, TEST_SOLANA_WALLET, TEST_WALLET, createTestIssuer, type TestIssuer } from '../../lib/testing';
import {
  APES_CONTRACT,
  AUDIENCE,
  OTHER_AUDIENCE,
  OTHER_WALLET,
  PUNKS_CONTRACT,
  PUNKS_CONTRACT_CHECKSUMMED,
  STRANGER_WALLET,
} from '../helpers/fixtures';

let issuer: TestIssuer;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  issuer.setBalances(TEST_WALLET, {
    [APES_CONTRACT]: '3',
    [PUNKS_CONTRACT_CHECKSUMMED]: '1',
    [`${APES_CONTRACT}:42`]: '1',
    'creator-x': '0',
  });
  const gate = createTokenGate(issuer.options);
  app = express();
  app.get('/apes', gate.requireTokens({ contractAddress: APES_CONTRACT }), (_req, res) => res.end('apes'));
  app.get('/apes/post', gate.requireTokens({ contractAddress: APES_CONTRACT, minTokenBalance: '2' }), (_req, res) =>
    res.end('post'),
  );
  app.get('/punks', gate.requireTokens({ contractAddress: PUNKS_CONTRACT }), (_req, res) => res.end('punks'));
  app.get('/ape-42', gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: ['42'] }), (_req, res) =>
    res.end('42'),
  );
  app.get('/punk-5', gate.requireTokens({ contractAddress: PUNKS_CONTRACT, tokenIds: ['5'] }), (_req, res) =>
    res.end('5'),
  );
  app.get('/punks/two', gate.requireTokens({ contractAddress: PUNKS_CONTRACT, minTokenBalance: '2' }), (_req, res) =>
    res.end('two'),
  );
  app.use(authErrorHandler());
});
afterAll(() => issuer.close());

const status = async (path: string, token: string) =>
  (await request(app).get(path).set('Authorization', `Bearer ${token}`)).status;

function postAuthz(body: unknown, contentType = 'application/json') {
  return fetch(issuer.authzUrl, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('POST /authz upgrades a token the balance table backs', () => {
  test('answers 200 with the new accessToken and its decoded claims', async () => {
    const login = await issuer.sign();
    const response = await postAuthz({ accessToken: login, requirements: { contractAddress: APES_CONTRACT } });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.decodedAccessToken).toEqual(decodeJwt(body.accessToken));
    expect(body.decodedAccessToken.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '3' } });
  });

  test('the new token passes the gate the old one failed', async () => {
    const login = await issuer.sign();
    expect(await status('/apes', login)).toBe(403);
    expect(await status('/apes', await issuer.authorize(login, { contractAddress: APES_CONTRACT }))).toBe(200);
  });

  test('keeps the wallet, audience and session expiry; gets a new tid', async () => {
    const login = await issuer.sign({}, { expiresIn: 3600 });
    const before = decodeJwt(login);
    const after = decodeJwt(await issuer.authorize(login, { contractAddress: APES_CONTRACT }));
    expect(after).toMatchObject({ walletAddress: TEST_WALLET, sub: before.sub, aud: AUDIENCE, exp: before.exp });
    expect(after.tid).not.toBe(before.tid);
  });

  test('is incremental: earlier proofs stay in the upgraded token', async () => {
    const apes = await issuer.authorize(await issuer.sign(), { contractAddress: APES_CONTRACT });
    const both = await issuer.authorize(apes, { contractAddress: PUNKS_CONTRACT });
    expect(await status('/apes', both)).toBe(200);
    expect(await status('/punks', both)).toBe(200);
  });

  test('compares EVM addresses case-insensitively, in the table and in wallets', async () => {
    issuer.setBalances(OTHER_WALLET.toUpperCase().replace('0X', '0x'), { [PUNKS_CONTRACT]: '5' });
    const token = await issuer.authorize(await issuer.sign({ walletAddress: OTHER_WALLET }), {
      contractAddress: PUNKS_CONTRACT,
    });
    expect(await status('/punks', token)).toBe(200);
  });

  test('proves single token ids listed as "<contract>:<id>"', async () => {
    const login = await issuer.sign();
    expect(await status('/ape-42', login)).toBe(403);
    expect(
      await status('/ape-42', await issuer.authorize(login, { contractAddress: APES_CONTRACT, tokenIds: ['42'] })),
    ).toBe(200);
  });
});

/**
 * The table keys a token id as `<contract>:<id>`, apart from the contract's own balance. An upgrade
 * for the id proves it the issuer's way (contractAddress + tokenIds + tokenBalance), and the gate
 * reads that tokenBalance as a balance of the contract; an upgrade for the contract alone asks the
 * table for the contract's own entry, which a wallet holding only the id does not have.
 */
describe('POST /authz for a wallet that holds only a token id of a contract', () => {
  const ID_HOLDER = '0x5555555555555555555555555555555555555555';
  let login: string;
  beforeAll(async () => {
    // Spelt checksummed in the table, lower case in the requirement: the contract part is an address.
    issuer.setBalances(ID_HOLDER, { [`${PUNKS_CONTRACT_CHECKSUMMED}:5`]: '1' });
    login = await issuer.sign({ walletAddress: ID_HOLDER });
  });

  test('the upgrade for that id proves it in contractAddress, tokenIds and tokenBalance', async () => {
    const token = await issuer.authorize(login, { contractAddress: PUNKS_CONTRACT, tokenIds: ['5'] });
    expect(decodeJwt(token)).toMatchObject({ contractAddress: PUNKS_CONTRACT, tokenIds: ['5'], tokenBalance: '1' });
  });

  test('the upgraded token passes a route requiring the contract and that id', async () => {
    expect(await status('/punk-5', login)).toBe(403);
    expect(
      await status('/punk-5', await issuer.authorize(login, { contractAddress: PUNKS_CONTRACT, tokenIds: ['5'] })),
    ).toBe(200);
  });

  test('it passes a route requiring the contract without ids too (the id is one token of it), but not two of it', async () => {
    const token = await issuer.authorize(login, { contractAddress: PUNKS_CONTRACT, tokenIds: ['5'] });
    expect(await status('/punks', token)).toBe(200);
    expect(await status('/punks/two', token)).toBe(403);
  });

  test('an upgrade for the contract without ids, or for another id, is refused: the table holds neither', async () => {
    await expect(issuer.authorize(login, { contractAddress: PUNKS_CONTRACT })).rejects.toMatchObject({ status: 403 });
    await expect(issuer.authorize(login, { contractAddress: PUNKS_CONTRACT, tokenIds: ['6'] })).rejects.toMatchObject({
      status: 403,
    });
  });
});

describe('POST /authz refuses', () => {
  test('403 with the requirements when the wallet holds too little', async () => {
    const response = await postAuthz({
      accessToken: await issuer.sign(),
      requirements: { contractAddress: PUNKS_CONTRACT, minTokenBalance: '2' },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      code: 'insufficient_balance',
      msg: expect.any(String),
      error: 'insufficient_scope',
      error_description: expect.any(String),
      reason: 'insufficient_balance',
      requirements: { chain: 'ethereum', contractAddress: PUNKS_CONTRACT, minTokenBalance: '2' },
    });
  });

  test('403 when the table says nothing about the wallet, or a zero balance', async () => {
    const stranger = await issuer.sign({ walletAddress: STRANGER_WALLET });
    expect((await postAuthz({ accessToken: stranger, requirements: { contractAddress: APES_CONTRACT } })).status).toBe(
      403,
    );
    expect(
      (
        await postAuthz({
          accessToken: await issuer.sign(),
          requirements: { creatorAddress: 'creator-x', chain: 'flow' },
        })
      ).status,
    ).toBe(403);
  });

  test('403 for tokens ids the wallet does not hold', async () => {
    expect(
      (
        await postAuthz({
          accessToken: await issuer.sign(),
          requirements: { contractAddress: APES_CONTRACT, tokenIds: ['43'] },
        })
      ).status,
    ).toBe(403);
  });

  test('401 for a token it did not sign, an expired one or none', async () => {
    for (const [accessToken, reason] of [
      [await issuer.sign({}, { unpublishedKey: true }), 'key_not_found'],
      [await issuer.sign({}, { expiresIn: -60 }), 'token_expired'],
      [await issuer.sign({ aud: OTHER_AUDIENCE }), 'audience_mismatch'],
      [undefined, 'token_malformed'],
    ]) {
      const response = await postAuthz({ accessToken, requirements: { contractAddress: APES_CONTRACT } });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'invalid_token', reason });
    }
  });

  test('400 for requirements it cannot read, or a body that is not JSON', async () => {
    const token = await issuer.sign();
    for (const requirements of [
      undefined,
      null,
      { contractAddress: 'not-an-address' },
      { minTokenBalance: '-1', contractAddress: APES_CONTRACT },
    ]) {
      const response = await postAuthz({ accessToken: token, requirements });
      expect(response.status).toBe(400);
      expect((await response.json()).error).toBe('invalid_request');
    }
    expect((await postAuthz('accessToken=x')).status).toBe(400);
    // A form is no JSON body: 415, whatever it holds.
    expect((await postAuthz('accessToken=x', 'application/x-www-form-urlencoded')).status).toBe(415);
  });
});

describe('POST /authz with requirements {} (nothing new to prove)', () => {
  test('answers the token as it is', async () => {
    const token = await issuer.sign();
    const response = await postAuthz({ accessToken: token, requirements: {} });
    expect(response.status).toBe(200);
    expect((await response.json()).accessToken).toBe(token);
  });
});

describe('authorize() client', () => {
  test('rejects with an AuthzError carrying the status and body', async () => {
    const refusal = await issuer
      .authorize(await issuer.sign(), { contractAddress: PUNKS_CONTRACT, minTokenBalance: '2' })
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(AuthzError);
    expect(refusal).toMatchObject({ status: 403, body: { reason: 'insufficient_balance' } });
  });
});

describe('setBalances()', () => {
  test('replaces what a wallet holds', async () => {
    const wallet = '0x4444444444444444444444444444444444444444';
    const token = await issuer.sign({ walletAddress: wallet });
    issuer.setBalances(wallet, { [APES_CONTRACT]: '1' });
    await issuer.authorize(token, { contractAddress: APES_CONTRACT });
    issuer.setBalances(wallet, { [PUNKS_CONTRACT]: '1' });
    await expect(issuer.authorize(token, { contractAddress: APES_CONTRACT })).rejects.toMatchObject({ status: 403 });
  });

  test('refuses balances that are not decimal strings', () => {
    expect(() => issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: 3 as never })).toThrow('decimal string');
    expect(() => issuer.setBalances(TEST_WALLET, { [APES_CONTRACT]: '1e3' })).toThrow('decimal string');
  });

  const SHORT = APES_CONTRACT.slice(0, 41);
  const HEX = 'is not a 0x-prefixed 40-digit hex address (chain ethereum)';
  test.each<[string, string, Record<string, unknown>, string | undefined]>([
    [
      'a wallet in checksum case, contracts, a token id and a collection',
      TEST_WALLET,
      { [PUNKS_CONTRACT_CHECKSUMMED]: '1', [`${APES_CONTRACT}:42`]: '1', 'bored-ape-yacht-club': '2' },
      undefined,
    ],
    ['no holdings', TEST_WALLET, {}, undefined],
    ['a wallet one digit short', SHORT, {}, `setBalances: wallet "${SHORT}" ${HEX}`],
    ['a wallet that is a name', 'alice.eth', {}, `setBalances: wallet "alice.eth" ${HEX}`],
    ['an empty wallet', '', {}, 'setBalances: wallet "" must be a non-empty string'],
    [
      'a contract one digit short',
      TEST_WALLET,
      { [SHORT]: '1' },
      `setBalances: item "${SHORT}" of wallet "${TEST_WALLET}" ${HEX}`,
    ],
    [
      'a token id of a malformed contract',
      TEST_WALLET,
      { [`${SHORT}:7`]: '1' },
      `setBalances: item "${SHORT}:7" of wallet "${TEST_WALLET}" names a contract that ${HEX}`,
    ],
    [
      'an empty item',
      TEST_WALLET,
      { '': '1' },
      `setBalances: item "" of wallet "${TEST_WALLET}" must be 1 to 256 characters`,
    ],
    [
      'a balance that is a number',
      TEST_WALLET,
      { [APES_CONTRACT]: 3 },
      `setBalances: the balance of ${APES_CONTRACT} held by wallet "${TEST_WALLET}" must be a decimal string such as "3"`,
    ],
    [
      'holdings that are a list',
      TEST_WALLET,
      [APES_CONTRACT] as never,
      `setBalances: what wallet "${TEST_WALLET}" holds must be an object such as { "0x…": "3" }`,
    ],
  ])('%s', (_name, wallet, held, refusal) => {
    const set = () => issuer.setBalances(wallet, held as Record<string, string>);
    if (refusal === undefined) expect(set).not.toThrow();
    else expect(set).toThrow(new TypeError(refusal));
  });

  test('on Solana every item is a base58 address', async () => {
    const solana = await createTestIssuer({ audience: AUDIENCE, chain: 'solana' });
    try {
      expect(() => solana.setBalances(TEST_SOLANA_WALLET, { [TEST_SOLANA_WALLET]: '1' })).not.toThrow();
      expect(() => solana.setBalances(TEST_WALLET, {})).toThrow(
        new TypeError(`setBalances: wallet "${TEST_WALLET}" is not a base58 Solana address`),
      );
      expect(() => solana.setBalances(TEST_SOLANA_WALLET, { 'mint-0': '1' })).toThrow(
        new TypeError(`setBalances: item "mint-0" of wallet "${TEST_SOLANA_WALLET}" is not a base58 Solana address`),
      );
    } finally {
      await solana.close();
    }
  });
});

/**
 * With `revalidate: true` the balance table is asked again about every proof the token carries,
 * not only about the requirement: ids of a contract, contract balances, collections, creators.
 * A proof the table no longer backs is dropped; a requirement that then fails is a 403.
 */
describe('POST /authz with revalidate re-proves what the token carries', () => {
  const SELLER = '0x6666666666666666666666666666666666666666';
  const id7 = { contractAddress: PUNKS_CONTRACT, tokenIds: ['7'] };

  async function holderOf7() {
    issuer.setBalances(SELLER, { [`${PUNKS_CONTRACT}:7`]: '1', [APES_CONTRACT]: '2' });
    const token = await issuer.authorize(await issuer.sign({ walletAddress: SELLER }), id7);
    expect(decodeJwt(token)).toMatchObject({ contractAddress: PUNKS_CONTRACT, tokenIds: ['7'], tokenBalance: '1' });
    return token;
  }

  test('hold id 7, sell it: the same requirement with revalidate is a 403 naming it', async () => {
    const token = await holderOf7();
    issuer.setBalances(SELLER, { [APES_CONTRACT]: '2' });
    const response = await postAuthz({ accessToken: token, requirements: id7, revalidate: true });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      reason: 'insufficient_balance',
      requirements: { chain: 'ethereum', contractAddress: PUNKS_CONTRACT, tokenIds: ['7'] },
    });
  });

  test('hold id 7, sell it: another requirement with revalidate answers a token without id 7', async () => {
    const token = await holderOf7();
    issuer.setBalances(SELLER, { [APES_CONTRACT]: '2' });
    const response = await postAuthz({
      accessToken: token,
      requirements: { contractAddress: APES_CONTRACT },
      revalidate: true,
    });
    expect(response.status).toBe(200);
    const claims = decodeJwt((await response.json()).accessToken);
    expect(claims.tokenIds).toBeUndefined();
    expect(claims.tokenBalance).toBeUndefined();
    expect(claims.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '2' } });
  });

  test('hold ids 7 and 8, sell 7: revalidating id 8 keeps 8 only, its balance from the table', async () => {
    issuer.setBalances(SELLER, { [`${PUNKS_CONTRACT}:7`]: '1', [`${PUNKS_CONTRACT}:8`]: '1' });
    const both = await issuer.authorize(await issuer.authorize(await issuer.sign({ walletAddress: SELLER }), id7), {
      contractAddress: PUNKS_CONTRACT,
      tokenIds: ['8'],
    });
    expect(decodeJwt(both)).toMatchObject({ tokenIds: ['7', '8'], tokenBalance: '2' });
    issuer.setBalances(SELLER, { [`${PUNKS_CONTRACT}:8`]: '1' });
    const response = await postAuthz({
      accessToken: both,
      requirements: { contractAddress: PUNKS_CONTRACT, tokenIds: ['8'] },
      revalidate: true,
    });
    expect(response.status).toBe(200);
    expect(decodeJwt((await response.json()).accessToken)).toMatchObject({ tokenIds: ['8'], tokenBalance: '1' });
  });

  test('requirements {} with revalidate: every carried balance is re-read, a sold one dropped', async () => {
    const wallet = '0x6767676767676767676767676767676767676767';
    issuer.setBalances(wallet, { [APES_CONTRACT]: '3', [PUNKS_CONTRACT]: '1' });
    const token = await issuer.authorize(
      await issuer.authorize(await issuer.sign({ walletAddress: wallet }), { contractAddress: APES_CONTRACT }),
      { contractAddress: PUNKS_CONTRACT },
    );
    issuer.setBalances(wallet, { [APES_CONTRACT]: '1' });
    const response = await postAuthz({ accessToken: token, requirements: {}, revalidate: true });
    expect(response.status).toBe(200);
    expect(decodeJwt((await response.json()).accessToken).tokenBalances).toEqual({
      contractAddress: { [APES_CONTRACT]: '1' },
    });
  });

  test('without revalidate, a token that proves the requirement is answered as it is (no table lookup)', async () => {
    const token = await holderOf7();
    issuer.setBalances(SELLER, {});
    const response = await postAuthz({ accessToken: token, requirements: id7 });
    expect(response.status).toBe(200);
    expect((await response.json()).accessToken).toBe(token);
  });
});
