import request from 'supertest';
import express from 'express';
import { createTokenGate, RequirementsError, type TokenGate, type TokenRequirements } from '../../lib';
import { APES_CONTRACT, APES_CONTRACT_CHECKSUMMED, STRANGER_WALLET, WALLET } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

const SOL_WALLET = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
const SOL_COLLECTION = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
const CREATOR = '0x1111111111111111111111111111111111111111';
const contractBalance = (balance: string, contract = APES_CONTRACT) => ({
  tokenBalances: { contractAddress: { [contract]: balance } },
});

async function statusFor(middleware: ReturnType<TokenGate['requireTokens']>, claims: Record<string, unknown>) {
  const res = await request(appWith(middleware))
    .get('/r')
    .set('Authorization', `Bearer ${await env.issuer.sign(claims)}`);
  return res;
}

describe('requireTokens(contractAddress, minBalance)', () => {
  test('passes a balance at the minimum and refuses one below it', async () => {
    const mw = env.gate.requireTokens(APES_CONTRACT, '2');
    expect((await statusFor(mw, contractBalance('2'))).status).toBe(200);
    expect((await statusFor(mw, contractBalance('10.5'))).status).toBe(200);
    const below = await statusFor(mw, contractBalance('1.999999999999999999'));
    expect(below.status).toBe(403);
    expect(below.body.reason).toBe('insufficient_balance');
  });

  test('minimum unset or 0 means a balance above 0', async () => {
    for (const mw of [
      env.gate.requireTokens(APES_CONTRACT),
      env.gate.requireTokens(APES_CONTRACT, '0'),
      env.gate.requireTokens(APES_CONTRACT, 0),
    ]) {
      expect((await statusFor(mw, contractBalance('0.000000000000000001'))).status).toBe(200);
      expect((await statusFor(mw, contractBalance('0'))).status).toBe(403);
      expect((await statusFor(mw, {})).status).toBe(403);
    }
  });

  test('compares balances exactly beyond 2^53', async () => {
    const mw = env.gate.requireTokens(APES_CONTRACT, '9007199254740993');
    expect((await statusFor(mw, contractBalance('9007199254740993'))).status).toBe(200);
    expect((await statusFor(mw, contractBalance('9007199254740992'))).status).toBe(403);
  });

  test('matches EVM contract addresses case-insensitively', async () => {
    const mw = env.gate.requireTokens(APES_CONTRACT.toUpperCase().replace('0X', '0x'), '1');
    expect((await statusFor(mw, contractBalance('1', APES_CONTRACT_CHECKSUMMED))).status).toBe(200);
  });

  test('reads the legacy contractAddress + numTokens claims', async () => {
    const mw = env.gate.requireTokens(APES_CONTRACT, '1');
    expect((await statusFor(mw, { contractAddress: APES_CONTRACT, numTokens: '1' })).status).toBe(200);
  });

  test('answers 403 insufficient_scope carrying the requirements for /authz', async () => {
    const res = await statusFor(env.gate.requireTokens(APES_CONTRACT, '3'), contractBalance('1'));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The token does not prove the required balance"',
    );
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'The token does not prove the required balance',
      reason: 'insufficient_balance',
      requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, minTokenBalance: '3' },
    });
  });

  test('answers 401 before 403 when there is no token', async () => {
    const res = await request(appWith(env.gate.requireTokens(APES_CONTRACT, '1'))).get('/r');
    expect(res.status).toBe(401);
  });
});

