/**
 * picketOwnershipResolver speaks the issuer's tokenOwnership API exactly as its Node SDK does. The
 * loopback server it is tested against is itself checked against the real SDK first.
 */
import { createServer } from 'node:http';
import Picket from '@picketapi/picket-node';
import { ProxyAgent } from 'undici';
import {
  OptionsError,
  picketOwnershipResolver,
  ResolverError,
  UnsupportedRequirementError,
  type OwnershipQuery,
} from '../../../lib';
import { startOwnershipServer, type OwnershipServer } from '../../helpers/ownership-server';
import { startForwardProxy } from '../../helpers/forward-proxy';
import { closeServer, listen } from '../../helpers/net';
import type { FetchFunction } from '../../../lib/net/fetch';
import { describeOwnershipResolver } from './port-suite';
import { APES_CONTRACT, STRANGER_WALLET, WALLET } from '../../helpers/fixtures';

const KEY = 'sk_test_51a7f0c2';

let server: OwnershipServer;
beforeAll(async () => {
  server = await startOwnershipServer(KEY);
  server.hold(WALLET, APES_CONTRACT, '2');
  server.hold(WALLET, `${APES_CONTRACT}:7`, '1');
});
afterAll(() => server.close());

function query(requirements: Partial<OwnershipQuery['requirements']>, walletAddress = WALLET): OwnershipQuery {
  return {
    chain: 'ethereum',
    walletAddress,
    requirements: { chain: 'ethereum', minTokenBalance: '0', ...requirements },
    signal: new AbortController().signal,
  };
}

describe('the loopback tokenOwnership server is faithful to @picketapi/picket-node', () => {
  const sdk = () => {
    const picket = new Picket(KEY);
    picket.baseURL = server.baseUrl;
    return picket;
  };

  test("the SDK's tokenOwnership call is accepted and answered in the SDK's response shape", async () => {
    const answer = await sdk().tokenOwnership({
      walletAddress: WALLET,
      contractAddress: APES_CONTRACT,
      minTokenBalance: '1',
    });
    expect(answer).toEqual({ allowed: true, walletAddress: WALLET, tokenBalance: '2' });
    const sent = server.requests.at(-1)!;
    expect(sent.path).toBe(`/api/v1/chains/ethereum/wallets/${WALLET}/tokenOwnership`);
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(KEY).toString('base64')}`);
  });

  test('the SDK with token ids, and with a wrong key (refused)', async () => {
    const ids = await sdk().tokenOwnership({
      walletAddress: WALLET,
      contractAddress: APES_CONTRACT,
      tokenIds: ['7', '8'],
    });
    expect(ids).toEqual({ allowed: true, walletAddress: WALLET, tokenBalance: '1' });
    const stranger = new Picket('another-key');
    stranger.baseURL = server.baseUrl;
    await expect(
      stranger.tokenOwnership({ walletAddress: WALLET, contractAddress: APES_CONTRACT }),
    ).rejects.toMatchObject({ code: 'unauthorized' });
  });
});

describe('picketOwnershipResolver request', () => {
  test('posts to /chains/{chain}/wallets/{wallet}/tokenOwnership with Basic base64(secretKey) and the SDK body', async () => {
    const resolver = picketOwnershipResolver({ apiKey: KEY, baseUrl: server.baseUrl });
    await resolver.resolve(query({ contractAddress: APES_CONTRACT, minTokenBalance: '2', tokenIds: ['7'] }));
    const sent = server.requests.at(-1)!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/api/v1/chains/ethereum/wallets/${WALLET}/tokenOwnership`);
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(KEY).toString('base64')}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.body).toEqual({ contractAddress: APES_CONTRACT, minTokenBalance: '2', tokenIds: ['7'] });
  });

  test('sends no tokenIds field when the requirement has none, and ignores allowedWallets (the gate checks them)', async () => {
    const resolver = picketOwnershipResolver({ apiKey: KEY, baseUrl: `${server.baseUrl}/` });
    await resolver.resolve(query({ contractAddress: APES_CONTRACT, allowedWallets: [WALLET] }));
    expect(server.requests.at(-1)!.body).toEqual({ contractAddress: APES_CONTRACT, minTokenBalance: '0' });
  });
});

