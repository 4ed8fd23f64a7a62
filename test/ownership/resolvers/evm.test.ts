/**
 * evmOwnershipResolver against a real local chain (ganache on 127.0.0.1, answering chain id 1 as
 * ethereum mainnet does) with real ERC-20, ERC-721 and ERC-1155 contracts compiled from
 * test/fixtures/contracts and deployed by the test, and against JSON-RPC servers on loopback that
 * answer what a lagging or hostile node would.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address } from 'viem';
import { ProxyAgent } from 'undici';
import {
  createTokenGate,
  evmOwnershipResolver,
  OptionsError,
  ResolverError,
  UnsupportedRequirementError,
  type EvmOwnershipResolverOptions,
  type OwnershipQuery,
} from '../../../lib';
import { createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { appWith } from '../../helpers/harness';
import { get, sleep } from '../../helpers/live';
import { compileContracts, startChain, type Compiled, type LocalChain } from '../../helpers/chain';
import { describeOwnershipResolver } from './port-suite';
import { startForwardProxy } from '../../helpers/forward-proxy';
import type { FetchFunction } from '../../../lib/net/fetch';
import { AUDIENCE, STRANGER_WALLET } from '../../helpers/fixtures';

let chain: LocalChain;
let contracts: Record<string, Compiled>;
let deployer: Address;
let holder: Address;
let other: Address;
const deployed = {} as Record<'token20' | 'noDecimals' | 'nft' | 'multi', Address>;

beforeAll(async () => {
  contracts = compileContracts();
  chain = await startChain({ chainId: 1 });
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
  network?: string,
): OwnershipQuery {
  return {
    chain: onChain,
    walletAddress,
    requirements: { chain: onChain, ...(network && { network }), minTokenBalance: '0', ...requirements },
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
      /on ethereum\/mainnet/,
    );
    await expect(
      balanceOf(holder, { contractAddress: '0x000000000000000000000000000000000000dEaD', tokenIds: ['1'] }),
    ).rejects.toThrow(/no contract at 0x000000000000000000000000000000000000dead on ethereum\/mainnet/);
  });

  test('a requirement without a contract is a failure', async () => {
    const resolver = evmOwnershipResolver({ rpcUrl: chain.rpcUrl });
    await expect(resolver.resolve(query(holder, { creatorAddress: deployed.nft }))).rejects.toBeInstanceOf(
      UnsupportedRequirementError,
    );
  });
});

describe('a token asked about before it is deployed: no memory of the empty answer', () => {
  // 100 base units of a 6-decimals ERC-20 are 0.0001 tokens. Read with the empty answer of an
  // address without code as "no decimals", and that reading remembered, they passed a 100-token route.
  test('a 6-decimals ERC-20 asked before its deployment is a failure; once deployed it counts whole tokens', async () => {
    const deployer4 = chain.accounts[3]!;
    const resolver = evmOwnershipResolver({ rpcUrl: chain.rpcUrl });
    const token = await chain.nextContractAddress(deployer4);
    await expect(resolver.resolve(query(deployer4, { contractAddress: token }))).rejects.toBeInstanceOf(ResolverError);
    expect((await chain.deploy(contracts.Token20!, [100n], deployer4)).toLowerCase()).toBe(token.toLowerCase());
    await expect(resolver.resolve(query(deployer4, { contractAddress: token }))).resolves.toEqual({
      balance: '0.0001',
    });
  });

  test('through a gate: 100 base units never pass a 100-token route, before or after deployment', async () => {
    const issuer = await createTestIssuer({ audience: AUDIENCE });
    try {
      const wallet = chain.accounts[4]!;
      const token = await chain.nextContractAddress(wallet);
      const resolver = evmOwnershipResolver({ rpcUrl: chain.rpcUrl });
      // One resolver behind two gates: the second starts without the first one's failure back-off.
      const route = (options: { minTokenBalance: string }) =>
        appWith(
          createTokenGate({ ...issuer.options, revalidate: { resolver, maxAgeMs: 0 } }).requireTokens({
            contractAddress: token,
            ...options,
          }),
        );
      const login = await issuer.sign({ walletAddress: wallet });
      await get(route({ minTokenBalance: '100' }), login).expect(503);
      await chain.deploy(contracts.Token20!, [100n], wallet);
      await get(route({ minTokenBalance: '100' }), login).expect(403);
      await get(route({ minTokenBalance: '0.0001' }), login).expect(200);
    } finally {
      await issuer.close();
    }
  });
});

/** A uint256 as eth_call returns it. */
const word = (n: bigint) => `0x${n.toString(16).padStart(64, '0')}`;
const UNITS = 10n ** 18n;
const DECIMALS = '0x313ce567';
type RpcAnswer = { result: string } | { error: { code: number; message: string; data?: string } };
const REVERT: RpcAnswer = { error: { code: 3, message: 'execution reverted', data: '0x' } };
const SOME_CODE = '0x6080604052348015600f57600080fd5b50';

