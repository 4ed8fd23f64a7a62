import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import { createTokenGate } from '../../lib';
import { nowSeconds } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';

// An issuer of our own that signs with ES384, to show the `algorithms` option opening another curve.
let server: http.Server;
let jwksUri: string;
let privateKey: CryptoKey;
beforeAll(async () => {
  const pair = await generateKeyPair('ES384', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'p384', alg: 'ES384', use: 'sig' };
  server = http.createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function es384Token(): Promise<string> {
  const now = nowSeconds();
  const claims = { walletAddress: '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8', iss: 'picketapi.com', aud: 'p', iat: now, exp: now + 600 };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims))).setProtectedHeader({ alg: 'ES384', kid: 'p384' }).sign(privateKey);
}

describe('algorithms option', () => {
  test('ES256 only by default: an ES384 token is refused as algorithm_not_allowed', async () => {
    const gate = createTokenGate({ audience: 'p', jwksUri });
    const res = await request(appWith(gate.requireAuth())).get('/r').set('Authorization', `Bearer ${await es384Token()}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('algorithm_not_allowed');
  });

  test('listing ES384 accepts a token signed with a published P-384 key', async () => {
    const gate = createTokenGate({ audience: 'p', jwksUri, algorithms: ['ES384'] });
    const res = await request(appWith(gate.requireAuth())).get('/r').set('Authorization', `Bearer ${await es384Token()}`);
    expect(res.status).toBe(200);
    expect(res.body.wallet.chain).toBe('ethereum');
  });
});
