/**
 * Diagnostics channels: decisions, cache lookups and key-set events published on
 * `node:diagnostics_channel`, with the payloads docs/diagnostics.md documents.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import {
  authErrorHandler,
  channels,
  createTokenGate,
  type CacheMessage,
  type DecisionMessage,
  type KeySetEvent,
  type OwnershipMessage,
  type OwnershipResolver,
} from '../../lib';
import { createTestIssuer } from '../../lib/testing';
import { APES_CONTRACT, AUDIENCE, ISSUER, WALLET, nowSeconds } from '../helpers/fixtures';
import { useTestIssuer } from '../helpers/harness';

const env = useTestIssuer();
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Collects what `name` publishes until the end of the test. */
function listen<T>(name: string): T[] {
  const seen: T[] = [];
  const onMessage = (message: unknown) => seen.push(message as T);
  subscribe(name, onMessage);
  subscriptions.push(() => unsubscribe(name, onMessage));
  return seen;
}
let subscriptions: (() => void)[] = [];
afterEach(() => {
  for (const done of subscriptions) done();
  subscriptions = [];
});

function app() {
  const gate = env.gate;
  const a = express();
  a.get('/auth', gate.requireAuth(), (_req, res) => res.end());
  a.get('/apes', gate.requireTokens(APES_CONTRACT, '1'), (_req, res) => res.end());
  a.get(
    '/ada',
    gate.requireClaims((c) => c.email === 'ada@example.org'),
    (_req, res) => res.end(),
  );
  a.get('/broken', gate.requireClaims((() => 'yes') as never), (_req, res) => res.end());
  a.get('/feed', gate.optionalAuth(), (_req, res) => res.end());
  a.use(authErrorHandler());
  a.use(((_err, _req, res, _next) => res.status(500).end()) as express.ErrorRequestHandler);
  return a;
}

describe('channel names', () => {
  test('are the documented express-token-gate:* names', () => {
    expect(channels).toEqual({
      decision: 'express-token-gate:decision',
      cache: 'express-token-gate:cache',
      jwks: 'express-token-gate:jwks',
      ownership: 'express-token-gate:ownership',
      revocationStore: 'express-token-gate:revocation-store',
    });
  });
});

describe('express-token-gate:decision: one message per decided request', () => {
  test('an accepted request names the middleware and the issuer', async () => {
    const decisions = listen<DecisionMessage>(channels.decision);
    await request(app())
      .get('/auth')
      .set(bearer(await env.issuer.sign()))
      .expect(200);
    expect(decisions).toEqual([{ outcome: 'accepted', source: 'requireAuth', issuer: ISSUER }]);
  });

  test('rejections carry their reason and status', async () => {
    const decisions = listen<DecisionMessage>(channels.decision);
    await request(app()).get('/auth').expect(401);
    await request(app())
      .get('/auth')
      .set(bearer(await env.issuer.sign({ exp: nowSeconds() - 60 })))
      .expect(401);
    await request(app())
      .get('/apes')
      .set(bearer(await env.issuer.sign()))
      .expect(403);
    await request(app())
      .get('/ada')
      .set(bearer(await env.issuer.sign()))
      .expect(403);
    expect(decisions).toEqual([
      { outcome: 'rejected', source: 'requireAuth', reason: 'token_missing', status: 401 },
      { outcome: 'rejected', source: 'requireAuth', reason: 'token_expired', status: 401 },
      { outcome: 'rejected', source: 'requireTokens', reason: 'insufficient_balance', status: 403 },
      { outcome: 'rejected', source: 'requireClaims', reason: 'claim_check_failed', status: 403 },
    ]);
  });

  test('optionalAuth without credentials is anonymous; an error that is not a rejection is an error', async () => {
    const decisions = listen<DecisionMessage>(channels.decision);
    await request(app()).get('/feed').expect(200);
    await request(app())
      .get('/broken')
      .set(bearer(await env.issuer.sign()))
      .expect(500);
    expect(decisions).toEqual([
      { outcome: 'anonymous', source: 'optionalAuth' },
      { outcome: 'error', source: 'requireClaims' },
    ]);
  });

  test('gate.verify publishes with source verify', async () => {
    const decisions = listen<DecisionMessage>(channels.decision);
    await env.gate.verify(await env.issuer.sign());
    await expect(env.gate.verify('garbage')).rejects.toMatchObject({ reason: 'token_malformed' });
    expect(decisions).toEqual([
      { outcome: 'accepted', source: 'verify', issuer: ISSUER },
      { outcome: 'rejected', source: 'verify', reason: 'token_malformed', status: 401 },
    ]);
  });
});

describe('express-token-gate:cache: one message per verified-token cache lookup', () => {
  test('a new token misses, the same token again hits', async () => {
    const lookups = listen<CacheMessage>(channels.cache);
    const token = await env.issuer.sign();
    await request(app()).get('/auth').set(bearer(token)).expect(200);
    await request(app()).get('/auth').set(bearer(token)).expect(200);
    expect(lookups).toEqual([{ hit: false }, { hit: true }]);
  });

  test('nothing is published with the cache turned off', async () => {
    const lookups = listen<CacheMessage>(channels.cache);
    const gate = createTokenGate({ ...env.issuer.options, cache: false });
    await gate.verify(await env.issuer.sign());
    expect(lookups).toEqual([]);
  });
});

describe('express-token-gate:jwks: key-set events', () => {
  test('a fetch and a failure are published with the onKeySetEvent payloads', async () => {
    const events = listen<KeySetEvent>(channels.jwks);
    const issuer = await createTestIssuer({ audience: AUDIENCE });
    const gate = createTokenGate({ ...issuer.options, jwks: { cooldownMs: 0 }, logger: false });
    await gate.verify(await issuer.sign());
    await issuer.close();
    await gate.keySet.reload();
    expect(events).toEqual([
      { type: 'fetched', uri: issuer.jwksUri, keys: 1, skipped: 0 },
      { type: 'failed', uri: issuer.jwksUri, error: expect.stringMatching(/ECONNREFUSED/), retryInMs: 1000 },
    ]);
  });
});

describe('express-token-gate:ownership: one message per resolver call', () => {
  test("names the resolver and whether it answered; a resolver without a name is 'custom'", async () => {
    const seen = listen<OwnershipMessage>(channels.ownership);
    const failing: OwnershipResolver = {
      resolve: () => Promise.reject(new Error('indexer down')),
    };
    const live = (resolver: OwnershipResolver) =>
      createTokenGate({ ...env.issuer.options, revalidate: { resolver, onResolverError: 'useToken' } });
    env.issuer.setBalances(WALLET, { [APES_CONTRACT]: '1' });
    const a = express();
    a.get('/answered', live(env.issuer.ownershipResolver()).requireTokens(APES_CONTRACT), (_req, res) => res.end());
    a.get('/failed', live(failing).requireTokens(APES_CONTRACT), (_req, res) => res.end());
    a.use(authErrorHandler());
    const token = await env.issuer.sign({ walletAddress: WALLET });
    await request(a).get('/answered').set(bearer(token)).expect(200);
    // The resolver fails; useToken lets the snapshot decide (it proves nothing: 403).
    await request(a).get('/failed').set(bearer(token)).expect(403);
    expect(seen).toEqual([
      { resolver: 'test-issuer', outcome: 'answered' },
      { resolver: 'custom', outcome: 'failed' },
    ]);
  });
});
