import express from 'express';
import request from 'supertest';
import { optionalAuth, requireAuth, requireTokens, createTokenGate, type TokenGateOptions } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT, AUDIENCE } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';

let issuer: TestIssuer;
let options: TokenGateOptions;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  options = { ...issuer.options };
});
afterAll(() => issuer.close());

describe('optionalAuth', () => {
  test('passes a request without credentials and attaches no wallet', async () => {
    const res = await request(appWith(optionalAuth(options))).get('/r');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ wallet: null });
  });

  test('attaches the wallet when a valid token is sent', async () => {
    const res = await request(appWith(optionalAuth(options)))
      .get('/r')
      .set('Authorization', `Bearer ${await issuer.sign()}`);
    expect(res.status).toBe(200);
    expect(res.body.wallet.chain).toBe('ethereum');
  });

  test('still rejects a bad token', async () => {
    const res = await request(appWith(optionalAuth(options)))
      .get('/r')
      .set('Authorization', `Bearer ${await issuer.sign({ aud: 'x' })}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('audience_mismatch');
  });

  test('still rejects a malformed header', async () => {
    const res = await request(appWith(optionalAuth(options)))
      .get('/r')
      .set('Authorization', 'Bearer');
    expect(res.status).toBe(400);
  });
});

describe('top-level factories', () => {
  test('requireAuth(options) and requireTokens(contract, min, options) work like the gate methods', async () => {
    const owner = await issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '2' } } });
    expect(
      (
        await request(appWith(requireAuth(options)))
          .get('/r')
          .set('Authorization', `Bearer ${owner}`)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(appWith(requireTokens(APES_CONTRACT, '2', options)))
          .get('/r')
          .set('Authorization', `Bearer ${owner}`)
      ).status,
    ).toBe(200);
    expect(
      (
        await request(appWith(requireTokens(APES_CONTRACT, '3', options)))
          .get('/r')
          .set('Authorization', `Bearer ${owner}`)
      ).status,
    ).toBe(403);
    const viaObject = requireTokens({ contractAddress: APES_CONTRACT, minTokenBalance: '2' }, options);
    expect((await request(appWith(viaObject)).get('/r').set('Authorization', `Bearer ${owner}`)).status).toBe(200);
  });

  test('requireTokens after requireAuth with the same options object reuses the verification', async () => {
    let verifications = 0;
    const counted: TokenGateOptions = {
      ...issuer.options,
      cache: false,
      isRevoked: () => ((verifications += 1), false),
    };
    const app = appWith(requireAuth(counted), requireTokens(APES_CONTRACT, '1', counted));
    const res = await request(app)
      .get('/r')
      .set(
        'Authorization',
        `Bearer ${await issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } })}`,
      );
    expect(res.status).toBe(200);
    expect(verifications).toBe(1);
  });

  test('bad options fail when the factory is called, not on the first request', () => {
    expect(() => requireAuth({ ...issuer.options, clockTolerance: -1 })).toThrow(/"clockTolerance"/);
    expect(() => requireTokens('not-an-address', '1', options)).toThrow(/"chain" is required/);
  });
});

describe('key sets are shared per jwksUri', () => {
  test('100 routes mounted with separate gates fetch the JWKS once', async () => {
    const fresh = await createTestIssuer({ audience: 'shared-project' });
    try {
      const app = express();
      for (let i = 0; i < 100; i += 1) {
        const gate = createTokenGate({ ...fresh.options });
        app.get(
          `/r${i}`,
          i % 2 ? gate.requireAuth() : requireTokens(APES_CONTRACT, '0', { ...fresh.options }),
          (_req, res) => res.send('ok'),
        );
      }
      const token = await fresh.sign({
        aud: 'shared-project',
        tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } },
      });
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_v, i) => request(app).get(`/r${i}`).set('Authorization', `Bearer ${token}`)),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(100).fill(200));
      expect(fresh.jwksHits).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});
