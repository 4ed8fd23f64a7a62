/**
 * Ownership claims: balances are strict decimal strings (never numbers, exponents, hex, signs or
 * padding), token ids are bounded strings, EVM addresses compare case-insensitively and base58
 * (Solana) addresses exactly, and a balance proven on one chain never counts on another.
 */
import { createTokenGate, RequirementsError } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT, APES_CONTRACT_CHECKSUMMED, AUDIENCE, WALLET } from '../helpers/fixtures';
import { createHarness, expectNoLeak, expectRejected, type Harness } from '../helpers/harness';

const SOL_WALLET = 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy';
const SOL_COLLECTION = 'J1S9H3QjnRtBbbuD4HjPV6RpRhwuk4zKbxsnCHuTgh9w';
/** Flips the case of the first letter: still valid base58, a different Solana address. */
const flipFirst = (address: string) =>
  (address[0] === address[0]!.toUpperCase() ? address[0]!.toLowerCase() : address[0]!.toUpperCase()) + address.slice(1);

let issuer: TestIssuer;
let harness: Harness;

beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  harness = await createHarness(issuer.options, (app, gate) => {
    const ok = (_req: unknown, res: { json(body: unknown): void }) => res.json({ ok: true });
    app.get('/ape', gate.requireTokens(APES_CONTRACT, '1'), ok);
    app.get('/ape-any', gate.requireTokens(APES_CONTRACT), ok);
    app.get('/ape-checksummed', gate.requireTokens(APES_CONTRACT_CHECKSUMMED, '1'), ok);
    app.get('/ape-ids', gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: ['7', '8'] }), ok);
    app.get('/wallet', gate.requireTokens({ allowedWallets: [WALLET.toLowerCase()] }), ok);
    app.get('/sol', gate.requireTokens({ chain: 'solana', collection: SOL_COLLECTION }), ok);
    app.get('/sol-wallet', gate.requireTokens({ chain: 'solana', allowedWallets: [SOL_WALLET] }), ok);
  });
});
afterAll(async () => {
  await harness.close();
  await issuer.close();
});

const apeBalance = (balance: unknown) => ({ tokenBalances: { contractAddress: { [APES_CONTRACT]: balance } } });
const solanaToken = (claims: Record<string, unknown> = {}) =>
  issuer.sign({ chain: 'solana', walletAddress: SOL_WALLET, ...claims });

describe('balances are strict decimal strings', () => {
  const malformed: Array<[string, unknown]> = [
    ['a leading space', ' 1'],
    ['a trailing space', '1 '],
    ['an exponent', '1e3'],
    ['an upper-case exponent', '1E3'],
    ['hex', '0x10'],
    ['a minus sign', '-1'],
    ['a plus sign', '+1'],
    ['negative zero', '-0'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['a leading zero', '01'],
    ['a bare fraction', '.5'],
    ['a trailing dot', '1.'],
    ['a thousands separator', '1,000'],
    ['an underscore separator', '1_000'],
    ['Arabic-Indic digits', '\u0661'],
    ['full-width digits', '\uff11'],
    ['an empty string', ''],
    ['79 integer digits (beyond uint256)', `1${'0'.repeat(78)}`],
    ['79 fractional digits', `0.${'1'.repeat(79)}`],
    ['a number', 1],
    ['a float', 1.5],
    ['true', true],
    ['null', null],
    ['a list', ['1']],
    ['an object', { value: '1' }],
  ];

  test.each(malformed)('rejects a tokenBalances balance with %s', async (_name, balance) => {
    const token = await issuer.sign(apeBalance(balance));
    expectRejected(await harness.get('/ape', token), 401, 'claim_invalid', token);
  });

  test.each(malformed)('rejects a legacy tokenBalance with %s', async (_name, balance) => {
    const token = await issuer.sign({ contractAddress: APES_CONTRACT, tokenBalance: balance });
    expectRejected(await harness.get('/ape', token), 401, 'claim_invalid', token);
  });

  test.each(malformed.filter(([, b]) => typeof b === 'string'))(
    'rejects a legacy numTokens with %s',
    async (_name, balance) => {
      const token = await issuer.sign({ contractAddress: APES_CONTRACT, numTokens: balance });
      expectRejected(await harness.get('/ape', token), 401, 'claim_invalid', token);
    },
  );

  test('rejects a 10,000-digit balance (by size, before parsing)', async () => {
    const token = await issuer.sign(apeBalance('9'.repeat(10_000)));
    expectRejected(await harness.get('/ape', token), 401, 'token_too_large', token);
  });

  test('rejects an unknown balance kind without echoing any claim text', async () => {
    const marker = 'ExfiltrateThisText';
    const token = await issuer.sign({ tokenBalances: { [marker]: { [APES_CONTRACT]: '1' } } });
    const res = await harness.get('/ape', token);
    expectRejected(res, 401, 'claim_invalid', token);
    expectNoLeak(res, token, marker.slice(0, 8));
  });

  test('rejects a malformed balance on a route that does not look at balances', async () => {
    const token = await issuer.sign(apeBalance('1e3'));
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });

  test.each([
    ['1', '/ape', 200],
    ['1.000000000000000000', '/ape', 200],
    [`${'9'.repeat(78)}.${'9'.repeat(78)}`, '/ape', 200],
    ['0.999999999999999999999999', '/ape', 403],
    ['0.5', '/ape-any', 200],
    ['0', '/ape-any', 403],
    ['0.0', '/ape-any', 403],
  ])('balance %s at %s answers %i', async (balance, route, status) => {
    const res = await harness.get(route, await issuer.sign(apeBalance(balance)));
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.body.reason).toBe('insufficient_balance');
      expect(res.body.requirements).toMatchObject({ chain: 'ethereum', contractAddress: APES_CONTRACT });
    }
  });
});

