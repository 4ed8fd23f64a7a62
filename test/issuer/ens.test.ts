/**
 * `displayAddress` from ENS, on a real chain: ganache in process with a stand-in for the reverse
 * half of the ENS Universal Resolver (test/fixtures/contracts/ReverseUniversalResolver.sol, the
 * function viem's getEnsName calls), passed as `chains.ethereum.ensUniversalResolver`. Logins go
 * over HTTP with viem local accounts; a hanging and a garbage-answering JSON-RPC server on
 * 127.0.0.1 stand for an ENS that does not answer well.
 *
 * The attacks pinned here: a name that is no string, too long, with control or bidirectional
 * characters (U+202E), not in ENS normal form, or reading as a wallet address is never shown; a
 * hanging ENS never fails or holds up a login; and the name is display only: a token showing one
 * is its wallet's, and the gate keys on `walletAddress`.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { getAddress, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { authErrorHandler, createTokenGate, OptionsError } from '../../lib';
import { createIssuer, type Issuer, type IssuerOptions } from '../../lib/issuer';
import { acceptableName } from '../../lib/issuer/ens';
import { listen as listenIssuer, type RunningServer } from '../../lib/issuer/server';
import { compileContracts, startChain, type Compiled, type LocalChain } from '../helpers/chain';
import { closeServer, listen } from '../helpers/net';
import { postJson, walletLogin } from '../helpers/wallet-login';
import { AUDIENCE } from '../helpers/fixtures';

const BASE: IssuerOptions = { issuer: 'auth.example.com', audience: AUDIENCE, ephemeralKey: true, rateLimits: false };

let chain: LocalChain;
let resolverContract: Compiled;
let resolver: Address;

beforeAll(async () => {
  resolverContract = compileContracts().ReverseUniversalResolver!;
  chain = await startChain();
  resolver = await chain.deploy(resolverContract);
}, 120_000);
afterAll(() => chain?.close());

const setName = (wallet: Address, name: string) =>
  chain.send(chain.accounts[0]!, resolver, resolverContract, 'setName', [wallet, name]);
const setReverting = (wallet: Address, on: boolean) =>
  chain.send(chain.accounts[0]!, resolver, resolverContract, 'setReverting', [wallet, on]);
const newWallet = (): PrivateKeyAccount => privateKeyToAccount(generatePrivateKey());

interface Running {
  issuer: Issuer;
  api: string;
  close(): Promise<void>;
}

async function start(options: Partial<IssuerOptions> = {}, rpcUrl = chain.rpcUrl): Promise<Running> {
  const issuer = createIssuer({
    ...BASE,
    chains: { ethereum: { rpcUrl, ensUniversalResolver: resolver } },
    ...options,
  });
  const server: RunningServer = await listenIssuer(issuer.handler);
  return {
    issuer,
    api: server.url,
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}

/** Logs `wallet` in; resolves to the token's `displayAddress` and the token. */
async function loginShows(api: string, wallet: PrivateKeyAccount): Promise<{ shown: unknown; token: string }> {
  const answer = await walletLogin(api, wallet);
  expect(answer.status).toBe(200);
  const token = answer.body.accessToken!;
  expect(decodeJwt(token).walletAddress).toBe(wallet.address);
  expect((answer.body.user as Record<string, unknown>).displayAddress).toBe(decodeJwt(token).displayAddress);
  return { shown: decodeJwt(token).displayAddress, token };
}

describe('which names may be shown (decision table)', () => {
  test.each<[string, unknown, boolean]>([
    ['a normalised name', 'alice.eth', true],
    ['a normalised name with a subdomain', 'pay.alice.eth', true],
    ['an emoji name in normal form', '\u{1F525}\u{1F525}\u{1F525}.eth', true],
    ['no string', 42, false],
    ['null', null, false],
    ['the empty string', '', false],
    ['a name longer than 253 characters', `${'a'.repeat(250)}.eth`, false],
    ['a right-to-left override (U+202E)', 'alice\u202Eeth.eth', false],
    ['a left-to-right mark (U+200E)', 'alice\u200E.eth', false],
    ['a zero-width space', 'ali\u200Bce.eth', false],
    ['a NUL', 'alice\u0000.eth', false],
    ['a line break', 'alice\n.eth', false],
    ['upper case (not normalised)', 'Alice.eth', false],
    ['a full-width letter (normalises to another name)', '\uFF41lice.eth', false],
    ['an empty label', 'alice..eth', false],
    ['a label that is a wallet address', '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8.eth', false],
  ])('%s → shown: %s', (_case, name, shown) => {
    expect(acceptableName(name)).toBe(shown ? name : undefined);
  });
});

