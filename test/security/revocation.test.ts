/**
 * Attacks on logout. A revocation list that stores whatever it is handed lets anyone who knows a
 * victim's `tid` log the victim out (an unsigned token, a token of a foreign issuer, a `tid` and
 * `exp` of the attacker's choosing), and lets junk revocations crowd a real one out of a bounded
 * store. With several issuers on one gate, an identity without its issuer lets one issuer's logout
 * end another issuer's token. A session (`sid`) ends as a whole: one logout refuses every token of it.
 */
import express from 'express';
import request from 'supertest';
import {
  authErrorHandler,
  createRevocationList,
  createTokenGate,
  memoryRevocationStore,
  RevocationUnavailableError,
  type RevocationList,
  type RevocationStore,
} from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { AUDIENCE, encodeSegment, ISSUER, nowSeconds, OTHER_AUDIENCE, payloadOf } from '../helpers/fixtures';
import { logout, me, revocationApp, revokeRaw } from '../helpers/revocation';

let issuer: TestIssuer;
let foreign: TestIssuer;
beforeAll(async () => {
  [issuer, foreign] = await Promise.all([
    createTestIssuer({ audience: AUDIENCE }),
    // The same iss and audience as the real issuer, other keys: what an attacker can run.
    createTestIssuer({ audience: AUDIENCE }),
  ]);
});
afterAll(() => Promise.all([issuer.close(), foreign.close()]));

/** A memory store whose entries the test can count. */
function countedList(options: { maxEntries?: number } = {}) {
  const store = memoryRevocationStore(options);
  const list = createRevocationList({ store });
  return { list, store, app: revocationApp(issuer, list) };
}

describe('revoke(token) stores only a token the gate would accept', () => {
  /** Forged revocations of the victim's token, each as an attacker can write it. */
  const forgeries: [string, string, (victim: string) => Promise<string>][] = [
    [
      'an unsigned token (alg none) naming the victim’s tid',
      'algorithm_not_allowed',
      async (victim) => `${encodeSegment({ alg: 'none' })}.${encodeSegment(payloadOf(victim))}.`,
    ],
    [
      'the victim’s tid with an exp of the attacker’s choosing, under a borrowed signature',
      'signature_invalid',
      async (victim) => {
        const [header, , signature] = victim.split('.');
        return `${header}.${encodeSegment({ ...payloadOf(victim), exp: nowSeconds() + 600 })}.${signature}`;
      },
    ],
    [
      'a token signed by another key under the same iss',
      'key_not_found',
      async (victim) => foreign.sign({ tid: payloadOf(victim).tid as string }),
    ],
    [
      'a token of a foreign iss',
      'issuer_mismatch',
      async (victim) => issuer.sign({ iss: 'evil.example', tid: payloadOf(victim).tid as string }),
    ],
    [
      'a genuine token with the victim’s tid, for another project',
      'audience_mismatch',
      async (victim) => issuer.sign({ aud: OTHER_AUDIENCE, tid: payloadOf(victim).tid as string }),
    ],
  ];

  test.each(forgeries)(
    '%s is refused (401 %s); nothing is stored and the victim stays logged in',
    async (_what, reason, forge) => {
      const { app, store } = countedList();
      const victim = await issuer.sign();
      expect((await me(app, victim)).status).toBe(200);
      const res = await revokeRaw(app, await forge(victim));
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe(reason);
      expect(store.size).toBe(0);
      expect((await me(app, victim)).status).toBe(200);
    },
  );

  test('the genuine token is revoked by its string (an admin revoking a leaked token)', async () => {
    const { app, store } = countedList();
    const token = await issuer.sign();
    await revokeRaw(app, token).expect(204);
    expect(store.size).toBe(1);
    expect((await me(app, token)).body.reason).toBe('token_revoked');
  });

  test('a list no gate uses refuses a token string, saying to give the list to a gate', async () => {
    const list = createRevocationList();
    await expect(list.revoke(await issuer.sign())).rejects.toThrow(
      /createTokenGate\(\{[^)]*isRevoked: list\.isRevoked/,
    );
  });
});

describe('revoke(claims) takes only the claims a gate verified', () => {
  test.each<[string, (claims: Record<string, unknown>) => unknown]>([
    ['a plain object with tid and exp', (claims) => ({ iss: claims.iss, tid: claims.tid, exp: claims.exp })],
    ['a copy of the verified claims (spread)', (claims) => ({ ...claims })],
    ['the verified claims through JSON (a request body)', (claims) => JSON.parse(JSON.stringify(claims))],
    ['an object whose prototype is the verified claims', (claims) => Object.create(claims)],
  ])('%s is refused with a TypeError and stores nothing', async (_what, forge) => {
    const { list, store } = countedList();
    const gate = createTokenGate({ ...issuer.options, isRevoked: list.isRevoked });
    const claims = await gate.verify(await issuer.sign());
    await expect(list.revoke(forge(claims) as never)).rejects.toThrow(TypeError);
    expect(store.size).toBe(0);
    await list.revoke(claims);
    expect(store.size).toBe(1);
  });
});

describe('a full memory store never forgets a logout', () => {
  test('junk revocations cannot crowd a real one out: they are refused, and the logout holds', async () => {
    const { app, store } = countedList({ maxEntries: 2 });
    const victim = await issuer.sign();
    await logout(app, victim).expect(204);
    const [header, , signature] = victim.split('.');
    for (let i = 0; i < 20; i++) {
      const junk = `${header}.${encodeSegment({ ...payloadOf(victim), tid: `junk-${i}` })}.${signature}`;
      expect((await revokeRaw(app, junk)).status).toBe(401);
    }
    expect(store.size).toBe(1);
    expect((await me(app, victim)).body.reason).toBe('token_revoked');
  });

  test('when full of live revocations, the next revoke fails loudly (503) and every earlier one still holds', async () => {
    const { app, list, store } = countedList({ maxEntries: 2 });
    const [first, second, third] = await Promise.all([issuer.sign(), issuer.sign(), issuer.sign()]);
    await logout(app, first).expect(204);
    await logout(app, second).expect(204);
    const res = await logout(app, third);
    expect(res.status).toBe(503);
    expect(res.body.reason).toBe('revocation_unavailable');
    const error: unknown = await list.revoke(third).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RevocationUnavailableError);
    expect(String((error as Error).cause)).toMatch(/full.*maxEntries 2/);
    expect(store.size).toBe(2);
    for (const token of [first, second]) expect((await me(app, token)).body.reason).toBe('token_revoked');
    // Revoking again what is already there needs no room.
    await expect(list.revoke(first)).resolves.toBeUndefined();
  });
});

