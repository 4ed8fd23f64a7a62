/**
 * The emulated API's surface: the same routes at the root and under /api/v1, chain information,
 * and `{ code, msg }` (plus the RFC 6750-style fields) on every error.
 */
import { TEST_WALLET, createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { APES_CONTRACT, AUDIENCE } from '../../helpers/fixtures';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterAll(() => issuer.close());

const post = (path: string, body: unknown) =>
  fetch(`${issuer.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('every route is served at / and under /api/v1', () => {
  test.each(['', '/api/v1'])('prefix "%s"', async (prefix) => {
    const token = await issuer.sign();
    expect((await fetch(`${issuer.url}${prefix}/.well-known/jwks.json`)).status).toBe(200);
    expect((await fetch(`${issuer.url}${prefix}/chains/ethereum`)).status).toBe(200);
    expect(
      (await post(`${prefix}/auth/nonce`, { walletAddress: '0x7777777777777777777777777777777777777777' })).status,
    ).toBe(200);
    expect((await post(`${prefix}/auth/validate`, { accessToken: token })).status).toBe(200);
    expect(
      (await post(`${prefix}/authz`, { accessToken: token, requirements: { allowedWallets: [TEST_WALLET] } })).status,
    ).toBe(200);
    const ownership = await post(
      `${prefix}/chains/ethereum/wallets/0x7777777777777777777777777777777777777777/tokenOwnership`,
      {
        contractAddress: APES_CONTRACT,
      },
    );
    expect(ownership.status).toBe(200);
  });
});

describe('chains', () => {
  test('GET /chains lists the chains in { data }, GET /chains/{chain} describes one as picket-js reads it', async () => {
    const list = await (await fetch(`${issuer.apiUrl}/chains`)).json();
    expect(list.data.map((c: { chainSlug: string }) => c.chainSlug)).toEqual(
      expect.arrayContaining(['ethereum', 'polygon', 'solana']),
    );
    expect(await (await fetch(`${issuer.apiUrl}/chains/ethereum`)).json()).toEqual({
      chainSlug: 'ethereum',
      chainId: 1,
      chainType: 'ethereum',
      chainName: 'Ethereum',
      publicRPC: expect.any(String),
      authorizationSupported: true,
    });
  });

  test('an unknown chain is a 404 chain_not_found', async () => {
    const response = await fetch(`${issuer.apiUrl}/chains/nowhere`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'chain_not_found', msg: expect.any(String) });
  });
});

describe('errors carry { code, msg } and the RFC 6750-style fields', () => {
  test('404 not_found for a path the issuer does not serve', async () => {
    const response = await fetch(`${issuer.apiUrl}/oauth2/token`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      code: 'not_found',
      msg: expect.any(String),
      error: 'not_found',
      error_description: expect.any(String),
      reason: 'not_found',
    });
  });

  test('405 method_not_allowed with Allow for a known path and another method', async () => {
    const response = await fetch(`${issuer.apiUrl}/authz`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    expect(await response.json()).toMatchObject({ code: 'method_not_allowed' });
  });

  test('400 request_invalid for a body that is not a JSON object', async () => {
    for (const body of ['{', '[1]', 'null']) {
      const response = await post('/auth/validate', body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        code: 'request_invalid',
        msg: expect.any(String),
        error: 'invalid_request',
      });
    }
  });

  test('400 requirements_invalid names the requirement field', async () => {
    const response = await post('/authz', {
      accessToken: await issuer.sign(),
      requirements: { contractAddress: 'nope' },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      code: 'requirements_invalid',
      msg: expect.stringContaining('"contractAddress"'),
    });
  });

  test('400 for a revalidate that is not a boolean', async () => {
    const response = await post('/authz', {
      accessToken: await issuer.sign(),
      requirements: { contractAddress: APES_CONTRACT },
      revalidate: 'yes',
    });
    expect(response.status).toBe(400);
  });

  test('answers are never cached, except the key set', async () => {
    expect((await post('/auth/validate', { accessToken: await issuer.sign() })).headers.get('cache-control')).toBe(
      'no-store',
    );
    expect((await fetch(`${issuer.apiUrl}/.well-known/jwks.json`)).headers.get('cache-control')).toBe(
      'public, max-age=300',
    );
  });
});

describe('requirements that ask for nothing', () => {
  test.each([
    ['absent', undefined, 200],
    ['null', null, 200],
    ['{}', {}, 200],
    ['a balance the token does not prove', { contractAddress: APES_CONTRACT }, 403],
    ['a minimum of nothing named', { minTokenBalance: '2' }, 400],
  ])('/auth/validate with requirements %s (%j): %d', async (_name, requirements, expected) => {
    const response = await post('/auth/validate', { accessToken: await issuer.sign(), requirements });
    expect(response.status).toBe(expected);
  });
});
