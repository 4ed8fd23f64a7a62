/** normaliseClaims with the `wallet` option: what an answer of `wallet(claims)` becomes, or why it is refused. */
import { InvalidTokenError } from '../../lib';
import { normaliseClaims, type WalletOf } from '../../lib/token/claims';
import { WALLET } from '../helpers/fixtures';

const SOLANA = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';
const base = { iss: 'issuer.example', aud: 'app', exp: 2_000_000_000, iat: 1_900_000_000 };

describe('the wallet option maps claims to the wallet', () => {
  // [case, answer of wallet(), expected { walletAddress, chain, network }]
  const accepted: Array<[string, unknown, { walletAddress: string; chain: string; network: string }]> = [
    [
      'a chain name',
      { address: WALLET, chain: 'ethereum' },
      { walletAddress: WALLET, chain: 'ethereum', network: 'mainnet' },
    ],
    [
      'a chain name in capitals',
      { address: WALLET, chain: 'Polygon' },
      { walletAddress: WALLET, chain: 'polygon', network: 'mainnet' },
    ],
    [
      'a chain and a network',
      { address: WALLET, chain: 'ethereum', network: 'sepolia' },
      { walletAddress: WALLET, chain: 'ethereum', network: 'sepolia' },
    ],
    [
      'CAIP-2 eip155:1',
      { address: WALLET, chain: 'eip155:1' },
      { walletAddress: WALLET, chain: 'ethereum', network: 'mainnet' },
    ],
    [
      'CAIP-2 eip155:137',
      { address: WALLET, chain: 'eip155:137' },
      { walletAddress: WALLET, chain: 'polygon', network: 'mainnet' },
    ],
    [
      'CAIP-2 eip155:5 (Goerli)',
      { address: WALLET, chain: 'eip155:5' },
      { walletAddress: WALLET, chain: 'ethereum', network: 'goerli' },
    ],
    [
      'CAIP-2 with the network it implies',
      { address: WALLET, chain: 'eip155:5', network: 'goerli' },
      { walletAddress: WALLET, chain: 'ethereum', network: 'goerli' },
    ],
    ['Solana', { address: SOLANA, chain: 'solana' }, { walletAddress: SOLANA, chain: 'solana', network: 'mainnet' }],
    [
      'a chain the gate has no rules for',
      { address: 'tz1abc', chain: 'tezos' },
      { walletAddress: 'tz1abc', chain: 'tezos', network: 'mainnet' },
    ],
  ];
  test.each(accepted)('%s', (_case, answer, expected) => {
    const claims = normaliseClaims({ ...base }, () => answer as ReturnType<WalletOf>);
    expect({
      walletAddress: claims.walletAddress,
      displayAddress: claims.displayAddress,
      chain: claims.chain,
      network: claims.network,
    }).toEqual({
      ...expected,
      displayAddress: expected.walletAddress,
    });
  });

  // [case, wallet(), description]
  const refused: Array<[string, WalletOf, RegExp]> = [
    ['nothing', () => undefined, /^The token names no wallet the wallet option could read$/],
    ['null', () => null, /^The token names no wallet the wallet option could read$/],
    [
      'a throw',
      () => {
        throw new TypeError("Cannot read properties of undefined (reading '0')");
      },
      /^The wallet option could not read a wallet from the token$/,
    ],
    ['a Promise', () => Promise.resolve({ address: WALLET, chain: 'ethereum' }) as never, /answered with a Promise/],
    ['a string', () => WALLET as never, /something other than \{ address, chain \}/],
    ['a list', () => [WALLET, 'ethereum'] as never, /something other than \{ address, chain \}/],
    ['no chain', () => ({ address: WALLET }) as never, /^The wallet's chain is not a string$/],
    ['an empty chain', () => ({ address: WALLET, chain: '' }), /^The wallet's chain is not a string$/],
    ['bare eip155', () => ({ address: WALLET, chain: 'eip155' }), /chain eip155 names no single chain/],
    [
      'an unknown CAIP-2 id',
      () => ({ address: WALLET, chain: 'eip155:999999' }),
      /chain eip155:999999 is not a chain the gate knows/,
    ],
    [
      'a chain that is no name',
      () => ({ address: WALLET, chain: 'ether eum' }),
      /^The wallet's chain is not a chain name$/,
    ],
    [
      'a network that is no name',
      () => ({ address: WALLET, chain: 'ethereum', network: 5 }) as never,
      /^The wallet's network is not a network name$/,
    ],
    [
      'a network the CAIP-2 id contradicts',
      () => ({ address: WALLET, chain: 'eip155:1', network: 'goerli' }),
      /network goerli and its chain eip155:1 disagree/,
    ],
    ['no address', () => ({ chain: 'ethereum' }) as never, /^The wallet's address must be a non-empty string$/],
    [
      'a short EVM address',
      () => ({ address: '0x1234', chain: 'ethereum' }),
      /^The wallet's address is not a 0x-prefixed 40-digit hex address \(chain ethereum\)$/,
    ],
    [
      'a Solana address on Ethereum',
      () => ({ address: SOLANA, chain: 'eip155:1' }),
      /not a 0x-prefixed 40-digit hex address/,
    ],
    [
      'an EVM address on Solana',
      () => ({ address: WALLET, chain: 'solana' }),
      /^The wallet's address is not a base58 Solana address$/,
    ],
  ];
  test.each(refused)('refuses %s with 401 claim_invalid', (_case, wallet, description) => {
    let error: unknown;
    try {
      normaliseClaims({ ...base }, wallet);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ status: 401, reason: 'claim_invalid', message: expect.stringMatching(description) });
  });
});

describe("with the wallet option, Picket's claims are not read", () => {
  const ethereum: WalletOf = () => ({ address: WALLET, chain: 'ethereum' });

  test('no walletAddress is needed, and a sub in any form is kept as it is', () => {
    const claims = normaliseClaims({ ...base, sub: 'd8f0c2a4-user-id' }, ethereum);
    expect([claims.sub, claims.walletAddress]).toEqual(['d8f0c2a4-user-id', WALLET]);
  });

  test("the token's own walletAddress, chain and network are replaced by the wallet's", () => {
    const claims = normaliseClaims(
      { ...base, walletAddress: '0x2222222222222222222222222222222222222222', chain: 'eip155', network: 'other' },
      ethereum,
    );
    expect([claims.walletAddress, claims.chain, claims.network]).toEqual([WALLET, 'ethereum', 'mainnet']);
  });

  test("ownership claims are dropped: they prove nothing in another service's token", () => {
    const claims = normaliseClaims(
      {
        ...base,
        contractAddress: '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d',
        tokenBalance: '5',
        numTokens: '5',
        tokenIds: ['1'],
        tokenBalances: { contractAddress: { '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d': '5' } },
      },
      ethereum,
    );
    for (const name of ['contractAddress', 'tokenBalance', 'numTokens', 'tokenIds', 'tokenBalances'])
      expect(claims).not.toHaveProperty(name);
  });

  test('the registered claims are still checked (a string exp is claim_invalid)', () => {
    expect(() => normaliseClaims({ ...base, exp: '2000000000' }, ethereum)).toThrow(
      /The exp claim is not a finite number/,
    );
  });

  test('wallet receives the claims, with unknown claims as they were', () => {
    const seen: unknown[] = [];
    normaliseClaims({ ...base, verified_credentials: [{ address: WALLET }] }, (claims) => {
      seen.push(claims.verified_credentials);
      return { address: WALLET, chain: 'ethereum' };
    });
    expect(seen).toEqual([[{ address: WALLET }]]);
  });

  test('without the option, a token without walletAddress is still refused', () => {
    expect(() => normaliseClaims({ ...base })).toThrow(/The token has no walletAddress claim/);
  });
});