describe('picketOwnershipResolver answers', () => {
  const resolver = () => picketOwnershipResolver({ apiKey: KEY, baseUrl: server.baseUrl });

  test("maps { allowed, tokenBalance } to the wallet's balance and the issuer's verdict", async () => {
    await expect(resolver().resolve(query({ contractAddress: APES_CONTRACT, minTokenBalance: '3' }))).resolves.toEqual({
      balance: '2',
      allowed: false,
    });
    await expect(resolver().resolve(query({ contractAddress: APES_CONTRACT, tokenIds: ['7'] }))).resolves.toEqual({
      balance: '1',
      allowed: true,
    });
  });

  test('refuses a well-formed answer about another wallet', async () => {
    server.answer = 'other-wallet';
    try {
      await expect(resolver().resolve(query({ contractAddress: APES_CONTRACT }))).rejects.toThrow(
        "The issuer's tokenOwnership answer is about another wallet",
      );
    } finally {
      server.answer = 'good';
    }
  });

  test('compares the wallet it asked about case-insensitively on EVM chains', async () => {
    await expect(resolver().resolve(query({ contractAddress: APES_CONTRACT }, WALLET.toLowerCase()))).resolves.toEqual({
      balance: '2',
      allowed: true,
    });
  });

  test('a wrong key is a failure, not a zero balance', async () => {
    const stranger = picketOwnershipResolver({ apiKey: 'another-key', baseUrl: server.baseUrl });
    await expect(stranger.resolve(query({ contractAddress: APES_CONTRACT }))).rejects.toThrow(
      new ResolverError("The issuer's tokenOwnership API answered 401"),
    );
  });

  test('collection and creator requirements are not part of the API: a failure, and no request', async () => {
    const before = server.calls;
    await expect(resolver().resolve(query({ collection: ['abc'], chain: 'solana' }))).rejects.toBeInstanceOf(
      UnsupportedRequirementError,
    );
    await expect(resolver().resolve(query({ creatorAddress: APES_CONTRACT }))).rejects.toBeInstanceOf(
      UnsupportedRequirementError,
    );
    expect(server.calls).toBe(before);
  });
});

describe('picketOwnershipResolver and networks', () => {
  // The tokenOwnership API takes a chain and no network: asked about a testnet requirement, it would
  // answer the chain's mainnet holdings.
  const resolver = () => picketOwnershipResolver({ apiKey: KEY, baseUrl: server.baseUrl });
  const on = (chain: string, network: string | undefined) => ({
    ...query({ contractAddress: APES_CONTRACT }),
    chain,
    requirements: { chain, contractAddress: APES_CONTRACT, minTokenBalance: '0', ...(network && { network }) },
  });

  test.each<[string, string | undefined]>([
    ['ethereum', 'sepolia'],
    ['ethereum', 'goerli'],
    ['polygon', 'mumbai'],
  ])('a requirement on %s/%s is a failure, and no request', async (chain, network) => {
    const before = server.calls;
    const answer = resolver().resolve(on(chain, network));
    await expect(answer).rejects.toBeInstanceOf(UnsupportedRequirementError);
    await expect(answer).rejects.toThrow(
      `picketOwnershipResolver answers mainnet requirements only: the issuer's tokenOwnership API takes no network (this one is on ${chain}/${network})`,
    );
    expect(server.calls).toBe(before);
  });

  test.each<[string, string | undefined]>([
    ['ethereum', undefined],
    ['ethereum', 'mainnet'],
  ])('a requirement on %s, network %s, is asked of the API under its chain', async (chain, network) => {
    await expect(resolver().resolve(on(chain, network))).resolves.toEqual({ balance: '2', allowed: true });
    expect(server.requests.at(-1)!.path).toBe(`/api/v1/chains/${chain}/wallets/${WALLET}/tokenOwnership`);
  });
});

describe('picketOwnershipResolver options', () => {
  test('needs the secret key', () => {
    expect(() => picketOwnershipResolver({} as never)).toThrow(
      new OptionsError('apiKey', "is required: your project's secret key"),
    );
    expect(() => picketOwnershipResolver({ apiKey: '' })).toThrow(OptionsError);
  });

  test('sends the key over https only, or plain http on loopback', () => {
    expect(() => picketOwnershipResolver({ apiKey: KEY, baseUrl: 'http://picketapi.com/api/v1' })).toThrow(
      /"baseUrl" must use https/,
    );
    expect(() => picketOwnershipResolver({ apiKey: KEY, baseUrl: 'ftp://127.0.0.1/' })).toThrow(
      /"baseUrl" must use https/,
    );
    expect(() => picketOwnershipResolver({ apiKey: KEY, baseUrl: 'https://user:pw@picketapi.com/' })).toThrow(
      /"baseUrl" must not carry/,
    );
    expect(() => picketOwnershipResolver({ apiKey: KEY, baseUrl: 'not a url' })).toThrow(
      /"baseUrl" is not a valid URL/,
    );
    expect(() => picketOwnershipResolver({ apiKey: KEY })).not.toThrow();
  });

  test('refuses unknown options and out-of-range timeouts', () => {
    expect(() => picketOwnershipResolver({ apiKey: KEY, baseURL: 'x' } as never)).toThrow(/"baseURL" is not a known/);
    expect(() => picketOwnershipResolver({ apiKey: KEY, timeoutMs: 0 })).toThrow(/"timeoutMs"/);
    expect(() => picketOwnershipResolver({ apiKey: KEY, timeoutMs: Infinity })).toThrow(/"timeoutMs"/);
  });
});