/**
 * A JSON-RPC node on loopback whose answers the test sets: `eth_chainId`, `eth_getCode` and
 * `decimals()`; every other `eth_call` (balanceOf) answers 10^18 units. `calls` lists each call
 * (the method, or the selector of an eth_call).
 */
function useScriptedNode() {
  const node = {
    url: '',
    chainId: { result: '0x1' } as RpcAnswer,
    code: SOME_CODE,
    decimals: { result: word(18n) } as RpcAnswer,
    calls: [] as string[],
  };
  let server: Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        const answer = (call: { id: number; method: string; params: [{ data?: string }] }) => {
          const what = call.method === 'eth_call' ? call.params[0].data!.slice(0, 10) : call.method;
          node.calls.push(what);
          const reply: RpcAnswer =
            what === 'eth_chainId'
              ? node.chainId
              : what === 'eth_getCode'
                ? { result: node.code }
                : what === DECIMALS
                  ? node.decimals
                  : { result: word(UNITS) };
          return { jsonrpc: '2.0', id: call.id, ...reply };
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.isArray(body) ? body.map(answer) : answer(body as never)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    node.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    Object.assign(node, { chainId: { result: '0x1' }, code: SOME_CODE, decimals: { result: word(18n) }, calls: [] });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return node;
}
const ERC20 = '0x1111111111111111111111111111111111111111';

describe('decimals(): only a revert from an address with code means "none"; an unknown answer is a failure', () => {
  // Read as "no decimals", the node's 10^18 units (1 token of an 18-decimal ERC-20) would pass as
  // 10^18 whole tokens.
  const node = useScriptedNode();
  const ask = (resolver = evmOwnershipResolver({ rpcUrl: node.url })) =>
    resolver.resolve(query(holder, { contractAddress: ERC20, minTokenBalance: '1000' }));

  test.each<[string, RpcAnswer, string, string | RegExp]>([
    ['answers 18', { result: word(18n) }, SOME_CODE, '1'],
    ['answers 6', { result: word(6n) }, SOME_CODE, '1000000000000'],
    ['reverts, at an address with code (a contract without decimals())', REVERT, SOME_CODE, UNITS.toString()],
    ['answers nothing (0x), at an address with code', { result: '0x' }, SOME_CODE, /answered nothing/],
    ['answers nothing (0x), at an address without code (not deployed yet)', { result: '0x' }, '0x', /answered nothing/],
    ['reverts, at an address without code', REVERT, '0x', /no contract at 0x1{40} on ethereum\/mainnet/],
    ['is rate limited', { error: { code: -32005, message: 'rate limited' } }, SOME_CODE, /eth_call on ethereum/],
  ])('decimals() %s', async (_what, decimals, code, expected) => {
    Object.assign(node, { decimals, code });
    if (typeof expected === 'string') await expect(ask()).resolves.toEqual({ balance: expected });
    else await expect(ask()).rejects.toThrow(expected);
  });

  test('a failed decimals() is not remembered: the next question asks again', async () => {
    const resolver = evmOwnershipResolver({ rpcUrl: node.url });
    node.decimals = { result: '0x' };
    await expect(ask(resolver)).rejects.toThrow(/answered nothing/);
    node.decimals = { error: { code: -32005, message: 'rate limited' } };
    await expect(ask(resolver)).rejects.toThrow(/eth_call on ethereum\/mainnet failed/);
    node.decimals = { result: word(18n) };
    await expect(ask(resolver)).resolves.toEqual({ balance: '1' });
  });

  test.each<[string, number | undefined, number, string]>([
    ['by default (1 hour), the first answer holds', undefined, 0, '1'],
    ['contractMaxAgeMs 60000: the first answer holds', 60_000, 0, '1'],
    ['contractMaxAgeMs 0: asked every time', 0, 0, '1000000000000'],
    ['contractMaxAgeMs 1, asked again after it: the new answer', 1, 20, '1000000000000'],
  ])('decimals() is remembered for contractMaxAgeMs, then asked again: %s', async (_what, maxAge, waitMs, after) => {
    const resolver = evmOwnershipResolver({ rpcUrl: node.url, contractMaxAgeMs: maxAge });
    await expect(ask(resolver)).resolves.toEqual({ balance: '1' });
    node.decimals = { result: word(6n) };
    if (waitMs > 0) await sleep(waitMs); // at least the age: waiting longer changes nothing
    await expect(ask(resolver)).resolves.toEqual({ balance: after });
  });
});

describe('each chain and network has its own node, checked by eth_chainId', () => {
  let devnet: LocalChain; // ganache as it starts by default: chain id 1337
  beforeAll(async () => {
    devnet = await startChain();
  }, 60_000);
  afterAll(() => devnet?.close());
  const url = () => chain.rpcUrl; // answers chain id 1

  test.each<[string, () => EvmOwnershipResolverOptions, string, string | undefined, string | RegExp]>([
    ['rpcUrl on a node answering 1: ethereum mainnet', () => ({ rpcUrl: url() }), 'ethereum', undefined, '2'],
    [
      "rpcUrl on ganache's default chain id",
      () => ({ rpcUrl: devnet.rpcUrl }),
      'ethereum',
      undefined,
      'rpcUrl for ethereum/mainnet answers chain id 1337, expected 1',
    ],
    [
      'a sepolia requirement, with rpcUrl only',
      () => ({ rpcUrl: url() }),
      'ethereum',
      'sepolia',
      'evmOwnershipResolver has no RPC URL for ethereum/sepolia',
    ],
    [
      'a polygon requirement, with rpcUrl only',
      () => ({ rpcUrl: url() }),
      'polygon',
      undefined,
      'evmOwnershipResolver has no RPC URL for polygon/mainnet',
    ],
    [
      'rpcUrls["ethereum/sepolia"] on a mainnet node',
      () => ({ rpcUrls: { 'ethereum/sepolia': url() } }),
      'ethereum',
      'sepolia',
      'rpcUrls for ethereum/sepolia answers chain id 1, expected 11155111',
    ],
    [
      'rpcUrls.polygon on a mainnet node',
      () => ({ rpcUrls: { polygon: url() } }),
      'polygon',
      undefined,
      'rpcUrls for polygon/mainnet answers chain id 1, expected 137',
    ],
    [
      'rpcUrls.sepolia (the chain named sepolia) on a mainnet node',
      () => ({ rpcUrls: { sepolia: url() } }),
      'sepolia',
      undefined,
      'rpcUrls for sepolia/mainnet answers chain id 1, expected 11155111',
    ],
    [
      'rpcUrls.polygon with the chain id stated (a local fork)',
      () => ({ rpcUrls: { polygon: { url: url(), chainId: 1 } } }),
      'polygon',
      undefined,
      '2',
    ],
    [
      'a network the library does not know, with its chain id',
      () => ({ rpcUrls: { 'base/devnet': { url: url(), chainId: 1 } } }),
      'base',
      'devnet',
      '2',
    ],
    [
      'a network the library does not know, on a node answering another id',
      () => ({ rpcUrls: { 'base/devnet': { url: devnet.rpcUrl, chainId: 1 } } }),
      'base',
      'devnet',
      'rpcUrls for base/devnet answers chain id 1337, expected 1',
    ],
    [
      'rpcUrl and rpcUrls together: mainnet from rpcUrl',
      () => ({ rpcUrl: url(), rpcUrls: { 'ethereum/sepolia': devnet.rpcUrl } }),
      'ethereum',
      'mainnet',
      '2',
    ],
  ])('%s', async (_what, options, onChain, network, expected) => {
    const answer = evmOwnershipResolver(options()).resolve(
      query(holder, { contractAddress: deployed.nft }, onChain, network),
    );
    if (expected === '2') await expect(answer).resolves.toEqual({ balance: '2' });
    else await expect(answer).rejects.toThrow(expected);
  });

  test('a network without a URL is refused as unsupported, a node on the wrong chain as a failed lookup', async () => {
    const resolver = evmOwnershipResolver({ rpcUrl: devnet.rpcUrl });
    await expect(resolver.resolve(query(holder, { contractAddress: deployed.nft }, 'polygon'))).rejects.toBeInstanceOf(
      UnsupportedRequirementError,
    );
    const wrongChain = resolver.resolve(query(holder, { contractAddress: deployed.nft }));
    await expect(wrongChain).rejects.toBeInstanceOf(ResolverError);
    await expect(wrongChain).rejects.toThrow('rpcUrl for ethereum/mainnet answers chain id 1337, expected 1');
  });

  describe('on a scripted node', () => {
    const node = useScriptedNode();
    const ask = (resolver: ReturnType<typeof evmOwnershipResolver>) =>
      resolver.resolve(query(holder, { contractAddress: ERC20 }));
    const chainIdCalls = () => node.calls.filter((c) => c === 'eth_chainId').length;

    test('a matching eth_chainId is asked once per node, by concurrent questions too', async () => {
      const resolver = evmOwnershipResolver({ rpcUrl: node.url });
      await Promise.all([ask(resolver), ask(resolver), ask(resolver)]);
      await ask(resolver);
      expect(chainIdCalls()).toBe(1);
    });

    test('a mismatch or a failed eth_chainId is asked again, so a node put right is used', async () => {
      const resolver = evmOwnershipResolver({ rpcUrl: node.url });
      node.chainId = { result: '0x539' };
      await expect(ask(resolver)).rejects.toThrow('rpcUrl for ethereum/mainnet answers chain id 1337, expected 1');
      node.chainId = { error: { code: -32603, message: 'internal error' } };
      await expect(ask(resolver)).rejects.toThrow(/eth_chainId for ethereum\/mainnet failed/);
      node.chainId = { result: '0x1' };
      await expect(ask(resolver)).resolves.toEqual({ balance: '1' });
      expect(chainIdCalls()).toBe(3);
      expect(node.calls.filter((c) => c === DECIMALS)).toHaveLength(1); // nothing else asked before a match
    });
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

  test('the balance calls for several token ids travel in one HTTP request; the chain id and kind are asked once', async () => {
    const resolver = evmOwnershipResolver({ rpcUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
    const ids = { contractAddress: deployed.multi, tokenIds: ['1', '2', '3'] };
    expect((await resolver.resolve(query(holder, ids))).balance).toBe('8');
    expect(bodies).toHaveLength(3); // eth_chainId, supportsInterface, then the batch
    expect(bodies[0]).toEqual([expect.objectContaining({ method: 'eth_chainId' })]);
    expect(bodies[2]).toEqual([expect.objectContaining({ method: 'eth_call' }), expect.anything(), expect.anything()]);
    expect((await resolver.resolve(query(holder, ids))).balance).toBe('8');
    expect(bodies).toHaveLength(4);
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

describe('evmOwnershipResolver fetch option', () => {
  // The deployer's ERC-20s do not move in this file (8.5 tokens).
  const ask = (options: Omit<EvmOwnershipResolverOptions, 'rpcUrl'>) =>
    evmOwnershipResolver({ rpcUrl: chain.rpcUrl, ...options }).resolve(
      query(deployer, { contractAddress: deployed.token20 }),
    );

  test('through an HTTP proxy (undici ProxyAgent as the dispatcher): every JSON-RPC exchange goes through it', async () => {
    const proxy = await startForwardProxy();
    const dispatcher = new ProxyAgent(proxy.url);
    try {
      const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher } as RequestInit);
      await expect(ask({ fetch: viaProxy })).resolves.toEqual({ balance: '8.5' });
      expect(proxy.targets().length).toBeGreaterThan(0);
      expect(new Set(proxy.targets())).toEqual(new Set([new URL(chain.rpcUrl).host]));
    } finally {
      await dispatcher.close();
      await proxy.close();
    }
  });

  test('a header the function adds reaches the node, on every exchange', async () => {
    const seen: Array<string | undefined> = [];
    const node = createServer((req, res) => {
      seen.push(req.headers['x-api-key'] as string | undefined);
      const upstream = httpRequest(
        chain.rpcUrl,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (a) => {
          res.writeHead(a.statusCode ?? 502, { 'content-type': 'application/json' });
          a.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    try {
      const resolver = evmOwnershipResolver({
        rpcUrl: `http://127.0.0.1:${(node.address() as AddressInfo).port}`,
        fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'x-api-key': 'rpc-key' } }),
      });
      await expect(resolver.resolve(query(deployer, { contractAddress: deployed.token20 }))).resolves.toEqual({
        balance: '8.5',
      });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((key) => key === 'rpc-key')).toBe(true);
    } finally {
      await new Promise<void>((resolve) => node.close(() => resolve()));
    }
  });

  test('an answer that never ends is cut at the size cap: a failure, not a balance', async () => {
    let pulled = 0;
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 65_536;
          controller.enqueue(new Uint8Array(65_536).fill(0x20));
        },
      });
    const huge: FetchFunction = () =>
      Promise.resolve(new Response(endless(), { headers: { 'content-type': 'application/json' } }));
    await expect(ask({ fetch: huge })).rejects.toThrow(
      'eth_chainId for ethereum/mainnet failed: body is larger than 1048576 bytes',
    );
    expect(pulled).toBeLessThan(4 * 1_048_576);
  });

  test('a function that never answers and ignores the signal still fails after timeoutMs', async () => {
    const hangs: FetchFunction = () => new Promise<Response>(() => undefined);
    await expect(ask({ fetch: hangs, timeoutMs: 50 })).rejects.toThrow(
      /eth_chainId for ethereum\/mainnet failed: .*took too long/,
    );
  });
});

describe('evmOwnershipResolver options', () => {
  const U = 'https://rpc.example';
  test.each<[string, unknown, string | RegExp]>([
    ['nothing', {}, new OptionsError('rpcUrl', 'or rpcUrls is required').message],
    ['a ws rpcUrl', { rpcUrl: 'ws://127.0.0.1:8545' }, /"rpcUrl" must use http or https/],
    ['an rpcUrl that is no URL', { rpcUrl: 'nope' }, /"rpcUrl" is not a valid URL/],
    ['a map as rpcUrl', { rpcUrl: { polygon: U } }, /"rpcUrl" must be a URL string, for ethereum mainnet; use rpcUrls/],
    ['an empty rpcUrls', { rpcUrls: {} }, /"rpcUrls" must be an object of/],
    ['a non-EVM chain', { rpcUrls: { solana: U } }, /"rpcUrls.solana" does not name an EVM chain/],
    ['a network name in capitals', { rpcUrls: { 'ethereum/Sepolia': U } }, /"rpcUrls.ethereum\/Sepolia" .* network/],
    ['an unknown network without chainId', { rpcUrls: { 'base/devnet': U } }, /"rpcUrls.base\/devnet" needs a chainId/],
    ['chainId 0', { rpcUrls: { 'base/devnet': { url: U, chainId: 0 } } }, /"rpcUrls.base\/devnet.chainId" must be/],
    ['chainId as a string', { rpcUrls: { polygon: { url: U, chainId: '137' } } }, /"rpcUrls.polygon.chainId"/],
    ['an unknown field', { rpcUrls: { polygon: { url: U, chainID: 137 } } }, /"rpcUrls.polygon.chainID" is not/],
    ['a ws URL in rpcUrls', { rpcUrls: { polygon: { url: 'ws://x' } } }, /"rpcUrls.polygon.url" must use http/],
    ['ethereum twice', { rpcUrls: { ethereum: U, 'ethereum/mainnet': U } }, /ethereum\/mainnet twice/],
    ['rpcUrl and rpcUrls.ethereum', { rpcUrl: U, rpcUrls: { ethereum: U } }, /ethereum\/mainnet twice/],
    ['an unknown option', { rpcUrl: U, rpcURL: 'x' }, /"rpcURL" is not a known/],
    ['a negative timeout', { rpcUrl: U, timeoutMs: -1 }, /"timeoutMs"/],
    ['a negative contractMaxAgeMs', { rpcUrl: U, contractMaxAgeMs: -1 }, /"contractMaxAgeMs" must be/],
    ['contractMaxAgeMs over a day', { rpcUrl: U, contractMaxAgeMs: 86_400_001 }, /"contractMaxAgeMs" must be/],
    ['a fetch that is no function', { rpcUrl: U, fetch: 'fetch' }, /"fetch" must be a function \(url, init\)/],
    ['a dispatcher given as fetch', { rpcUrl: U, fetch: { dispatch: () => true } }, /"fetch" must be a function/],
  ])('refuses %s at startup', (_what, options, message) => {
    expect(() => evmOwnershipResolver(options as EvmOwnershipResolverOptions)).toThrow(OptionsError);
    expect(() => evmOwnershipResolver(options as EvmOwnershipResolverOptions)).toThrow(message);
  });

  test.each<[string, EvmOwnershipResolverOptions]>([
    ['rpcUrl alone', { rpcUrl: U }],
    ['rpcUrls by chain and by chain/network', { rpcUrls: { polygon: U, 'ethereum/sepolia': U, 'polygon/mumbai': U } }],
    ['a network of its own with its chain id', { rpcUrls: { 'base/devnet': { url: U, chainId: 31337 } } }],
    ['rpcUrl with rpcUrls for other networks', { rpcUrl: U, rpcUrls: { 'ethereum/sepolia': U } }],
    ['contractMaxAgeMs 0 and a day', { rpcUrl: U, contractMaxAgeMs: 0, timeoutMs: 120_000 }],
    ['a fetch function', { rpcUrl: U, fetch: (url, init) => fetch(url, init) }],
  ])('accepts %s', (_what, options) => {
    expect(() => evmOwnershipResolver(options)).not.toThrow();
  });
});

describeOwnershipResolver('evmOwnershipResolver', () => ({
  resolver: evmOwnershipResolver({ rpcUrl: chain.rpcUrl }),
  contractAddress: deployed.token20,
  holder: { wallet: deployer, balance: '8.5' }, // the deployer's tokens do not move in this file
  stranger: STRANGER_WALLET,
  unreachable: (port) => evmOwnershipResolver({ rpcUrl: `http://127.0.0.1:${port}` }),
}));