describe('token ids are bounded lists of strings', () => {
  test.each([
    ['numbers', [7]],
    ['a string', '7'],
    ['an object', { 7: '1' }],
    ['null entries', [null]],
    ['nested lists', [['7']]],
    ['an empty string', ['']],
    ['a 257-character id', ['7'.repeat(257)]],
    ['1,001 entries (over the cap of 1,000)', Array.from({ length: 1001 }, () => '1')],
  ])('rejects tokenIds holding %s', async (_name, tokenIds) => {
    const token = await issuer.sign({ contractAddress: APES_CONTRACT, tokenBalance: '1', tokenIds });
    const res = await harness.get('/ape-ids', token);
    expectRejected(res, 401, 'claim_invalid', token);
  });

  test('rejects a tokenBalances.tokenIds balance that is a number', async () => {
    const token = await issuer.sign({
      tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' }, tokenIds: { 7: 1 } },
    });
    expectRejected(await harness.get('/ape-ids', token), 401, 'claim_invalid', token);
  });

  test('a huge but well-typed id that is not required proves nothing', async () => {
    const res = await harness.get(
      '/ape-ids',
      await issuer.sign({ contractAddress: APES_CONTRACT, tokenBalance: '1', tokenIds: ['9'.repeat(200)] }),
    );
    expect(res.status).toBe(403);
  });

  test('a required id proves ownership', async () => {
    const res = await harness.get(
      '/ape-ids',
      await issuer.sign({ contractAddress: APES_CONTRACT, tokenBalance: '1', tokenIds: ['7'] }),
    );
    expect(res.status).toBe(200);
  });

  test('an id balance for another contract proves nothing', async () => {
    const other = '0x0000000000000000000000000000000000000bad';
    const res = await harness.get(
      '/ape-ids',
      await issuer.sign({ contractAddress: other, tokenBalance: '1', tokenIds: ['7'] }),
    );
    expect(res.status).toBe(403);
  });
});