describe('displayAddress at login, through the Universal Resolver on a local chain', () => {
  let running: Running;
  beforeAll(async () => {
    running = await start();
  });
  afterAll(() => running.close());

  test('a wallet with a name: displayAddress is the name, walletAddress the wallet', async () => {
    const wallet = newWallet();
    await setName(wallet.address, 'alice.eth');
    expect((await loginShows(running.api, wallet)).shown).toBe('alice.eth');
  });

  test('a wallet without a name (empty answer): the checksummed address', async () => {
    const wallet = newWallet();
    expect((await loginShows(running.api, wallet)).shown).toBe(getAddress(wallet.address));
  });

  test('a resolver that reverts: the checksummed address, and the login succeeds', async () => {
    const wallet = newWallet();
    await setName(wallet.address, 'bob.eth');
    await setReverting(wallet.address, true);
    expect((await loginShows(running.api, wallet)).shown).toBe(wallet.address);
  });

  test.each<[string, string]>([
    ['a right-to-left override', 'moc.elgoog\u202E.eth'],
    ['upper case', 'Carol.eth'],
    ['a wallet address', '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8.eth'],
    ['300 characters', `${'c'.repeat(296)}.eth`],
  ])('a name with %s on chain: the address is shown instead', async (_case, name) => {
    const wallet = newWallet();
    await setName(wallet.address, name);
    expect((await loginShows(running.api, wallet)).shown).toBe(wallet.address);
  });

  test('a name is cached per address: a change on chain shows at the next login after cacheSeconds', async () => {
    const wallet = newWallet();
    await setName(wallet.address, 'dave.eth');
    expect((await loginShows(running.api, wallet)).shown).toBe('dave.eth');
    await setName(wallet.address, 'dave2.eth');
    // Within the default 300 s the cached answer is shown, without asking the chain.
    expect((await loginShows(running.api, wallet)).shown).toBe('dave.eth');
  });

  test('/auth/validate answers the name the token carries; /authz keeps it in the tokens it signs', async () => {
    const wallet = newWallet();
    await setName(wallet.address, 'erin.eth');
    const { token } = await loginShows(running.api, wallet);
    const validated = await postJson(running.api, '/auth/validate', { accessToken: token });
    expect([validated.status, validated.body.displayAddress]).toEqual([200, 'erin.eth']);
    const upgraded = await postJson(running.api, '/authz', { accessToken: token, requirements: {}, revalidate: true });
    expect(upgraded.status).toBe(200);
    const next = upgraded.body.accessToken as string;
    expect(next).not.toBe(token);
    expect(decodeJwt(next)).toMatchObject({ displayAddress: 'erin.eth', walletAddress: wallet.address });
    expect((upgraded.body.user as Record<string, unknown>).displayAddress).toBe('erin.eth');
  });

  test('the name is display only: the gate knows the wallet by its address, and a name that reads as another wallet is not shown', async () => {
    const victim = newWallet();
    const attacker = newWallet();
    await setName(victim.address, 'victim.eth');
    // The attacker's reverse record names the victim's address as a label: never shown.
    await setName(attacker.address, `${victim.address.toLowerCase()}.eth`);
    const gate = createTokenGate(running.issuer.gateOptions);
    const app = express();
    app.get('/me', gate.requireAuth(), (req, res) => {
      res.json({ address: req.wallet!.address, displayAddress: req.wallet!.displayAddress });
    });
    app.use(authErrorHandler());
    const victimToken = (await loginShows(running.api, victim)).token;
    const attackerLogin = await loginShows(running.api, attacker);
    expect(attackerLogin.shown).toBe(attacker.address);
    const asVictim = await request(app).get('/me').set('Authorization', `Bearer ${victimToken}`);
    expect(asVictim.status).toBe(200);
    expect(asVictim.body).toEqual({ address: victim.address.toLowerCase(), displayAddress: 'victim.eth' });
    const asAttacker = await request(app).get('/me').set('Authorization', `Bearer ${attackerLogin.token}`);
    expect(asAttacker.body).toEqual({ address: attacker.address.toLowerCase(), displayAddress: attacker.address });
  });
});

