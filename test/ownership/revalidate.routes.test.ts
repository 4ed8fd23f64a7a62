/**
 * `revalidate` decides requireTokens on the wallet's current holdings; routes choose per route.
 */
import express from 'express';
import request from 'supertest';
import { authErrorHandler, createTokenGate, requireAuth, requireTokens, type OwnershipResolver } from '../../lib';
import { APES_CONTRACT, OTHER_WALLET, WALLET } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';
import { get, useLiveEnv } from '../helpers/live';

const env = useLiveEnv();
const live = () => ({ revalidate: { resolver: env.resolver() } });

beforeEach(() => env.server.hold(WALLET, APES_CONTRACT, '1'));

describe('a gate with revalidate', () => {
  test('opens requireTokens to a plain login token when the wallet holds now', async () => {
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })), await env.login()).expect(200);
    expect(env.server.requests.at(-1)!.body).toMatchObject({ contractAddress: APES_CONTRACT, minTokenBalance: '0' });
  });

  test('closes it to a token that proved a balance the wallet no longer holds (sold after signing)', async () => {
    env.server.hold(WALLET, APES_CONTRACT, '0');
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    const res = await get(
      appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })),
      await env.holding('1'),
    ).expect(403);
    expect(res.body.reason).toBe('insufficient_balance');
  });

  test('the live 403 is the same insufficient_scope challenge, with the same requirements, as the snapshot 403', async () => {
    env.server.hold(WALLET, APES_CONTRACT, '1');
    const requirement = { contractAddress: APES_CONTRACT, minTokenBalance: '2' };
    const livegate = createTokenGate({ ...env.issuer.options, ...live() });
    const snapshot = createTokenGate(env.issuer.options);
    const token = await env.holding('1');
    const fromLive = await get(appWith(livegate.requireTokens(requirement)), token).expect(403);
    const fromSnapshot = await get(appWith(snapshot.requireTokens(requirement)), token).expect(403);
    for (const res of [fromLive, fromSnapshot]) {
      expect(res.headers['www-authenticate']).toMatch(
        /^Bearer realm="api", error="insufficient_scope", error_description="/,
      );
      expect(res.body).toMatchObject({ error: 'insufficient_scope', reason: 'insufficient_balance' });
      expect(res.body.requirements).toEqual({
        chain: 'ethereum',
        contractAddress: APES_CONTRACT,
        minTokenBalance: '2',
      });
    }
    expect(fromLive.body.error_description).toBe('The wallet does not hold the required balance');
  });

  test('every requireTokens of the gate revalidates; requireAuth never asks', async () => {
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    const before = env.server.calls;
    const login = await env.login();
    await get(appWith(gate.requireAuth()), login).expect(200);
    expect(env.server.calls).toBe(before);
    await get(appWith(gate.requireTokens(APES_CONTRACT, '1')), login).expect(200);
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: ['7'] })), login).expect(403);
    expect(env.server.calls).toBe(before + 2);
  });
});

describe('per-route choice', () => {
  test('{ revalidate: false } lets the snapshot decide on a revalidating gate, without asking', async () => {
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    const before = env.server.calls;
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }, { revalidate: false }));
    await get(app, await env.login()).expect(403);
    env.server.hold(WALLET, APES_CONTRACT, '0');
    await get(app, await env.holding('1')).expect(200);
    const shorthand = appWith(gate.requireTokens(APES_CONTRACT, '1', { revalidate: false }));
    await get(shorthand, await env.login()).expect(403);
    expect(env.server.calls).toBe(before);
  });

  test('{ revalidate: { resolver } } turns it on for one route of a gate without it', async () => {
    const gate = createTokenGate(env.issuer.options);
    const login = await env.login();
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })), login).expect(403);
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }, live())), login).expect(200);
    await get(appWith(gate.requireTokens(APES_CONTRACT, '1', live())), login).expect(200);
  });

  test("a route's own revalidate replaces the gate's (here: another resolver)", async () => {
    const never: OwnershipResolver = { resolve: async () => ({ balance: '0' }) };
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: never } });
    const login = await env.login();
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })), login).expect(403);
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT }, live())), login).expect(200);
  });

  test('a gate without revalidate never asks', async () => {
    const gate = createTokenGate(env.issuer.options);
    const before = env.server.calls;
    await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })), await env.holding('1')).expect(200);
    expect(env.server.calls).toBe(before);
  });

  test('the top-level requireTokens takes revalidate among its gate options, shared with requireAuth', async () => {
    const options = { ...env.issuer.options, ...live() };
    const app = express();
    app.get('/r', requireAuth(options), requireTokens({ contractAddress: APES_CONTRACT }, options), (req, res) =>
      res.json({ ok: true }),
    );
    app.get('/s', requireTokens(APES_CONTRACT, '1', options), (req, res) => res.json({ ok: true }));
    app.use(authErrorHandler());
    const login = await env.login();
    await get(app, login).expect(200);
    await get(app, login, '/s').expect(200);
    env.server.hold(WALLET, APES_CONTRACT, '0');
    await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${await env.holding('1')}`)
      .expect(200); // cached for maxAgeMs
  });
});

describe('who the wallet is still comes from the token', () => {
  test('a wallet on another chain is refused with chain_mismatch, and nothing is asked', async () => {
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    const before = env.server.calls;
    const polygon = await env.issuer.sign({ walletAddress: WALLET, chain: 'polygon' });
    const res = await get(appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })), polygon).expect(403);
    expect(res.body.reason).toBe('chain_mismatch');
    expect(env.server.calls).toBe(before);
  });

  test('allowedWallets is checked on the token: another wallet holding now is still refused', async () => {
    env.server.hold(OTHER_WALLET, APES_CONTRACT, '5');
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    const app = appWith(gate.requireTokens({ contractAddress: APES_CONTRACT, allowedWallets: [WALLET] }));
    const res = await get(app, await env.login(OTHER_WALLET)).expect(403);
    expect(res.body.reason).toBe('wallet_not_allowed');
    await get(app, await env.login()).expect(200);
  });

  test('a requirement on allowedWallets alone asks nothing', async () => {
    const gate = createTokenGate({ ...env.issuer.options, ...live() });
    const before = env.server.calls;
    await get(appWith(gate.requireTokens({ allowedWallets: [WALLET] })), await env.login()).expect(200);
    expect(env.server.calls).toBe(before);
  });

  test("a resolver's allowed: false refuses even a balance that meets the minimum", async () => {
    const vetoing: OwnershipResolver = { resolve: async () => ({ balance: '9', allowed: false }) };
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: vetoing } });
    const res = await get(
      appWith(gate.requireTokens({ contractAddress: APES_CONTRACT })),
      await env.holding('9'),
    ).expect(403);
    expect(res.body.reason).toBe('insufficient_balance');
  });

  test('the resolver is asked about the requirement and the wallet of the token', async () => {
    const asked: unknown[] = [];
    const recording: OwnershipResolver = {
      resolve: async ({ chain, walletAddress, requirements }) => {
        asked.push({ chain, walletAddress, requirements });
        return { balance: '1' };
      },
    };
    const gate = createTokenGate({ ...env.issuer.options, revalidate: { resolver: recording } });
    await get(
      appWith(gate.requireTokens({ contractAddress: APES_CONTRACT, tokenIds: [7, '8'], minTokenBalance: 1 })),
      await env.login(),
    ).expect(200);
    expect(asked).toEqual([
      {
        chain: 'ethereum',
        walletAddress: WALLET,
        requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, tokenIds: ['7', '8'], minTokenBalance: '1' },
      },
    ]);
  });
});
