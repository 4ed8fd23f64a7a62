/**
 * `sub`, chain and network: a `sub` that cannot be read is refused (it might name another wallet),
 * the network in `sub` is kept, and a testnet session never satisfies a mainnet requirement.
 */
import request from 'supertest';
import { RequirementsError } from '../../lib';
import { APES_CONTRACT, WALLET } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();

const OTHER = '0x0000000000000000000000000000000000000001';

async function answer(claims: Record<string, unknown>, middleware = env.gate.requireAuth()) {
  return request(appWith(middleware))
    .get('/r')
    .set('Authorization', `Bearer ${await env.issuer.sign(claims)}`);
}

function expectClaimInvalid(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.body.reason).toBe('claim_invalid');
}

describe('a sub that cannot be read is refused, never skipped', () => {
  test.each([
    ['a capitalised chain naming another wallet', `Ethereum:${OTHER}`],
    ['a network path of two segments', `ethereum/main/net:${OTHER}`],
    ['a network path of two segments naming the wallet', `ethereum/main/net:${WALLET}`],
    ['a bare address', WALLET],
    ['an unknown CAIP-10 namespace', `cosmos:cosmoshub-4:${WALLET}`],
    ['an unknown eip155 chain id', `eip155:999999999:${WALLET}`],
    ['a DID', `did:pkh:eip155:1:${WALLET}`],
    ['an empty address', 'ethereum:'],
    ['white space', `ethereum: ${WALLET}`],
  ])('%s', async (_name, sub) => {
    expectClaimInvalid(await answer({ sub, chain: undefined }));
  });

  test('a capitalised chain naming the wallet itself reads as that chain', async () => {
    const res = await answer({ sub: `Ethereum:${WALLET}`, chain: undefined });
    expect(res.status).toBe(200);
    expect(res.body.wallet).toMatchObject({ chain: 'ethereum', network: 'mainnet' });
  });

  test('CAIP-10 eip155:1 is Ethereum mainnet, and still must name the wallet', async () => {
    const res = await answer({ sub: `eip155:1:${WALLET}`, chain: undefined });
    expect(res.status).toBe(200);
    expect(res.body.wallet).toMatchObject({ chain: 'ethereum', network: 'mainnet' });
    expectClaimInvalid(await answer({ sub: `eip155:1:${OTHER}`, chain: undefined }));
    expect((await answer({ sub: `eip155:11155111:${WALLET}`, chain: undefined })).body.wallet).toMatchObject({
      chain: 'ethereum',
      network: 'sepolia',
    });
  });

  test('a chain claim must agree with sub', async () => {
    expectClaimInvalid(await answer({ chain: 'polygon', sub: `ethereum:${WALLET}` }));
    expectClaimInvalid(await answer({ chain: 'ethereum', sub: `eip155:137:${WALLET}` }));
  });
});

describe('the network is kept: req.wallet.network', () => {
  test('mainnet by default', async () => {
    expect((await answer({})).body.wallet.network).toBe('mainnet');
    expect((await answer({ sub: undefined })).body.wallet.network).toBe('mainnet');
  });

  test('from sub’s chain/network prefix, with claims.network beside it', async () => {
    const res = await answer({ chain: undefined, sub: `ethereum/goerli:${WALLET}` });
    expect(res.body.wallet).toMatchObject({ chain: 'ethereum', network: 'goerli', claims: { network: 'goerli' } });
    expect((await answer({ chain: undefined, sub: `ethereum/mainnet:${WALLET}` })).body.wallet.network).toBe('mainnet');
  });

  test('a network claim that disagrees with sub is refused', async () => {
    expectClaimInvalid(await answer({ sub: `ethereum/goerli:${WALLET}`, network: 'mainnet' }));
  });
});

describe('a testnet session never satisfies a mainnet requirement', () => {
  const proven = { tokenBalances: { contractAddress: { [APES_CONTRACT]: '5' } } };

  test('a goerli token proving the contract is refused on the mainnet route with chain_mismatch', async () => {
    const res = await answer(
      { ...proven, sub: `ethereum/goerli:${WALLET}` },
      env.gate.requireTokens(APES_CONTRACT, '1'),
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      reason: 'chain_mismatch',
      requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, minTokenBalance: '1' },
    });
    expect(res.body.requirements.network).toBeUndefined();
  });

  test('a requirement naming a network passes its own network only, and says so in the 403', async () => {
    const goerliRoute = env.gate.requireTokens({ contractAddress: APES_CONTRACT, network: 'goerli' });
    expect((await answer({ ...proven, sub: `ethereum/goerli:${WALLET}` }, goerliRoute)).status).toBe(200);
    const res = await answer(proven, goerliRoute);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ reason: 'chain_mismatch', requirements: { network: 'goerli' } });
  });

  test('a bad network in a requirement fails at startup', () => {
    for (const network of ['Goerli', '', 7]) {
      expect(() => env.gate.requireTokens({ contractAddress: APES_CONTRACT, network } as never)).toThrow(
        RequirementsError,
      );
    }
  });
});

describe('claims that cannot be what they say', () => {
  test.each([
    ['too short', '0x1234'],
    ['not hex', `0x${'g'.repeat(40)}`],
    ['an ENS name', 'vitalik.eth'],
    ['a base58 address', 'DRpbCBMxVnDK7maPM5tGv6MvB3v1sRMC86PZ8okm21hy'],
  ])('an EVM walletAddress that is %s is claim_invalid', async (_name, walletAddress) => {
    expectClaimInvalid(await answer({ walletAddress, chain: 'ethereum', sub: undefined }));
  });

  test('chain names are lower-cased with ASCII rules only: the Kelvin sign is not k', async () => {
    expectClaimInvalid(await answer({ chain: '\u212Alaytn', sub: undefined, walletAddress: 'klaytn-wallet' }));
    expectClaimInvalid(await answer({ sub: `\u212Alaytn:${WALLET}`, chain: undefined }));
    const res = await answer({ chain: 'KLAYTN', sub: undefined, walletAddress: 'klaytn-wallet' });
    expect(res.body.wallet).toMatchObject({ chain: 'klaytn' });
  });
});
