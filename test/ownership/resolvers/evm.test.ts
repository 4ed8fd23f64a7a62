/**
 * evmOwnershipResolver against a real local chain (ganache on 127.0.0.1) with real ERC-20, ERC-721
 * and ERC-1155 contracts compiled from test/fixtures/contracts and deployed by the test.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address } from 'viem';
import {
  createTokenGate,
  evmOwnershipResolver,
  OptionsError,
  UnsupportedRequirementError,
  type OwnershipQuery,
} from '../../../lib';
import { createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { appWith } from '../../helpers/harness';
import { get, sleep } from '../../helpers/live';
import { compileContracts, startChain, type Compiled, type LocalChain } from '../../helpers/chain';
import { describeOwnershipResolver } from './port-suite';
import { AUDIENCE, STRANGER_WALLET } from '../../helpers/fixtures';

let chain: LocalChain;
let contracts: Record<string, Compiled>;
let deployer: Address;
let holder: Address;
let other: Address;
const deployed = {} as Record<'token20' | 'noDecimals' | 'nft' | 'multi', Address>;

beforeAll(async () => {
  contracts = compileContracts();
  chain = await startChain();
  [deployer, holder, other] = chain.accounts as [Address, Address, Address];
  const { Token20, NoDecimals20, Nft721, Multi1155 } = contracts as Record<string, Compiled>;
  deployed.token20 = await chain.deploy(Token20!, [10_000_000n]);
  await chain.send(deployer, deployed.token20, Token20!, 'transfer', [holder, 1_500_000n]); // 1.5 tokens
  deployed.noDecimals = await chain.deploy(NoDecimals20!, [42n]);
  deployed.nft = await chain.deploy(Nft721!);
  for (const [to, id] of [
    [holder, 7n],
    [holder, 8n],
    [other, 9n],
  ] as const)
    await chain.send(deployer, deployed.nft, Nft721!, 'mint', [to, id]);
  deployed.multi = await chain.deploy(Multi1155!);
  for (const [to, id, n] of [
    [holder, 1n, 5n],
    [holder, 2n, 3n],
    [other, 1n, 1n],
  ] as const) {
    await chain.send(deployer, deployed.multi, Multi1155!, 'mint', [to, id, n]);
  }
}, 60_000);
afterAll(() => chain?.close());

function query(
  walletAddress: string,
  requirements: Partial<OwnershipQuery['requirements']>,
  onChain = 'ethereum',
): OwnershipQuery {
  return {
    chain: onChain,
    walletAddress,
    requirements: { chain: onChain, minTokenBalance: '0', ...requirements },
    signal: new AbortController().signal,
  };
}
const balanceOf = async (walletAddress: string, requirements: Partial<OwnershipQuery['requirements']>) =>
  (await evmOwnershipResolver({ rpcUrl: chain.rpcUrl }).resolve(query(walletAddress, requirements))).balance;

describe('how evmOwnershipResolver reads each kind of contract', () => {
  test('ERC-20: balanceOf divided by 10 ** decimals(), so balances count whole tokens', async () => {
    expect(await balanceOf(holder, { contractAddress: deployed.token20 })).toBe('1.5');
    expect(await balanceOf(deployer, { contractAddress: deployed.token20 })).toBe('8.5');
  });

  test('a contract whose decimals() reverts has none: its balance counts whole units', async () => {
    expect(await balanceOf(deployer, { contractAddress: deployed.noDecimals })).toBe('42');
  });

  test('ERC-721 without tokenIds: balanceOf counts the NFTs held', async () => {
    expect(await balanceOf(holder, { contractAddress: deployed.nft })).toBe('2');
    expect(await balanceOf(other, { contractAddress: deployed.nft })).toBe('1');
  });

  test('ERC-721 with tokenIds: each listed id the wallet owns counts one; an id never minted counts none', async () => {
    expect(await balanceOf(holder, { contractAddress: deployed.nft, tokenIds: ['7', '9', '999'] })).toBe('1');
    expect(await balanceOf(other, { contractAddress: deployed.nft, tokenIds: ['7', '8'] })).toBe('0');
  });

  test('ERC-1155 (told apart by ERC-165): balanceOf(wallet, id) summed over tokenIds', async () => {
    expect(await balanceOf(holder, { contractAddress: deployed.multi, tokenIds: ['1', '2'] })).toBe('8');
    expect(await balanceOf(other, { contractAddress: deployed.multi, tokenIds: ['1', '2', '3'] })).toBe('1');
  });

  test('an address without a contract is a failure, not a zero balance', async () => {
    await expect(balanceOf(holder, { contractAddress: '0x000000000000000000000000000000000000dEaD' })).rejects.toThrow(
      /eth_call on ethereum failed/,
    );
  });

  test('a chain it has no rpcUrl for, or a requirement without a contract, is a failure', async () => {
    const resolver = evmOwnershipResolver({ rpcUrl: chain.rpcUrl });
    await expect(resolver.resolve(query(holder, { contractAddress: deployed.nft }, 'polygon'))).rejects.toBeInstanceOf(
      UnsupportedRequirementError,
    );
    await expect(resolver.resolve(query(holder, { creatorAddress: deployed.nft }))).rejects.toBeInstanceOf(
      UnsupportedRequirementError,
    );
    const polygonOnly = evmOwnershipResolver({ rpcUrl: { polygon: chain.rpcUrl } });
    await expect(polygonOnly.resolve(query(holder, { contractAddress: deployed.nft }, 'polygon'))).resolves.toEqual({
      balance: '2',
    });
  });
});

describe('only a revert means "absent": an RPC error never defaults decimals to 0', () => {
  // A node that answers balanceOf with 10^18 units (1 token of an 18-decimal ERC-20) and fails
  // decimals() with the given JSON-RPC error. Read as "no decimals", 10^18 units would pass as
  // 10^18 whole tokens.
  let node: Server;
  let decimalsError = { code: -32005, message: 'rate limited' };
  beforeAll(async () => {
    node = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        const answer = (call: { id: number; params: [{ data: string }] }) =>
          call.params[0].data.startsWith('0x313ce567')
            ? { jsonrpc: '2.0', id: call.id, error: decimalsError }
            : { jsonrpc: '2.0', id: call.id, result: `0x${(10n ** 18n).toString(16).padStart(64, '0')}` };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body as never)));
      });
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => node.close(() => resolve())));
  const ask = () =>
    evmOwnershipResolver({ rpcUrl: `http://127.0.0.1:${(node.address() as AddressInfo).port}` }).resolve(
      query(holder, { contractAddress: '0x1111111111111111111111111111111111111111', minTokenBalance: '1000' }),
    );

  test('a rate-limited decimals() call is a failure, not a huge balance', async () => {
    decimalsError = { code: -32005, message: 'rate limited' };
    await expect(ask()).rejects.toThrow(/eth_call on ethereum failed/);
  });

  test('a reverted decimals() call means none (the same node, answering a revert)', async () => {
    decimalsError = { code: 3, message: 'execution reverted' };
    await expect(ask()).resolves.toEqual({ balance: (10n ** 18n).toString() });
  });
});

describe('JSON-RPC batching', () => {
  let proxy: Server;
  const bodies: unknown[] = [];
  beforeAll(async () => {
    // Forwards to the chain and records each HTTP request's JSON-RPC payload.
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        bodies.push(JSON.parse(body.toString('utf8')));
        const upstream = httpRequest(
          chain.rpcUrl,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
            answer.pipe(res);
          },
        );
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  test('the balance calls for several token ids travel in one HTTP request; the kind is asked once', async () => {
    const resolver = evmOwnershipResolver({ rpcUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    const ids = { contractAddress: deployed.multi, tokenIds: ['1', '2', '3'] };
    expect((await resolver.resolve(query(holder, ids))).balance).toBe('8');
    expect(bodies).toHaveLength(2); // supportsInterface, then the batch
    expect(bodies[1]).toEqual([expect.objectContaining({ method: 'eth_call' }), expect.anything(), expect.anything()]);
    expect((await resolver.resolve(query(holder, ids))).balance).toBe('8');
    expect(bodies).toHaveLength(3);
  });
});

describe('access follows the chain', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: AUDIENCE });
  });
  afterAll(() => issuer.close());

  test('transfer the NFT away and access disappears once maxAgeMs has passed; the new owner gets in', async () => {
    const gate = createTokenGate({
      ...issuer.options,
      revalidate: { resolver: evmOwnershipResolver({ rpcUrl: chain.rpcUrl }), maxAgeMs: 300 },
    });
    const seven = appWith(gate.requireTokens({ contractAddress: deployed.nft, tokenIds: ['7'] }));
    const anyNft = appWith(gate.requireTokens({ contractAddress: deployed.nft }));
    const holderLogin = await issuer.sign({ walletAddress: holder });
    const otherLogin = await issuer.sign({ walletAddress: other });

    await get(seven, holderLogin).expect(200);
    await get(anyNft, holderLogin).expect(200);
    await get(seven, otherLogin).expect(403);

    await chain.send(holder, deployed.nft, contracts.Nft721!, 'transferFrom', [holder, other, 7n]);
    await get(seven, holderLogin).expect(200); // the answer is still within maxAgeMs
    await sleep(350);
    const gone = await get(seven, holderLogin).expect(403);
    expect(gone.body).toMatchObject({
      reason: 'insufficient_balance',
      requirements: { contractAddress: deployed.nft, tokenIds: ['7'] },
    });
    await get(anyNft, holderLogin).expect(200); // still holds #8
    await get(seven, otherLogin).expect(200);
  });

  test('a token signed while the wallet held ERC-20s stops opening the route after it sells them', async () => {
    const gate = createTokenGate({
      ...issuer.options,
      revalidate: { resolver: evmOwnershipResolver({ rpcUrl: chain.rpcUrl }), maxAgeMs: 0 },
    });
    const app = appWith(gate.requireTokens({ contractAddress: deployed.token20, minTokenBalance: '1' }));
    const snapshot = await issuer.sign({
      walletAddress: holder,
      tokenBalances: { contractAddress: { [deployed.token20]: '1.5' } },
    });
    await get(app, snapshot).expect(200);
    await chain.send(holder, deployed.token20, contracts.Token20!, 'transfer', [other, 1_000_000n]);
    await get(app, snapshot).expect(403); // 0.5 left
  });
});

describe('evmOwnershipResolver options', () => {
  test('needs an http(s) rpcUrl, or a map of EVM chain to one', () => {
    expect(() => evmOwnershipResolver({} as never)).toThrow(
      new OptionsError('rpcUrl', 'is required: a URL, or { [chain]: URL }'),
    );
    expect(() => evmOwnershipResolver({ rpcUrl: 'ws://127.0.0.1:8545' })).toThrow(/"rpcUrl" must use http or https/);
    expect(() => evmOwnershipResolver({ rpcUrl: 'nope' })).toThrow(/"rpcUrl" is not a valid URL/);
    expect(() => evmOwnershipResolver({ rpcUrl: { solana: 'https://rpc.example' } })).toThrow(
      /"rpcUrl.solana" does not name an EVM chain/,
    );
    expect(() =>
      evmOwnershipResolver({ rpcUrl: { polygon: 'https://polygon.example', ethereum: 'https://eth.example' } }),
    ).not.toThrow();
  });

  test('refuses unknown options and out-of-range timeouts', () => {
    expect(() => evmOwnershipResolver({ rpcUrl: 'https://rpc.example', rpcURL: 'x' } as never)).toThrow(
      /"rpcURL" is not a known/,
    );
    expect(() => evmOwnershipResolver({ rpcUrl: 'https://rpc.example', timeoutMs: -1 })).toThrow(/"timeoutMs"/);
  });
});

describeOwnershipResolver('evmOwnershipResolver', () => ({
  resolver: evmOwnershipResolver({ rpcUrl: chain.rpcUrl }),
  contractAddress: deployed.token20,
  holder: { wallet: deployer, balance: '8.5' }, // the deployer's tokens do not move in this file
  stranger: STRANGER_WALLET,
  unreachable: (port) => evmOwnershipResolver({ rpcUrl: `http://127.0.0.1:${port}` }),
}));
