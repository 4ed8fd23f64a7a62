import { createTokenGate, requireAuth, OptionsError, type TokenGateOptions } from '../../lib';
import { AUDIENCE, ISSUER } from '../helpers/fixtures';

const base = { audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' };

describe('createTokenGate option defaults', () => {
  test('uses Picket defaults for issuer and jwksUri, ES256, 5 s tolerance, 24 h lifetime, req.wallet', () => {
    const { options } = createTokenGate({ audience: AUDIENCE });
    expect(options.issuer).toEqual([ISSUER]);
    expect(options.jwksUri).toBe('https://picketapi.com/api/v1/.well-known/jwks.json');
    expect(options.algorithms).toEqual(['ES256']);
    expect(options.clockTolerance).toBe(5);
    expect(options.maxTokenLifetime).toBe(86400);
    expect(options.requestProperty).toBe('wallet');
    expect(options.realm).toBe('api');
  });

  test('accepts audience and issuer as lists', () => {
    const { options } = createTokenGate({ ...base, audience: ['a', 'b'], issuer: ['i1', 'i2'] });
    expect(options.audience).toEqual(['a', 'b']);
    expect(options.issuer).toEqual(['i1', 'i2']);
  });
});

describe('options from the environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('reads PICKET_PROJECT_ID, PICKET_ISSUER and PICKET_JWKS_URI', () => {
    process.env.PICKET_PROJECT_ID = 'env-project';
    process.env.PICKET_ISSUER = 'env-issuer';
    process.env.PICKET_JWKS_URI = 'https://issuer.example/jwks.json';
    const { options } = createTokenGate();
    expect(options.audience).toEqual(['env-project']);
    expect(options.issuer).toEqual(['env-issuer']);
    expect(options.jwksUri).toBe('https://issuer.example/jwks.json');
  });

  test('explicit options win over the environment', () => {
    process.env.PICKET_PROJECT_ID = 'env-project';
    expect(createTokenGate({ audience: 'explicit' }).options.audience).toEqual(['explicit']);
  });

  test('top-level factories without options use the environment and fail at startup without it', () => {
    delete process.env.PICKET_PROJECT_ID;
    jest.isolateModules(() => {
      // A fresh module: the environment gate is created on first use.
      const fresh = require('../../lib') as typeof import('../../lib');
      expect(() => fresh.requireAuth()).toThrow(/"audience" is required/);
    });
    process.env.PICKET_PROJECT_ID = 'env-project';
    expect(typeof requireAuth()).toBe('function');
  });
});

