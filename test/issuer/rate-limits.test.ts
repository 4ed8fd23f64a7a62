/**
 * Rate limits on /auth/nonce and /auth, per client address and per wallet, kept in the issuer's
 * store: a stranger cannot flood a wallet's nonces or brute-force logins, and instances sharing a
 * store share the counts. Past a limit: 429 rate_limited with Retry-After.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import { OptionsError } from '../../lib';
import { createIssuer, memoryIssuerStore, type Issuer } from '../../lib/issuer';
import { AUDIENCE, OTHER_WALLET, WALLET } from '../helpers/fixtures';
import { closeServer, listen } from '../helpers/net';

async function serve(handler: Issuer['router']): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use('/api/v1', handler);
  const server = createServer(app);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/api/v1`, server };
}

const nonce = (url: string, walletAddress: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/auth/nonce`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ chain: 'ethereum', walletAddress }),
  });

describe('rate limits', () => {
  test('per wallet: the nonces of one wallet stop at the limit with 429 and Retry-After; another wallet is served', async () => {
    const issuer = createIssuer({
      issuer: 'auth.example.com',
      audience: AUDIENCE,
      ephemeralKey: true,
      rateLimits: { perWallet: 3, perClient: 100, windowSeconds: 60 },
    });
    const { url, server } = await serve(issuer.router);
    try {
      const statuses = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await nonce(url, WALLET)).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const refused = await nonce(url, WALLET.toLowerCase());
      expect(refused.status).toBe(429); // one wallet, whatever its spelling
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(await refused.json()).toMatchObject({ code: 'rate_limited' });
      expect((await nonce(url, OTHER_WALLET)).status).toBe(200);
    } finally {
      await closeServer(server);
      await issuer.close();
    }
  });

  test('per client address: one client stops at the limit whatever wallets it names', async () => {
    const issuer = createIssuer({
      issuer: 'auth.example.com',
      audience: AUDIENCE,
      ephemeralKey: true,
      rateLimits: { perClient: 4 },
      clientAddress: (req) => req.headers['x-client'] as string | undefined,
    });
    const { url, server } = await serve(issuer.router);
    try {
      const wallets = Array.from({ length: 6 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`);
      const statuses = [];
      for (const wallet of wallets) statuses.push((await nonce(url, wallet, { 'x-client': 'a' })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      expect((await nonce(url, wallets[0]!, { 'x-client': 'b' })).status).toBe(200);
    } finally {
      await closeServer(server);
      await issuer.close();
    }
  });

  test('/auth is counted apart from /auth/nonce, with the same limits', async () => {
    const issuer = createIssuer({ issuer: 'i', audience: AUDIENCE, ephemeralKey: true, rateLimits: { perWallet: 2 } });
    const { url, server } = await serve(issuer.router);
    try {
      const auth = () =>
        fetch(`${url}/auth`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ chain: 'ethereum', walletAddress: WALLET, signature: '0x00' }),
        });
      expect([(await auth()).status, (await auth()).status, (await auth()).status]).toEqual([401, 401, 429]);
      expect((await nonce(url, WALLET)).status).toBe(200);
    } finally {
      await closeServer(server);
      await issuer.close();
    }
  });

  test("a whole EIP-4361 message counts against its Address's wallet, the same count as picket's bodies", async () => {
    const issuer = createIssuer({
      issuer: 'i',
      audience: AUDIENCE,
      ephemeralKey: true,
      rateLimits: { perWallet: 2, perClient: 100 },
    });
    const { url, server } = await serve(issuer.router);
    const post = (body: unknown) =>
      fetch(`${url}/auth`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const message = (address: string) =>
      `localhost:5173 wants you to sign in with your Ethereum account:\n${address}\n\n\nURI: http://localhost:5173\nVersion: 1\nChain ID: 1\nNonce: abcdefgh1234\nIssued At: 2024-05-01T12:00:00Z`;
    try {
      expect((await post({ message: message(WALLET), signature: '0x00' })).status).toBe(401);
      expect((await post({ chain: 'ethereum', walletAddress: WALLET.toLowerCase(), signature: '0x00' })).status).toBe(
        401,
      );
      expect((await post({ message: message(WALLET), signature: '0x00' })).status).toBe(429);
      expect((await post({ message: message(OTHER_WALLET), signature: '0x00' })).status).toBe(401);
    } finally {
      await closeServer(server);
      await issuer.close();
    }
  });

  test('tokenOwnership (it asks the chain for anyone) is counted per wallet of its path, apart from the login routes', async () => {
    const issuer = createIssuer({ issuer: 'i', audience: AUDIENCE, ephemeralKey: true, rateLimits: { perWallet: 2 } });
    const { url, server } = await serve(issuer.router);
    const ask = (wallet: string) =>
      fetch(`${url}/chains/ethereum/wallets/${wallet}/tokenOwnership`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ contractAddress: OTHER_WALLET }),
      });
    try {
      const statuses = [(await ask(WALLET)).status, (await ask(WALLET)).status];
      expect(statuses.every((status) => status !== 429)).toBe(true);
      const third = await ask(WALLET.toLowerCase());
      expect([third.status, third.headers.get('retry-after') !== null]).toEqual([429, true]);
      expect((await ask(OTHER_WALLET)).status).not.toBe(429);
      expect((await nonce(url, WALLET)).status).toBe(200);
    } finally {
      await closeServer(server);
      await issuer.close();
    }
  });

  test('instances sharing a store share the counts', async () => {
    const store = memoryIssuerStore();
    const options = {
      issuer: 'auth.example.com',
      audience: AUDIENCE,
      ephemeralKey: true,
      store,
      rateLimits: { perWallet: 2 },
    } as const;
    const a = createIssuer(options);
    const b = createIssuer(options);
    const servedA = await serve(a.router);
    const servedB = await serve(b.router);
    try {
      expect((await nonce(servedA.url, WALLET)).status).toBe(200);
      expect((await nonce(servedB.url, WALLET)).status).toBe(200);
      expect((await nonce(servedA.url, WALLET)).status).toBe(429);
      expect((await nonce(servedB.url, WALLET)).status).toBe(429);
    } finally {
      await closeServer(servedA.server);
      await closeServer(servedB.server);
      await store.close();
    }
  });

  test('rateLimits: false turns them off', async () => {
    const issuer = createIssuer({ issuer: 'i', audience: AUDIENCE, ephemeralKey: true, rateLimits: false });
    const { url, server } = await serve(issuer.router);
    try {
      for (let i = 0; i < 30; i += 1) expect((await nonce(url, WALLET)).status).toBe(200);
    } finally {
      await closeServer(server);
      await issuer.close();
    }
  });

  test.each([
    [{ perWallet: 0 }, 'rateLimits.perWallet'],
    [{ perClient: 1.5 }, 'rateLimits.perClient'],
    [{ windowSeconds: -1 }, 'rateLimits.windowSeconds'],
    [{ perWalet: 3 }, 'rateLimits.perWalet'],
    ['often', 'rateLimits'],
  ])('%j is refused at startup naming %s', (rateLimits, name) => {
    const make = () =>
      createIssuer({ issuer: 'i', audience: AUDIENCE, ephemeralKey: true, rateLimits: rateLimits as never });
    expect(make).toThrow(OptionsError);
    expect(make).toThrow(`"${name}"`);
  });
});
