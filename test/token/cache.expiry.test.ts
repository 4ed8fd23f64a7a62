/**
 * Time claims are checked on every cache hit, and an entry lives no longer than its token.
 * Only `Date` is faked: the gate's clock moves, HTTP and the JWKS server keep real timers.
 */
import { crowdKeySet, type Fixture, get, ONLY_DATE, setUp } from '../helpers/cache';

let fx: Fixture;
const START = Date.UTC(2030, 0, 1);

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: [...ONLY_DATE.doNotFake], now: START });
});
afterEach(async () => {
  jest.useRealTimers();
  await fx?.issuer.close();
});

describe('expiry is checked on every hit', () => {
  test('a cached token that has since expired is rejected', async () => {
    fx = await setUp({ clockTolerance: 5 });
    const token = await fx.sign({}, { expiresIn: 60 });
    expect((await get(fx.app, token)).status).toBe(200);
    jest.setSystemTime(START + 66_000);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_expired');
  });

  test('a cached token is still accepted within the clock tolerance after exp', async () => {
    fx = await setUp({ clockTolerance: 5 });
    const token = await fx.sign({}, { expiresIn: 60 });
    expect((await get(fx.app, token)).status).toBe(200);
    await crowdKeySet(fx.issuer);
    jest.setSystemTime(START + 64_000);
    expect((await get(fx.app, token)).status).toBe(200);
  });
});

describe('an entry lives no longer than its token', () => {
  test('after expiry the entry is gone: with the clock turned back, the token must be verified again', async () => {
    fx = await setUp({ clockTolerance: 5 });
    const token = await fx.sign({}, { expiresIn: 60 });
    expect((await get(fx.app, token)).status).toBe(200);
    jest.setSystemTime(START + 66_000);
    expect((await get(fx.app, token)).status).toBe(401);
    jest.setSystemTime(START + 1_000);
    await crowdKeySet(fx.issuer);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('key_not_found');
  });

  test('an expired entry is swept out even if its token never comes back', async () => {
    fx = await setUp({ clockTolerance: 0, cache: { maxEntries: 10 } });
    const shortLived = await fx.sign({}, { expiresIn: 30 });
    expect((await get(fx.app, shortLived)).status).toBe(200);
    // Long after it expired, other tokens keep arriving; then the clock is turned back.
    jest.setSystemTime(START + 10 * 60_000);
    for (let i = 0; i < 3; i++) expect((await get(fx.app, await fx.sign())).status).toBe(200);
    jest.setSystemTime(START + 1_000);
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, shortLived)).body.reason).toBe('key_not_found');
  });
});

describe('nbf and iat are checked on every hit', () => {
  test('a cached token whose nbf lies ahead of a clock turned back is rejected', async () => {
    fx = await setUp({ clockTolerance: 5 });
    const nowS = START / 1000;
    const token = await fx.sign({ nbf: nowS, iat: nowS });
    expect((await get(fx.app, token)).status).toBe(200);
    jest.setSystemTime(START - 60_000);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_not_yet_valid');
  });

  test('a cached token issued in what is now the future is rejected', async () => {
    fx = await setUp({ clockTolerance: 5 });
    const token = await fx.sign({ nbf: undefined });
    expect((await get(fx.app, token)).status).toBe(200);
    jest.setSystemTime(START - 60_000);
    const res = await get(fx.app, token);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_issued_in_future');
  });
});

describe('a token that failed is never cached as good', () => {
  test('a token rejected as not yet valid is verified again once it becomes valid', async () => {
    fx = await setUp({ clockTolerance: 0 });
    const nowS = START / 1000;
    const token = await fx.sign({ nbf: nowS + 60 });
    expect((await get(fx.app, token)).body.reason).toBe('token_not_yet_valid');
    jest.setSystemTime(START + 61_000);
    await crowdKeySet(fx.issuer);
    expect((await get(fx.app, token)).body.reason).toBe('key_not_found');
  });
});