describe('picketOwnershipResolver fetch option', () => {
  const ask = (fetchOption: FetchFunction, timeoutMs = 5000) =>
    picketOwnershipResolver({ apiKey: KEY, baseUrl: server.baseUrl, fetch: fetchOption, timeoutMs }).resolve(
      query({ contractAddress: APES_CONTRACT }),
    );
  const json = (body: BodyInit, headers: Record<string, string> = {}) =>
    Promise.resolve(new Response(body, { headers: { 'content-type': 'application/json', ...headers } }));

  test('through an HTTP proxy (undici ProxyAgent as the dispatcher): the call goes through it and is answered', async () => {
    const proxy = await startForwardProxy();
    const dispatcher = new ProxyAgent(proxy.url);
    try {
      const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher } as RequestInit);
      await expect(ask(viaProxy)).resolves.toEqual({ balance: '2', allowed: true });
      expect(proxy.targets()).toEqual([new URL(server.baseUrl).host]);
    } finally {
      await dispatcher.close();
      await proxy.close();
    }
  });

  test('is called with the POST, its headers as a plain object, no redirects and a signal; a header it adds is seen', async () => {
    const inits: RequestInit[] = [];
    await ask((url, init) => {
      inits.push(init);
      return fetch(url, { ...init, headers: { ...init.headers, 'x-trace': 't-1' } });
    });
    expect(inits[0]).toMatchObject({
      method: 'POST',
      redirect: 'manual',
      headers: { Authorization: `Basic ${Buffer.from(KEY).toString('base64')}`, Accept: 'application/json' },
    });
    expect(inits[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(server.requests.at(-1)!.headers['x-trace']).toBe('t-1');
  });

  test('an answer that never ends is cut at the size cap', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 65_536;
        controller.enqueue(new Uint8Array(65_536).fill(0x20));
      },
    });
    await expect(ask(() => json(endless))).rejects.toThrow(
      new ResolverError(`${new URL(server.baseUrl).host} answered more than 65536 bytes`),
    );
    expect(pulled).toBeLessThan(1_048_576);
  });

  test('a function that never answers and ignores the signal still fails after timeoutMs', async () => {
    await expect(ask(() => new Promise<Response>(() => undefined), 50)).rejects.toThrow(
      `${new URL(server.baseUrl).host} did not answer within 50 ms`,
    );
  });

  test('a redirect the function follows is refused, though the target answers well', async () => {
    const redirector = createServer((req, res) => {
      res.writeHead(307, { location: `${new URL(server.baseUrl).origin}${req.url}` }).end();
    });
    const port = await listen(redirector);
    try {
      const calls = server.calls;
      const resolver = picketOwnershipResolver({
        apiKey: KEY,
        baseUrl: `http://127.0.0.1:${port}/api/v1`,
        fetch: (url, init) => fetch(url, { ...init, redirect: 'follow' }),
      });
      await expect(resolver.resolve(query({ contractAddress: APES_CONTRACT }))).rejects.toThrow(
        new ResolverError(`127.0.0.1:${port} redirected, and the fetch option followed: redirects are refused`),
      );
      expect(server.calls).toBe(calls + 1); // the function did follow, and was answered
    } finally {
      await closeServer(redirector);
    }
  });

  test('an answer that is not a Response is a failure', async () => {
    await expect(ask(() => Promise.resolve('ok' as unknown as Response))).rejects.toThrow(
      /The fetch option did not return a Response/,
    );
  });

  test('is checked at startup, and the https rule for the key still holds with it', () => {
    expect(() => picketOwnershipResolver({ apiKey: KEY, fetch: 'fetch' as never })).toThrow(
      new OptionsError(
        'fetch',
        'must be a function (url, init) => Promise<Response>, like fetch; for a proxy: (url, init) => fetch(url, { ...init, dispatcher })',
      ),
    );
    expect(() =>
      picketOwnershipResolver({ apiKey: KEY, baseUrl: 'http://picketapi.com/api/v1', fetch: (u, i) => fetch(u, i) }),
    ).toThrow(/"baseUrl" must use https/);
  });
});

describeOwnershipResolver('picketOwnershipResolver', () => ({
  resolver: picketOwnershipResolver({ apiKey: KEY, baseUrl: server.baseUrl }),
  contractAddress: APES_CONTRACT,
  holder: { wallet: WALLET, balance: '2' },
  stranger: STRANGER_WALLET,
  unreachable: (port) => picketOwnershipResolver({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}/api/v1` }),
}));
