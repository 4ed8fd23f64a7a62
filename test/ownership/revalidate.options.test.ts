/** Bad revalidate options throw at startup, naming the option, never on a request. */
import { createTokenGate, OptionsError, requireTokens, type OwnershipResolver } from '../../lib';
import { APES_CONTRACT, AUDIENCE } from '../helpers/fixtures';

const base = { audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' };
const resolver: OwnershipResolver = { resolve: async () => ({ balance: '1' }) };

describe('revalidate options of a gate', () => {
  test.each([
    ['no resolver', {}, 'revalidate.resolver', /is required/],
    ['a resolver without resolve()', { resolver: {} }, 'revalidate.resolver', /is required/],
    ['a negative maxAgeMs', { resolver, maxAgeMs: -1 }, 'revalidate.maxAgeMs', /from 0 to 86400000/],
    ['an infinite maxAgeMs', { resolver, maxAgeMs: Infinity }, 'revalidate.maxAgeMs', /from 0/],
    ['a string maxAgeMs', { resolver, maxAgeMs: '60000' }, 'revalidate.maxAgeMs', /from 0/],
    ['an unknown policy', { resolver, onResolverError: 'allow' }, 'revalidate.onResolverError', /"deny" or "useToken"/],
    ['a zero timeoutMs', { resolver, timeoutMs: 0 }, 'revalidate.timeoutMs', /from 1 to 120000/],
    ['an unknown field', { resolver, maxAge: 5 }, 'revalidate.maxAge', /is not a known option/],
  ])('%s throws an OptionsError naming it', (_case, revalidate, option, problem) => {
    const create = () => createTokenGate({ ...base, revalidate: revalidate as never });
    expect(create).toThrow(OptionsError);
    expect(create).toThrow(`option "${option}"`);
    expect(create).toThrow(problem);
  });

  test('true, a string or a list is not an options object', () => {
    for (const revalidate of [true, 'yes', [resolver], null]) {
      expect(() => createTokenGate({ ...base, revalidate: revalidate as never })).toThrow(
        'option "revalidate" must be false or {',
      );
    }
  });

  test('defaults: maxAgeMs 60000, onResolverError deny, timeoutMs 10000, maxConcurrent 16, maxQueued 256; false turns it off', () => {
    expect(createTokenGate({ ...base, revalidate: { resolver } }).options.revalidate).toEqual({
      resolver,
      maxAgeMs: 60_000,
      onResolverError: 'deny',
      timeoutMs: 10_000,
      maxConcurrent: 16,
      maxQueued: 256,
    });
    expect(createTokenGate({ ...base, revalidate: false }).options.revalidate).toBeUndefined();
    expect(createTokenGate(base).options.revalidate).toBeUndefined();
  });
});

describe('requireTokens options of a route', () => {
  const gate = createTokenGate(base);

  test('a bad route revalidate throws when the middleware is created', () => {
    expect(() =>
      gate.requireTokens({ contractAddress: APES_CONTRACT }, { revalidate: { resolver, maxAgeMs: -5 } }),
    ).toThrow('option "revalidate.maxAgeMs"');
    expect(() => gate.requireTokens(APES_CONTRACT, '1', { revalidate: { onResolverError: 'deny' } as never })).toThrow(
      'option "revalidate.resolver"',
    );
    expect(() => gate.requireTokens({ contractAddress: APES_CONTRACT }, { revalidate: true } as never)).toThrow(
      'option "revalidate"',
    );
  });

  test('unknown route options and non-objects are refused', () => {
    expect(() => gate.requireTokens({ contractAddress: APES_CONTRACT }, { revalidated: false } as never)).toThrow(
      'option "revalidated" is not a known requireTokens option',
    );
    expect(() => gate.requireTokens({ contractAddress: APES_CONTRACT }, 'fast' as never)).toThrow(OptionsError);
  });

  test('the top-level requireTokens validates revalidate with the other gate options', () => {
    expect(() =>
      requireTokens(
        { contractAddress: APES_CONTRACT },
        { ...base, revalidate: { resolver, onResolverError: 'open' as never } },
      ),
    ).toThrow('option "revalidate.onResolverError"');
  });
});
