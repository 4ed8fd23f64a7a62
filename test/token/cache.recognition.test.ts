/** A token that verified once is recognised on later requests without another signature check. */
import { APES_CONTRACT, encodeSegment, OTHER_WALLET, payloadOf } from '../helpers/fixtures';
import { crowdKeySet, type Fixture, get, setUp } from '../helpers/cache';

let fx: Fixture;
afterEach(() => fx?.issuer.close());

describe('a verified token is recognised without verifying it again', () => {
  test('a second request with the same token is accepted after the signing key left the key set', async () => {
    fx = await setUp();
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    await crowdKeySet(fx.issuer);
    const again = await get(fx.app, token);
    expect(again.status).toBe(200);
    expect(again.body.address).toBe('0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8');
  });

  test('a token first seen after the key left the key set is verified, and so rejected', async () => {
    fx = await setUp();
    const token = await fx.sign();
    await crowdKeySet(fx.issuer);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_not_found');
  });

  test('gate.verify shares the cache with the middleware', async () => {
    fx = await setUp();
    const token = await fx.sign();
    await fx.gate.verify(token);
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, token)).status).toBe(200);
  });

  test('optionalAuth recognises a cached token too', async () => {
    fx = await setUp();
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    await crowdKeySet(fx.issuer);
    const res = await get(fx.app, token, '/feed');
    expect(res.status).toBe(200);
    expect(res.body.address).toBe('0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8');
  });
});

describe('cache: false verifies every time', () => {
  test('a second request with the same token needs the signing key again', async () => {
    fx = await setUp({ cache: false });
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    await crowdKeySet(fx.issuer);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_not_found');
  });
});

describe('only the exact token string is recognised', () => {
  test('a cached token with an altered signature is verified, and rejected', async () => {
    fx = await setUp();
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    const dot = token.lastIndexOf('.');
    const signature = token.slice(dot + 1);
    // Swap two distinct characters in the middle: same length, same alphabet, another signature.
    const i = [...signature].findIndex((c, k) => k > 10 && c !== signature[k + 1]);
    const altered =
      token.slice(0, dot + 1) + signature.slice(0, i) + signature[i + 1] + signature[i] + signature.slice(i + 2);
    expect(altered).not.toBe(token);
    const res = await get(fx.app, altered);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('signature_invalid');
  });

  test("a token sharing the cached token's signature but carrying another payload is rejected", async () => {
    fx = await setUp();
    const token = await fx.sign({ walletAddress: '0x1111111111111111111111111111111111111111' });
    expect((await get(fx.app, token)).status).toBe(200);
    const [header, , signature] = token.split('.');
    const payload = encodeSegment({ ...payloadOf(token), walletAddress: OTHER_WALLET });
    const res = await get(fx.app, `${header}.${payload}.${signature}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('signature_invalid');
  });
});

describe('ownership is checked on every request, cached or not', () => {
  test('a cached token without the balance is refused by requireTokens', async () => {
    fx = await setUp();
    const token = await fx.sign();
    expect((await get(fx.app, token)).status).toBe(200);
    const res = await get(fx.app, token, '/nft');
    expect(res.status).toBe(403);
    expect(res.body.reason).toBe('insufficient_balance');
  });

  test('a cached token with the balance passes requireTokens without verification', async () => {
    fx = await setUp();
    const token = await fx.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '2' } } });
    expect((await get(fx.app, token, '/nft')).status).toBe(200);
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, token, '/nft')).status).toBe(200);
  });
});