describe('a bounded lookup', () => {
  test('maxEntries bounds the cache: an evicted address is asked again', async () => {
    const running = await start({ ens: { maxEntries: 1 } });
    try {
      const first = newWallet();
      const second = newWallet();
      await setName(first.address, 'frank.eth');
      expect((await loginShows(running.api, first)).shown).toBe('frank.eth');
      expect((await loginShows(running.api, second)).shown).toBe(second.address);
      await setName(first.address, 'frank2.eth');
      expect((await loginShows(running.api, first)).shown).toBe('frank2.eth');
    } finally {
      await running.close();
    }
  });

  test('ens: false shows the address even when the wallet has a name', async () => {
    const running = await start({ ens: false });
    try {
      const wallet = newWallet();
      await setName(wallet.address, 'grace.eth');
      expect((await loginShows(running.api, wallet)).shown).toBe(wallet.address);
    } finally {
      await running.close();
    }
  });

  test('without chains.ethereum.rpcUrl no name is looked up: the checksummed address', async () => {
    const issuer = createIssuer(BASE);
    const server = await listenIssuer(issuer.handler);
    try {
      const wallet = newWallet();
      await setName(wallet.address, 'heidi.eth');
      expect((await loginShows(server.url, wallet)).shown).toBe(wallet.address);
    } finally {
      await server.close();
      await issuer.close();
    }
  });

  describe('a JSON-RPC server that never answers, or answers garbage', () => {
    let hanging: Server;
    let garbage: Server;
    let hangingUrl: string;
    let garbageUrl: string;
    const held: Array<() => void> = [];
    beforeAll(async () => {
      // Reads the request, never answers (until the test ends).
      hanging = createServer((req, res) => {
        req.resume();
        held.push(() => res.destroy());
      });
      hangingUrl = `http://127.0.0.1:${await listen(hanging)}`;
      // Answers every call with a result that is no ABI encoding of (string, address, address).
      garbage = createServer((req, res) => {
        let text = '';
        req.on('data', (chunk: Buffer) => (text += chunk.toString()));
        req.on('end', () => {
          const { id } = JSON.parse(text) as { id: number };
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id, result: '0xdeadbeef' }));
        });
      });
      garbageUrl = `http://127.0.0.1:${await listen(garbage)}`;
    });
    afterAll(async () => {
      for (const release of held) release();
      await closeServer(hanging);
      await closeServer(garbage);
    });

    test('hanging: the login answers within the ENS deadline with the address', async () => {
      // The request deadline is far longer than the ENS one: only the ENS deadline can end the wait.
      const running = await start({ ens: { timeoutMs: 200 }, requestTimeoutMs: 120_000 }, hangingUrl);
      try {
        const wallet = newWallet();
        expect((await loginShows(running.api, wallet)).shown).toBe(wallet.address);
        expect(held.length).toBeGreaterThan(0);
      } finally {
        await running.close();
      }
    });

    test('garbage: the address', async () => {
      const running = await start({}, garbageUrl);
      try {
        const wallet = newWallet();
        expect((await loginShows(running.api, wallet)).shown).toBe(wallet.address);
      } finally {
        await running.close();
      }
    });
  });
});

describe('the ens and chains options are checked at startup', () => {
  test.each<[string, string, Partial<IssuerOptions>]>([
    ['a timeout of 0', 'ens.timeoutMs', { ens: { timeoutMs: 0 } }],
    ['cacheSeconds that is no number', 'ens.cacheSeconds', { ens: { cacheSeconds: '5' as unknown as number } }],
    ['an unknown ens field', 'ens.timeout', { ens: { timeout: 5 } as never }],
    ['ens that is true', 'ens', { ens: true as never }],
    [
      'a Universal Resolver that is no address',
      'chains.ethereum.ensUniversalResolver',
      { chains: { ethereum: { rpcUrl: 'http://127.0.0.1:1', ensUniversalResolver: 'resolver.eth' } } },
    ],
    [
      'a Universal Resolver on another chain than ethereum',
      'chains.polygon.ensUniversalResolver',
      {
        chains: {
          polygon: { rpcUrl: 'http://127.0.0.1:1', ensUniversalResolver: '0x0000000000000000000000000000000000000001' },
        },
      },
    ],
  ])('%s throws an OptionsError naming %s', (_case, name, change) => {
    const options = { ...BASE, ...change } as IssuerOptions;
    expect(() => createIssuer(options)).toThrow(OptionsError);
    expect(() => createIssuer(options)).toThrow(`"${name}"`);
  });
});