describe('invalid options throw at startup with a message naming the option', () => {
  const cases: Array<[string, TokenGateOptions | unknown, RegExp]> = [
    ['missing audience', { jwksUri: base.jwksUri }, /"audience" is required/],
    ['empty audience', { ...base, audience: '' }, /"audience"/],
    ['empty audience list', { ...base, audience: [] }, /"audience" must not be an empty list/],
    ['non-string issuer', { ...base, issuer: 42 }, /"issuer"/],
    ['alg none', { ...base, algorithms: ['ES256', 'none'] }, /"algorithms" must not contain "none"/],
    ['alg NONE', { ...base, algorithms: ['NONE'] }, /"algorithms" must not contain "NONE"/],
    ['HS256', { ...base, algorithms: ['HS256'] }, /"algorithms" must not contain "HS256"/],
    ['unknown algorithm', { ...base, algorithms: ['ES257'] }, /"algorithms" contains unknown algorithm/],
    [
      'plain http to a public host',
      { ...base, jwksUri: 'http://issuer.example/jwks.json' },
      /"jwksUri" must use https/,
    ],
    ['not a URL', { ...base, jwksUri: 'not a url' }, /"jwksUri" is not a valid URL/],
    [
      'credentials in the URL',
      { ...base, jwksUri: 'https://u:p@issuer.example/jwks.json' },
      /"jwksUri" must not carry credentials/,
    ],
    ['negative clockTolerance', { ...base, clockTolerance: -1 }, /"clockTolerance"/],
    ['NaN maxTokenLifetime', { ...base, maxTokenLifetime: Number.NaN }, /"maxTokenLifetime"/],
    ['string clockTolerance', { ...base, clockTolerance: '5' }, /"clockTolerance"/],
    ['unknown key', { ...base, audiance: 'typo' }, /"audiance" is not a known option/],
    ['bad requestProperty', { ...base, requestProperty: '__proto__' }, /"requestProperty"/],
    ['getToken not a function', { ...base, getToken: 'header' }, /"getToken" must be a function/],
    ['isRevoked not a function', { ...base, isRevoked: true }, /"isRevoked" must be a function/],
    ['cache not an object', { ...base, cache: 5 }, /"cache"/],
    ['cache.maxEntries zero', { ...base, cache: { maxEntries: 0 } }, /"cache.maxEntries"/],
    ['unknown jwks option', { ...base, jwks: { timeout: 5 } }, /"jwks.timeout" is not a known option/],
    ['negative jwks.timeoutMs', { ...base, jwks: { timeoutMs: -5 } }, /"jwks.timeoutMs"/],
    ['realm with a quote', { ...base, realm: 'a"b' }, /"realm"/],
    ['options not an object', 'audience', /"options" must be an object/],
  ];
  test.each(cases)('%s', (_name, options, message) => {
    expect(() => createTokenGate(options as TokenGateOptions)).toThrow(message);
    expect(() => createTokenGate(options as TokenGateOptions)).toThrow(OptionsError);
  });

  test('allows plain http on loopback only', () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.1.2.3']) {
      expect(() => createTokenGate({ ...base, jwksUri: `http://${host}:8080/jwks.json` })).not.toThrow();
    }
  });
});

describe('options from express-jwt and its peers name what to use instead', () => {
  test.each([
    ['credentialsRequired', false, /"credentialsRequired" is not used here: use optionalAuth\(\)/],
    ['secret', 'shhh', /"secret" is not used here: keys come from the issuer's JWKS \(jwksUri, or static keys\)/],
    ['secretOrKey', 'shhh', /"secretOrKey" is not used here: keys come from the issuer's JWKS/],
    ['issuerBaseURL', 'https://issuer.example', /"issuerBaseURL" is not used here: set issuer .* and jwksUri/],
    ['tokenSigningAlg', 'ES256', /"tokenSigningAlg" is not used here: use algorithms/],
    ['jwtFromRequest', () => 'x', /"jwtFromRequest" is not used here: use getToken\(req\)/],
    ['property', 'user', /"property" is not used here: use requestProperty/],
    ['userProperty', 'user', /"userProperty" is not used here: use requestProperty/],
    ['maxAge', '1d', /"maxAge" is not used here: use maxTokenAge \(seconds since iat\) or maxTokenLifetime/],
    ['ignoreExpiration', true, /"ignoreExpiration" is not supported: exp is always checked/],
    ['onExpired', () => undefined, /"onExpired" is not used here: .*"token_expired"/],
  ])('%s', (name, value, message) => {
    const build = () => createTokenGate({ ...base, [name]: value } as TokenGateOptions);
    expect(build).toThrow(OptionsError);
    expect(build).toThrow(message);
  });

  test("algorithms: ['HS256'] points at the issuer's JWKS", () => {
    expect(() => createTokenGate({ ...base, algorithms: ['HS256'] })).toThrow(
      /"algorithms" must not contain "HS256": only asymmetric signatures are accepted, with keys from the issuer's JWKS \(jwksUri\)/,
    );
  });

  test("a name that is nobody's option, even one on Object.prototype, is simply unknown", () => {
    expect(() => createTokenGate({ ...base, toString: 1 } as unknown as TokenGateOptions)).toThrow(
      /"toString" is not a known option/,
    );
  });
});
