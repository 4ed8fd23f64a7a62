/** The `cache` option is parsed at startup: `false`, or `{ maxEntries }` with a whole number of 1 or more. */
import { createTokenGate, OptionsError } from '../../lib';
import { AUDIENCE } from '../helpers/fixtures';

const base = { audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' };

describe('valid cache options are accepted', () => {
  test.each([
    ['left out', undefined],
    ['false', false],
    ['an empty object (defaults)', {}],
    ['{ maxEntries: 1 }', { maxEntries: 1 }],
    ['{ maxEntries: 50000 }', { maxEntries: 50_000 }],
  ])('cache %s', (_name, cache) => {
    expect(() => createTokenGate({ ...base, cache: cache as never })).not.toThrow();
  });
});

describe('invalid cache options fail at startup with a message naming them', () => {
  test.each([
    ['true', true, /option "cache" must be false or \{ maxEntries \}/],
    ['null', null, /option "cache" must be false or \{ maxEntries \}/],
    ['a number', 100, /option "cache" must be false or \{ maxEntries \}/],
    ['an unknown key', { maxSize: 5 }, /option "cache\.maxSize" is not a known option/],
    ['maxEntries 0', { maxEntries: 0 }, /option "cache\.maxEntries" must be a whole number, 1 or more/],
    ['maxEntries negative', { maxEntries: -1 }, /option "cache\.maxEntries" must be a whole number, 1 or more/],
    ['maxEntries fractional', { maxEntries: 2.5 }, /option "cache\.maxEntries" must be a whole number, 1 or more/],
    ['maxEntries a string', { maxEntries: '10' }, /option "cache\.maxEntries" must be a whole number, 1 or more/],
    ['maxEntries infinite', { maxEntries: Infinity }, /option "cache\.maxEntries" must be a whole number, 1 or more/],
  ])('cache %s', (_name, cache, message) => {
    expect(() => createTokenGate({ ...base, cache: cache as never })).toThrow(OptionsError);
    expect(() => createTokenGate({ ...base, cache: cache as never })).toThrow(message);
  });
});