describe('EVM addresses compare case-insensitively', () => {
  test.each([
    ['upper-case hex', `0x${APES_CONTRACT.slice(2).toUpperCase()}`],
    ['EIP-55 mixed case', APES_CONTRACT_CHECKSUMMED],
    ['lower case', APES_CONTRACT],
  ])('a balance keyed by the contract in %s passes', async (_name, key) => {
    const token = await issuer.sign({ tokenBalances: { contractAddress: { [key]: '1' } } });
    expect((await harness.get('/ape', token)).status).toBe(200);
    expect((await harness.get('/ape-checksummed', token)).status).toBe(200);
  });

  test.each([
    ['upper-case hex', `0x${WALLET.slice(2).toUpperCase()}`],
    ['lower case', WALLET.toLowerCase()],
    ['EIP-55 mixed case', WALLET],
  ])('an allowed wallet in %s passes, and req.wallet.address is lower case', async (_name, walletAddress) => {
    const res = await harness.get('/me', await issuer.sign({ walletAddress }));
    expect(res.body.address).toBe(WALLET.toLowerCase());
    expect((await harness.get('/wallet', await issuer.sign({ walletAddress }))).status).toBe(200);
  });

  test('a chain claim in another case names the same chain: req.wallet.address is still lower case', async () => {
    const res = await harness.get('/me', await issuer.sign({ chain: 'Ethereum', walletAddress: WALLET }));
    expect(res.status).toBe(200);
    expect({ address: res.body.address, chain: res.body.chain }).toEqual({
      address: WALLET.toLowerCase(),
      chain: 'ethereum',
    });
  });

  test.each([
    ['a space', 'ether eum'],
    ['a colon', 'ethereum:1'],
    ['an empty string', ''],
    ['a number', 1],
  ])('rejects a chain claim with %s', async (_name, chain) => {
    const token = await issuer.sign({ chain, sub: undefined });
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });

  test('a 0X prefix is not an EVM address: it proves nothing', async () => {
    const token = await issuer.sign({ tokenBalances: { contractAddress: { [`0X${APES_CONTRACT.slice(2)}`]: '5' } } });
    expect((await harness.get('/ape', token)).status).toBe(403);
  });
});

describe('Solana (base58) addresses compare exactly', () => {
  test('the exact collection passes', async () => {
    const res = await harness.get(
      '/sol',
      await solanaToken({ tokenBalances: { collection: { [SOL_COLLECTION]: '1' } } }),
    );
    expect(res.status).toBe(200);
  });

  test.each([
    ['the first letter case-flipped', flipFirst(SOL_COLLECTION)],
    ['all lower case', SOL_COLLECTION.toLowerCase()],
    ['all upper case', SOL_COLLECTION.toUpperCase()],
  ])('a collection with %s proves nothing', async (_name, key) => {
    const token = await solanaToken({ tokenBalances: { collection: { [key]: '100' } } });
    expectRejected(await harness.get('/sol', token), 403, 'insufficient_balance', token);
  });

  test('the exact wallet passes; a case variant is another wallet', async () => {
    expect((await harness.get('/sol-wallet', await solanaToken())).status).toBe(200);
    const token = await solanaToken({ walletAddress: flipFirst(SOL_WALLET) });
    expectRejected(await harness.get('/sol-wallet', token), 403, 'wallet_not_allowed', token);
  });
});

describe('a balance never counts on another chain or in another chain’s format', () => {
  test('a requirement mixing a chain with another chain’s address format fails at startup', () => {
    const gate = createTokenGate(issuer.options);
    expect(() => gate.requireTokens({ chain: 'solana', contractAddress: APES_CONTRACT })).toThrow(RequirementsError);
    expect(() => gate.requireTokens({ chain: 'ethereum', contractAddress: SOL_COLLECTION })).toThrow(RequirementsError);
    expect(() => gate.requireTokens(SOL_COLLECTION, '1')).toThrow(RequirementsError);
    expect(() => gate.requireTokens({ chain: 'solana', allowedWallets: [WALLET] })).toThrow(RequirementsError);
  });

  test('a Solana token proving the EVM contract address is refused on the EVM route', async () => {
    const token = await solanaToken(apeBalance('100'));
    expectRejected(await harness.get('/ape', token), 403, 'chain_mismatch', token);
  });

  test('a Polygon token proving the same 0x contract is refused on the Ethereum route', async () => {
    const token = await issuer.sign({ chain: 'polygon', ...apeBalance('100') });
    expectRejected(await harness.get('/ape', token), 403, 'chain_mismatch', token);
  });

  test('an Ethereum token proving a base58 key does not satisfy the Solana collection', async () => {
    const token = await issuer.sign({ tokenBalances: { collection: { [SOL_COLLECTION]: '100' } } });
    expectRejected(await harness.get('/sol', token), 403, 'chain_mismatch', token);
  });

  test('a Solana token keyed by the 0x contract in the wrong field proves nothing', async () => {
    const token = await solanaToken({ tokenBalances: { collection: { [APES_CONTRACT]: '100' } } });
    expectRejected(await harness.get('/sol', token), 403, 'insufficient_balance', token);
  });

  test('the chain in sub cannot disagree with the wallet', async () => {
    const token = await issuer.sign({ sub: `ethereum:0x${'1'.repeat(40)}` });
    expectRejected(await harness.get('/me', token), 401, 'claim_invalid', token);
  });
});
