/**
 * Wallet login against the emulator, with real secp256k1 signatures from generated wallets and
 * picket-js's own requests (./picket-js.ts): SIWE and simple messages, and every refusal.
 */
import express from 'express';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { authErrorHandler, createTokenGate } from '../../../lib';
import { createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { PicketJs, createSigningMessage, type BrowserWallet } from './picket-js';
import { APES_CONTRACT, AUDIENCE, ISSUER } from '../../helpers/fixtures';

const PAGE = 'http://localhost:5173';

const newWallet = (): BrowserWallet => privateKeyToAccount(generatePrivateKey());

let issuer: TestIssuer;
let picket: PicketJs;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  picket = new PicketJs(AUDIENCE, { baseURL: issuer.apiUrl, origin: PAGE });
});
afterAll(() => issuer.close());

/** Runs the login steps by hand, signing `message(nonce)` with `signer`. */
async function loginSigning(
  wallet: BrowserWallet,
  signer: BrowserWallet,
  context = {
    domain: 'localhost:5173',
    uri: PAGE,
    chainId: 1,
    issuedAt: new Date().toISOString(),
    chainType: 'ethereum',
  },
) {
  const { nonce, statement } = await picket.nonce({ walletAddress: wallet.address });
  const message = createSigningMessage({ format: 'siwe', nonce, statement, walletAddress: wallet.address, ...context });
  const signature = await signer.signMessage({ message });
  return { chain: 'ethereum', walletAddress: wallet.address, signature, context };
}