describe('requireTokens(requirements)', () => {
  test('sums the balances of every listed collection', async () => {
    const mw = env.gate.requireTokens({ chain: 'ethereum', collection: ['apes', 'mutants'], minTokenBalance: '3' });
    expect((await statusFor(mw, { tokenBalances: { collection: { apes: '1', mutants: '2' } } })).status).toBe(200);
    expect((await statusFor(mw, { tokenBalances: { collection: { apes: '1', others: '5' } } })).status).toBe(403);
  });

  test('sums contract, collection and creator balances together', async () => {
    const mw = env.gate.requireTokens({
      contractAddress: APES_CONTRACT,
      collection: 'apes',
      creatorAddress: CREATOR,
      minTokenBalance: 3,
    });
    const claims = {
      tokenBalances: {
        contractAddress: { [APES_CONTRACT]: '1' },
        collection: { apes: '1' },
        creatorAddress: { [CREATOR]: '1' },
      },
    };
    expect((await statusFor(mw, claims)).status).toBe(200);
  });

  test('creatorAddress alone gates on the creator balance', async () => {
    const mw = env.gate.requireTokens({ creatorAddress: CREATOR });
    expect((await statusFor(mw, { tokenBalances: { creatorAddress: { [CREATOR]: '2' } } })).status).toBe(200);
    expect((await statusFor(mw, contractBalance('2'))).status).toBe(403);
  });

  test('tokenIds count only the listed ids of the proven contract', async () => {
    const mw = env.gate.requireTokens({
      contractAddress: APES_CONTRACT,
      tokenIds: ['7', 9n, 11],
      minTokenBalance: '2',
    });
    expect((await statusFor(mw, { contractAddress: APES_CONTRACT, tokenIds: ['7', '9'] })).status).toBe(200);
    expect((await statusFor(mw, { contractAddress: APES_CONTRACT, tokenIds: ['7', '8'] })).status).toBe(403);
    const otherContract = '0x2222222222222222222222222222222222222222';
    expect((await statusFor(mw, { contractAddress: otherContract, tokenIds: ['7', '9'] })).status).toBe(403);
  });

  test('allowedWallets restricts the wallet, EVM case-insensitively', async () => {
    const mw = env.gate.requireTokens({ allowedWallets: ['0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8'] });
    expect((await statusFor(mw, {})).status).toBe(200);
    const other = await statusFor(mw, { walletAddress: STRANGER_WALLET, sub: undefined });
    expect(other.status).toBe(403);
    expect(other.body.reason).toBe('wallet_not_allowed');
  });

  test('allowedWallets and a balance must both hold', async () => {
    const mw = env.gate.requireTokens({ contractAddress: APES_CONTRACT, allowedWallets: [WALLET] });
    expect((await statusFor(mw, contractBalance('1'))).status).toBe(200);
    expect((await statusFor(mw, {})).status).toBe(403);
  });

  test('Solana collections and wallets compare exactly', async () => {
    const mw = env.gate.requireTokens({ chain: 'solana', collection: [SOL_COLLECTION], minTokenBalance: 1 });
    const solana = { walletAddress: SOL_WALLET, chain: 'solana', sub: `solana:${SOL_WALLET}` };
    expect((await statusFor(mw, { ...solana, tokenBalances: { collection: { [SOL_COLLECTION]: '1' } } })).status).toBe(
      200,
    );
    const lower = { ...solana, tokenBalances: { collection: { [SOL_COLLECTION.toLowerCase()]: '1' } } };
    expect((await statusFor(mw, lower)).status).toBe(403);
    const wallets = env.gate.requireTokens({ chain: 'solana', allowedWallets: [SOL_WALLET.toLowerCase()] });
    expect((await statusFor(wallets, solana)).status).toBe(403);
  });

  test('a wallet on another chain is refused with chain_mismatch', async () => {
    const mw = env.gate.requireTokens({ chain: 'solana', collection: [SOL_COLLECTION] });
    const res = await statusFor(mw, { tokenBalances: { collection: { [SOL_COLLECTION]: '5' } } });
    expect(res.status).toBe(403);
    expect(res.body.reason).toBe('chain_mismatch');
    expect(res.body.requirements).toEqual({ chain: 'solana', collection: [SOL_COLLECTION], minTokenBalance: '0' });
  });
});

describe('Solana tokenIds are mint addresses', () => {
  const MINT = 'HqSvNPsbcvPfDZAujDqDrVvbu3z9Zm9qBRrJSD9NXmMu';
  const solana = { walletAddress: SOL_WALLET, chain: 'solana', sub: `solana:${SOL_WALLET}` };
  const proving = (kind: string, key: string) => ({ ...solana, tokenBalances: { [kind]: { [key]: '1' } } });

  test('a token proving the mint passes, without any contractAddress', async () => {
    const mw = env.gate.requireTokens({ chain: 'solana', tokenIds: [MINT] });
    expect((await statusFor(mw, proving('tokenIds', MINT))).status).toBe(200);
  });

  test('the mint compares exactly: another case is another mint', async () => {
    const mw = env.gate.requireTokens({ chain: 'solana', tokenIds: [MINT] });
    const flipped = MINT[0]!.toLowerCase() + MINT.slice(1);
    expect((await statusFor(mw, proving('tokenIds', flipped))).status).toBe(403);
  });

  test('the same address proven as a collection or a creator is not the mint', async () => {
    const mw = env.gate.requireTokens({ chain: 'solana', tokenIds: [MINT] });
    expect((await statusFor(mw, proving('collection', MINT))).status).toBe(403);
    expect((await statusFor(mw, proving('creatorAddress', MINT))).status).toBe(403);
  });

  test('an EVM wallet proving the same id is refused with chain_mismatch', async () => {
    const mw = env.gate.requireTokens({ chain: 'solana', tokenIds: [MINT] });
    const res = await statusFor(mw, { tokenBalances: { tokenIds: { [MINT]: '1' } } });
    expect(res.status).toBe(403);
    expect(res.body.reason).toBe('chain_mismatch');
  });

  test('mints are summed against minTokenBalance', async () => {
    const OTHER_MINT = '9ARngHhVaCtH5JFieRdSS5Y8cdZk2TBF4tfGSWFB9iSK';
    const mw = env.gate.requireTokens({ chain: 'solana', tokenIds: [MINT, OTHER_MINT], minTokenBalance: 2 });
    expect(
      (await statusFor(mw, { ...solana, tokenBalances: { tokenIds: { [MINT]: '1', [OTHER_MINT]: '1' } } })).status,
    ).toBe(200);
    expect((await statusFor(mw, proving('tokenIds', MINT))).status).toBe(403);
  });
});