describe('identities are scoped by issuer (several issuers on one gate)', () => {
  let staging: TestIssuer;
  beforeAll(async () => {
    staging = await createTestIssuer({ audience: 'staging-project', issuer: 'staging.example' });
  });
  afterAll(() => staging.close());

  function twoIssuerApp(list: RevocationList) {
    const gate = createTokenGate({
      issuers: [
        { issuer: ISSUER, audience: AUDIENCE, jwksUri: issuer.jwksUri },
        { issuer: 'staging.example', audience: 'staging-project', jwksUri: staging.jwksUri },
      ],
      isRevoked: list.isRevoked,
    });
    const app = express();
    app.get('/me', gate.requireAuth(), (_req, res) => {
      res.json({});
    });
    app.post('/logout', gate.requireAuth(), async (req, res, next) => {
      try {
        await list.revoke(req.wallet!.claims);
        res.sendStatus(204);
      } catch (error) {
        next(error);
      }
    });
    app.post('/revoke', express.json(), async (req, res, next) => {
      try {
        await list.revoke(req.body.token);
        res.sendStatus(204);
      } catch (error) {
        next(error);
      }
    });
    app.use(authErrorHandler());
    return app;
  }

  test.each(['logout', 'revoke(token)'] as const)(
    "one issuer's logout (%s) leaves another issuer's token with the same tid alone",
    async (how) => {
      const app = twoIssuerApp(createRevocationList());
      const prodToken = await issuer.sign({ tid: 'shared-tid' });
      const stagingToken = await staging.sign({ tid: 'shared-tid' });
      if (how === 'logout') await logout(app, stagingToken).expect(204);
      else await request(app).post('/revoke').send({ token: stagingToken }).expect(204);
      expect((await me(app, stagingToken)).body.reason).toBe('token_revoked');
      expect((await me(app, prodToken)).status).toBe(200);
    },
  );

  test('a logout ends the session: every token of its sid is refused; another sid and another issuer’s same sid pass', async () => {
    const app = twoIssuerApp(createRevocationList());
    const [first, upgraded, otherSession, otherIssuer] = await Promise.all([
      issuer.sign({ sid: 'session-1' }),
      issuer.sign({ sid: 'session-1' }),
      issuer.sign({ sid: 'session-2' }),
      staging.sign({ sid: 'session-1' }),
    ]);
    expect(payloadOf(first).tid).not.toBe(payloadOf(upgraded).tid);
    for (const token of [first, upgraded, otherSession, otherIssuer]) expect((await me(app, token)).status).toBe(200);
    await logout(app, first).expect(204);
    expect((await me(app, first)).body.reason).toBe('token_revoked');
    expect((await me(app, upgraded)).body.reason).toBe('token_revoked');
    expect((await me(app, otherSession)).status).toBe(200);
    expect((await me(app, otherIssuer)).status).toBe(200);
  });

  test('a session entry lives as long as the longest token of the session could (now + maxTokenLifetime + 2 × clockTolerance)', async () => {
    const added: [string, number][] = [];
    const inner = memoryRevocationStore();
    const store: RevocationStore = {
      add: (id, expiresAt) => (added.push([id, expiresAt]), inner.add(id, expiresAt)),
      has: (id, expiresAt) => inner.has(id, expiresAt),
      close: () => inner.close(),
    };
    const list = createRevocationList({ store });
    const gate = createTokenGate({ ...issuer.options, isRevoked: list.isRevoked });
    const token = await issuer.sign({ sid: 'session-1' }, { expiresIn: 60 });
    const before = Date.now();
    await list.revoke(await gate.verify(token));
    const session = added.find(([id]) => id.endsWith('|sid:session-1'));
    expect(session).toBeDefined();
    expect(session![1]).toBeGreaterThanOrEqual(before + (86_400 + 2 * 5) * 1000);
    const own = added.find(([id]) => id.endsWith(`|tid:${payloadOf(token).tid as string}`));
    expect(own![1]).toBe(((payloadOf(token).exp as number) + 5) * 1000);
  });
});
