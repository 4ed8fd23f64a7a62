import request from 'supertest';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { createTokenGate } from '../../lib';
import { AUDIENCE, ISSUER, nowSeconds, WALLET } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server';

// An issuer of our own that signs with ES384, to show the `algorithms` option opening another curve.
let server: JwksServer;
let jwksUri: string;
let privateKey: CryptoKey;
beforeAll(async () => {
  const pair = await generateKeyPair('ES384', { extractable: true });
  privateKey = pair.privateKey;
  server = await startJwksServer({
    keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'p384', alg: 'ES384', use: 'sig' }],
  });
  jwksUri = server.uri;
});
afterAll(() => server.close());

async function es384Token(): Promise<string> {
  const now = nowSeconds();
  const claims = { walletAddress: WALLET, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'ES384', kid: 'p384' })
    .sign(privateKey);
}

describe('algorithms option', () => {
  test('ES256 only by default: an ES384 token is refused as algorithm_not_allowed', async () => {
    const gate = createTokenGate({ audience: AUDIENCE, jwksUri });
    const res = await request(appWith(gate.requireAuth()))
      .get('/r')
      .set('Authorization', `Bearer ${await es384Token()}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('algorithm_not_allowed');
  });

  test('listing ES384 accepts a token signed with a published P-384 key', async () => {
    const gate = createTokenGate({ audience: AUDIENCE, jwksUri, algorithms: ['ES384'] });
    const res = await request(appWith(gate.requireAuth()))
      .get('/r')
      .set('Authorization', `Bearer ${await es384Token()}`);
    expect(res.status).toBe(200);
    expect(res.body.wallet.chain).toBe('ethereum');
  });
});
