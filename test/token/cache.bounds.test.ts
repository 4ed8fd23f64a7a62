/** The cache holds at most `maxEntries` tokens and evicts the least recently used first. */
import { crowdKeySet, type Fixture, get, setUp } from '../helpers/cache';

let fx: Fixture;
afterEach(() => fx?.issuer.close());

/** Which of `tokens` the gate still recognises once their key is gone (the others get 401). */
async function stillCached(tokens: string[]): Promise<boolean[]> {
  await crowdKeySet(fx.issuer);
  const out: boolean[] = [];
  for (const token of tokens) {
    const res = await get(fx.app, token);
    if (res.status !== 200) expect(res.body.reason).toBe('key_not_found');
    out.push(res.status === 200);
  }
  return out;
}

describe('maxEntries bounds the cache', () => {
  test('a fourth token evicts the oldest of three', async () => {
    fx = await setUp({ cache: { maxEntries: 3 } });
    const tokens = [await fx.sign(), await fx.sign(), await fx.sign(), await fx.sign()];
    for (const token of tokens) expect((await get(fx.app, token)).status).toBe(200);
    expect(await stillCached(tokens)).toEqual([false, true, true, true]);
  });

  test('a token used again moves to the recent end and survives the next eviction', async () => {
    fx = await setUp({ cache: { maxEntries: 3 } });
    const [a, b, c, d] = [await fx.sign(), await fx.sign(), await fx.sign(), await fx.sign()];
    for (const token of [a!, b!, c!, a!, d!]) expect((await get(fx.app, token)).status).toBe(200);
    expect(await stillCached([a!, b!, c!, d!])).toEqual([true, false, true, true]);
  });

  test('with maxEntries 1 only the latest token is kept', async () => {
    fx = await setUp({ cache: { maxEntries: 1 } });
    const tokens = [await fx.sign(), await fx.sign()];
    for (const token of tokens) expect((await get(fx.app, token)).status).toBe(200);
    expect(await stillCached(tokens)).toEqual([false, true]);
  });
});

describe('memory is bounded too', () => {
  test('very large tokens are held in fewer entries than maxEntries allows', async () => {
    fx = await setUp({ cache: { maxEntries: 4 } });
    // About 4 KB each: the byte budget of four entries holds only some of them.
    const padding = 'x'.repeat(2400);
    const tokens = [];
    for (let i = 0; i < 4; i++) tokens.push(await fx.sign({ note: `${i}${padding}` }));
    expect(tokens[0]!.length).toBeGreaterThan(3500);
    expect(tokens[0]!.length).toBeLessThanOrEqual(4096);
    for (const token of tokens) expect((await get(fx.app, token)).status).toBe(200);
    const kept = await stillCached(tokens);
    expect(kept[3]).toBe(true);
    expect(kept.filter(Boolean).length).toBeLessThan(4);
  });

  test('a token longer than the cacheable size is verified every time', async () => {
    fx = await setUp();
    const token = await fx.sign({ note: 'x'.repeat(3300) });
    expect(token.length).toBeGreaterThan(4096);
    expect((await get(fx.app, token)).status).toBe(200);
    expect(await stillCached([token])).toEqual([false]);
  });
});