describe('requirements are validated when the middleware is created', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['nothing to check', {}, /need a contractAddress, collection, creatorAddress, tokenIds or allowedWallets/],
    ['unknown field', { contractAddress: APES_CONTRACT, minBalance: 1 }, /"minBalance" is not a known requirement/],
    ['short EVM address', { contractAddress: '0x1234' }, /"contractAddress" is not a 0x-prefixed 40-digit hex address/],
    [
      '39 hex digits, no chain',
      { contractAddress: APES_CONTRACT.slice(0, -1) },
      /"contractAddress" is not a 0x-prefixed 40-digit hex address/,
    ],
    [
      '41 hex digits, no chain',
      { creatorAddress: `${APES_CONTRACT}0` },
      /"creatorAddress" is not a 0x-prefixed 40-digit hex address/,
    ],
    ['malformed 0x wallet, no chain', { allowedWallets: ['0xabc'] }, /"allowedWallets\[0\]" is not a 0x-prefixed/],
    [
      'bad EVM address on ethereum',
      { chain: 'ethereum', contractAddress: '0x1234' },
      /"contractAddress" is not a 0x-prefixed/,
    ],
    [
      'EVM address on solana',
      { chain: 'solana', collection: [SOL_COLLECTION], allowedWallets: [APES_CONTRACT] },
      /"allowedWallets\[0\]" is not a base58/,
    ],
    ['non-hex address without chain', { contractAddress: SOL_COLLECTION }, /"chain" is required/],
    ['exponent minimum', { contractAddress: APES_CONTRACT, minTokenBalance: '1e3' }, /"minTokenBalance"/],
    ['negative minimum', { contractAddress: APES_CONTRACT, minTokenBalance: -1 }, /"minTokenBalance"/],
    ['NaN minimum', { contractAddress: APES_CONTRACT, minTokenBalance: Number.NaN }, /"minTokenBalance"/],
    ['hex minimum', { contractAddress: APES_CONTRACT, minTokenBalance: '0x10' }, /"minTokenBalance"/],
    ['padded minimum', { contractAddress: APES_CONTRACT, minTokenBalance: ' 1' }, /"minTokenBalance"/],
    [
      'tokenIds without contract',
      { chain: 'ethereum', collection: ['x'], tokenIds: ['1'] },
      /"tokenIds" needs a contractAddress/,
    ],
    ['negative tokenId', { contractAddress: APES_CONTRACT, tokenIds: [-1] }, /"tokenIds"/],
    ['Solana tokenId that is no mint address', { chain: 'solana', tokenIds: ['7'] }, /"tokenIds\[0\]" is not a base58/],
    ['empty collection list', { chain: 'ethereum', collection: [] }, /"collection"/],
    ['upper-case chain', { chain: 'Ethereum', contractAddress: APES_CONTRACT }, /"chain"/],
    ['not an object', 'x', /"chain" is required|"contractAddress"/],
  ];
  test.each(cases)('%s', (_name, requirements, message) => {
    const build = () =>
      typeof requirements === 'string'
        ? env.gate.requireTokens(requirements, '1')
        : env.gate.requireTokens(requirements as TokenRequirements);
    expect(build).toThrow(RequirementsError);
    expect(build).toThrow(message);
  });
});

describe('requireTokens after requireAuth', () => {
  test('reuses the verified claims instead of verifying again', async () => {
    let verifications = 0;
    const counting = createTokenGate({
      ...env.issuer.options,
      cache: false,
      isRevoked: () => ((verifications += 1), false),
    });
    const app = express();
    app.use(counting.requireAuth());
    app.get('/r', counting.requireTokens(APES_CONTRACT, '1'), (req, res) => res.json({ chain: req.wallet!.chain }));
    const res = await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign(contractBalance('1'))}`);
    expect(res.status).toBe(200);
    expect(verifications).toBe(1);
  });
});