describe('login with a SIWE (EIP-4361) message, as picket-js performs it', () => {
  test('a generated wallet signs in and gets { accessToken, user } for its address', async () => {
    const wallet = newWallet();
    const state = await picket.login(wallet);
    expect(state.user).toEqual({ chain: 'ethereum', walletAddress: wallet.address, displayAddress: wallet.address });
    expect(decodeJwt(state.accessToken)).toMatchObject({ walletAddress: wallet.address, aud: AUDIENCE, iss: ISSUER });
  });

  test('the token it gets passes a gate built from issuer.options', async () => {
    const wallet = newWallet();
    const gate = createTokenGate(issuer.options);
    const app = express().get('/me', gate.requireAuth(), (req, res) => res.json({ address: req.wallet!.address }));
    app.use(authErrorHandler());
    const { accessToken } = await picket.login(wallet);
    await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${accessToken}`)
      .expect(200, { address: wallet.address.toLowerCase() });
  });

  test('the nonce answer announces the SIWE format and the statement to sign', async () => {
    const answer = await picket.nonce({ walletAddress: newWallet().address });
    expect(answer).toEqual({
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
      statement: 'Sign in with your wallet to test-project',
      format: 'siwe',
    });
  });

  test('works on another EVM chain the issuer knows, with that chain id', async () => {
    const state = await picket.login(newWallet(), { chain: 'polygon' });
    expect(state.user.chain).toBe('polygon');
  });

  test('login requirements are proven from the balance table in the same step', async () => {
    const wallet = newWallet();
    issuer.setBalances(wallet.address, { [APES_CONTRACT]: '2' });
    const state = await picket.login(wallet, { requirements: { contractAddress: APES_CONTRACT } });
    expect(state.user.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '2' } });
    await expect(picket.login(newWallet(), { requirements: { contractAddress: APES_CONTRACT } })).rejects.toMatchObject(
      {
        code: 'insufficient_balance',
        msg: expect.any(String),
        requirements: { chain: 'ethereum', contractAddress: APES_CONTRACT, minTokenBalance: '0' },
      },
    );
  });
});

describe('login with the simple message format', () => {
  test('an issuer with login.format "simple" announces it and verifies "<statement>\\n\\nAddress: …\\nNonce: …"', async () => {
    const simple = await createTestIssuer({
      audience: AUDIENCE,
      login: { format: 'simple', statement: 'Sign in to the demo' },
    });
    try {
      const client = new PicketJs(AUDIENCE, { baseURL: simple.apiUrl, origin: PAGE });
      const wallet = newWallet();
      expect(await client.nonce({ walletAddress: wallet.address })).toMatchObject({
        format: 'simple',
        statement: 'Sign in to the demo',
      });
      const state = await client.login(wallet);
      expect(state.user.walletAddress).toBe(wallet.address);
    } finally {
      await simple.close();
    }
  });
});

describe('login refusals answer { code, msg }', () => {
  test('401 signature_invalid when another wallet signed the message', async () => {
    const wallet = newWallet();
    const body = await loginSigning(wallet, newWallet());
    await expect(picket.auth(body)).rejects.toMatchObject({
      code: 'signature_invalid',
      msg: expect.any(String),
      error: 'access_denied',
    });
  });

  test('401 signature_invalid for bytes that are no signature', async () => {
    const wallet = newWallet();
    const body = await loginSigning(wallet, wallet);
    await expect(picket.auth({ ...body, signature: `0x${'00'.repeat(65)}` })).rejects.toMatchObject({
      code: 'signature_invalid',
    });
  });

  test('401 nonce_invalid when a signed login is replayed', async () => {
    const wallet = newWallet();
    const body = await loginSigning(wallet, wallet);
    await picket.auth(body);
    await expect(picket.auth(body)).rejects.toMatchObject({ code: 'nonce_invalid', msg: expect.any(String) });
  });

  test('a refused attempt spends no nonce: the wallet still logs in with it', async () => {
    const wallet = newWallet();
    const body = await loginSigning(wallet, wallet);
    await expect(picket.auth({ ...body, signature: `0x${'11'.repeat(65)}` })).rejects.toMatchObject({
      code: 'signature_invalid',
    });
    await expect(picket.auth(body)).resolves.toMatchObject({ user: { walletAddress: wallet.address } });
  });

  test('401 nonce_invalid when no nonce was asked for', async () => {
    const wallet = newWallet();
    const message = createSigningMessage({
      format: 'simple',
      nonce: 'made-up',
      statement: 'x',
      walletAddress: wallet.address,
    });
    await expect(
      picket.auth({ walletAddress: wallet.address, signature: await wallet.signMessage({ message }) }),
    ).rejects.toMatchObject({ code: 'nonce_invalid' });
  });

  test('401 domain_not_allowed for a message signed for another site', async () => {
    await expect(
      picket.login(newWallet(), { context: { domain: 'evil.example', uri: 'https://evil.example' } }),
    ).rejects.toMatchObject({
      code: 'domain_not_allowed',
      msg: expect.any(String),
    });
  });

  test('401 issued_at_too_old for a message issued long before the nonce', async () => {
    const issuedAt = new Date(Date.now() - 3600_000).toISOString();
    await expect(picket.login(newWallet(), { context: { issuedAt } })).rejects.toMatchObject({
      code: 'issued_at_too_old',
    });
  });

  test('401 nonce_expired once the nonce outlived login.nonceTtlSeconds', async () => {
    const strict = await createTestIssuer({ audience: AUDIENCE, login: { nonceTtlSeconds: 0 } });
    try {
      const client = new PicketJs(AUDIENCE, { baseURL: strict.apiUrl, origin: PAGE });
      await expect(client.login(newWallet())).rejects.toMatchObject({ code: 'nonce_expired' });
    } finally {
      await strict.close();
    }
  });

  test("401 chain_id_mismatch for a chain id that is not the chain's, 400 context_invalid without a context", async () => {
    await expect(picket.login(newWallet(), { context: { chainId: 5 } })).rejects.toMatchObject({
      code: 'chain_id_mismatch',
      error: 'access_denied',
    });
    const wallet = newWallet();
    const { context: _dropped, ...withoutContext } = await loginSigning(wallet, wallet);
    await expect(picket.auth(withoutContext)).rejects.toMatchObject({
      code: 'context_invalid',
      error: 'invalid_request',
    });
  });

  test('an issuedAt in any RFC 3339 form logs in; one from long ago is issued_at_too_old', async () => {
    const withoutMs = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await expect(picket.login(newWallet(), { context: { issuedAt: withoutMs } })).resolves.toMatchObject({
      user: { chain: 'ethereum' },
    });
    await expect(picket.login(newWallet(), { context: { issuedAt: '2024-01-01T00:00:00Z' } })).rejects.toMatchObject({
      code: 'issued_at_too_old',
    });
  });

  test('a Solana wallet gets a nonce; a chain the issuer does not know is 400 chain_not_supported', async () => {
    await expect(
      picket.nonce({ walletAddress: '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU', chain: 'solana' }),
    ).resolves.toMatchObject({ nonce: expect.any(String), format: 'siwe' });
    await expect(
      picket.nonce({ walletAddress: '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU', chain: 'bitcoin' }),
    ).rejects.toMatchObject({ code: 'chain_not_supported' });
  });

  test('400 request_invalid for a wallet that is not an address, signature_malformed for a signature that is not hex', async () => {
    await expect(picket.nonce({ walletAddress: 'me' })).rejects.toMatchObject({ code: 'request_invalid' });
    await expect(picket.auth({ walletAddress: newWallet().address, signature: 'signed!' })).rejects.toMatchObject({
      code: 'signature_malformed',
    });
  });
});

describe('garbage login requests end in a 4xx with { code, msg }, never a crash', () => {
  test.each([
    ['a body that is a list', '/auth', []],
    ['a wallet that is a number', '/auth/nonce', { walletAddress: 42 }],
    [
      'a chain that is an object',
      '/auth/nonce',
      { walletAddress: '0x7777777777777777777777777777777777777777', chain: {} },
    ],
    [
      'a 60 kB signature',
      '/auth',
      { walletAddress: '0x7777777777777777777777777777777777777777', signature: `0x${'a'.repeat(60_000)}` },
    ],
    [
      'requirements that are a string',
      '/auth',
      { walletAddress: '0x7777777777777777777777777777777777777777', signature: '0x00', requirements: 'apes' },
    ],
    ['a context whose uri is no URL', '/auth', 'CONTEXT'],
  ])('%s', async (_name, path, body) => {
    let payload: unknown = body;
    if (body === 'CONTEXT') {
      const wallet = newWallet();
      const signed = await loginSigning(wallet, wallet);
      payload = { ...signed, context: { ...signed.context, uri: 'not a uri' } };
    }
    const response = await fetch(`${issuer.apiUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.json()).toMatchObject({ code: expect.any(String), msg: expect.any(String) });
  });
});

describe('login.domains', () => {
  test('only the listed hosts may be named by SIWE messages', async () => {
    const hosted = await createTestIssuer({
      audience: AUDIENCE,
      login: { domains: ['app.example'] },
      cors: { origins: ['https://app.example', PAGE] },
    });
    try {
      const site = new PicketJs(AUDIENCE, { baseURL: hosted.apiUrl, origin: 'https://app.example' });
      await expect(site.login(newWallet())).resolves.toMatchObject({ user: { chain: 'ethereum' } });
      const local = new PicketJs(AUDIENCE, { baseURL: hosted.apiUrl, origin: PAGE });
      await expect(local.login(newWallet())).rejects.toMatchObject({ code: 'domain_not_allowed' });
    } finally {
      await hosted.close();
    }
  });
});
