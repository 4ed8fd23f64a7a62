/**
 * Encoding attacks on the compact serialization (RFC 7515 §3.1, §7.1; RFC 4648 §3.5; RFC 8725
 * §2.6, §3.7; RFC 8259 §4, §8.1). Every token here carries a genuine signature over exactly the
 * bytes sent, so only the encoding rules stand between it and the handler.
 */
import { APES_CONTRACT, AUDIENCE, b64url, encodeSegment, OTHER_AUDIENCE, picketClaims } from '../helpers/fixtures';
import { createHarness, expectNoLeak, expectRejected, type Harness } from '../helpers/harness';
import { createRawIssuer, type RawIssuer } from '../helpers/jwks-server';
import { MAX_TOKEN_LENGTH } from '../../lib/token/precheck';

let raw: RawIssuer;
let harness: Harness;
let header: string;

beforeAll(async () => {
  raw = await createRawIssuer();
  harness = await createHarness(raw.options, (app, gate) => {
    app.get('/proto', gate.requireAuth(), (req, res) => {
      const wallet = req.wallet as unknown as Record<string, unknown> & { claims: Record<string, unknown> };
      res.json({
        walletPrototype: Object.getPrototypeOf(wallet) === Object.prototype,
        claimsPrototype: Object.getPrototypeOf(wallet.claims) === Object.prototype,
        isAdmin: wallet.isAdmin ?? wallet.claims.isAdmin ?? null,
        polluted: ({} as Record<string, unknown>).polluted ?? null,
      });
    });
  });
  header = JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: raw.kid });
});
afterAll(async () => {
  await harness.close();
  await raw.close();
});

/** The claims JSON without its closing brace, to append members by hand. */
const openClaims = (overrides: Record<string, unknown> = {}) => JSON.stringify(picketClaims(overrides)).slice(0, -1);

describe('a genuine token is accepted (the baseline every case below departs from)', () => {
  test('accepts the unmodified token', async () => {
    expect((await harness.get('/me', await raw.sign())).status).toBe(200);
  });
});

describe('segment structure', () => {
  test.each([
    ['one segment', (t: string) => t.split('.')[1]!],
    ['two segments', (t: string) => t.split('.').slice(0, 2).join('.')],
    ['four segments', (t: string) => `${t}.${t.split('.')[2]}`],
    ['five segments (JWE shape)', (t: string) => `${t}.AAAA.AAAA`],
    ['a trailing dot', (t: string) => `${t}.`],
    ['a leading dot', (t: string) => `.${t}`],
  ])('rejects a token with %s', async (_name, mutate) => {
    const token = mutate(await raw.sign());
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test.each([
    ['an empty header', (h: string, p: string, s: string) => `.${p}.${s}`],
    ['an empty payload', (h: string, _p: string, s: string) => `${h}..${s}`],
    ['an empty signature', (h: string, p: string) => `${h}.${p}.`],
    ['only dots', () => '..'],
  ])('rejects %s', async (_name, build) => {
    const [h, p, s] = (await raw.sign()).split('.') as [string, string, string];
    const token = build(h, p, s);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('rejects a genuinely signed token whose payload is empty', async () => {
    const token = await raw.signInput(`${b64url(header)}.`);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes, spelt with a non-zero unused bit in the last character (RFC 4648 §3.5). */
function nonCanonical(segment: string): string {
  if (segment.length % 4 < 2) throw new Error('segment has no unused bits');
  const last = ALPHABET.indexOf(segment.at(-1)!);
  const spelt = segment.slice(0, -1) + ALPHABET[last | 1];
  expect(Buffer.from(spelt, 'base64url')).toEqual(Buffer.from(segment, 'base64url'));
  expect(spelt).not.toBe(segment);
  return spelt;
}

/** JSON whose base64url form has unused bits (its byte length is not a multiple of 3). */
function withUnusedBits(json: (pad: string) => string): string {
  for (const pad of ['', 'x', 'xx']) if (Buffer.byteLength(json(pad)) % 3 !== 0) return json(pad);
  throw new Error('unreachable');
}

describe('canonical base64url only', () => {
  test('rejects a genuinely signed token whose header has a non-canonical last character', async () => {
    const h = nonCanonical(b64url(withUnusedBits((pad) => JSON.stringify({ alg: 'ES256', kid: raw.kid, pad }))));
    const token = await raw.signInput(`${h}.${encodeSegment(picketClaims())}`);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('rejects a genuinely signed token whose payload has a non-canonical last character', async () => {
    const p = nonCanonical(b64url(withUnusedBits((pad) => JSON.stringify(picketClaims({ pad })))));
    const token = await raw.signInput(`${b64url(header)}.${p}`);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('rejects a genuine token whose signature has a non-canonical last character', async () => {
    const [h, p, s] = (await raw.sign()).split('.') as [string, string, string];
    const token = `${h}.${p}.${nonCanonical(s)}`;
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test.each([
    ['signature padding "="', (h: string, p: string, s: string) => `${h}.${p}.${s}==`],
    [
      'standard-alphabet "+" and "/"',
      (h: string, p: string, s: string) => `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}x+/`,
    ],
  ])('rejects %s', async (_name, build) => {
    const [h, p, s] = (await raw.sign()).split('.') as [string, string, string];
    const token = build(h, p, s);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('rejects a genuinely signed token whose payload segment is padded', async () => {
    const p = `${b64url(withUnusedBits((pad) => JSON.stringify(picketClaims({ pad }))))}=`;
    const token = await raw.signInput(`${b64url(header)}.${p}`);
    // "=" inside a b64token is not allowed by RFC 6750 §2.1: the header itself is malformed.
    expectRejected(await harness.get('/me', token), 400, 'header_malformed', token);
  });

  test('rejects a token with a space inside it as a malformed Authorization header', async () => {
    const [h, p, s] = (await raw.sign()).split('.') as [string, string, string];
    const token = `${h}.${p} .${s}`;
    expectRejected(await harness.getWithAuthorization('/me', `Bearer ${token}`), 400, 'header_malformed', token);
  });

  test('rejects a tab between scheme and token', async () => {
    const token = await raw.sign();
    expectRejected(await harness.getWithAuthorization('/me', `Bearer\t${token}`), 400, 'header_malformed', token);
  });

  test('accepts extra spaces between scheme and token, and a lower-case scheme', async () => {
    const token = await raw.sign();
    expect((await harness.getWithAuthorization('/me', `bearer    ${token}`)).status).toBe(200);
  });
});

describe('strict UTF-8 JSON objects (RFC 8725 §3.7, RFC 8259 §8.1)', () => {
  const invalid: Array<[string, number[]]> = [
    ['a stray 0xFF byte', [0xff]],
    ['a lone continuation byte', [0x80]],
    ['an overlong "/" (0xC0 0xAF)', [0xc0, 0xaf]],
    ['an encoded surrogate (0xED 0xA0 0x80)', [0xed, 0xa0, 0x80]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ];

  test.each(invalid)('rejects a payload containing %s', async (_name, bytes) => {
    const payload = Buffer.concat([Buffer.from(`${openClaims()},"note":"`), Buffer.from(bytes), Buffer.from('"}')]);
    const token = await raw.signRaw(header, payload);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test.each(invalid)('rejects a header containing %s', async (_name, bytes) => {
    const h = Buffer.concat([Buffer.from(`${header.slice(0, -1)},"note":"`), Buffer.from(bytes), Buffer.from('"}')]);
    const token = await raw.signRaw(h, JSON.stringify(picketClaims()));
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('rejects a payload starting with a byte-order mark', async () => {
    const token = await raw.signRaw(
      header,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(picketClaims()))]),
    );
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test.each([
    ['an array', '[1,2]'],
    ['a string', '"claims"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['not JSON', 'claims'],
    ['two objects', '{}{}'],
  ])('rejects a payload that is %s', async (_name, payload) => {
    const token = await raw.signRaw(header, payload);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test.each([
    ['an array', '["ES256"]'],
    ['a string', '"ES256"'],
    ['null', 'null'],
  ])('rejects a header that is %s', async (_name, h) => {
    const token = await raw.signRaw(h, JSON.stringify(picketClaims()));
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });
});

describe('duplicate member names are refused (RFC 7515 §5.2, RFC 8259 §4)', () => {
  const payloads: Array<[string, () => string]> = [
    ['aud twice, the project last', () => `${openClaims({ aud: OTHER_AUDIENCE })},"aud":"${AUDIENCE}"}`],
    [
      'exp twice, the expired one first',
      () => `${openClaims({ exp: 1 })},"exp":${Math.floor(Date.now() / 1000) + 3600}}`,
    ],
    ['walletAddress twice', () => `${openClaims()},"walletAddress":"0x0000000000000000000000000000000000000001"}`],
    [
      'a duplicate spelt with an escape ("\\u0061ud")',
      () => `${openClaims({ aud: OTHER_AUDIENCE })},"\\u0061ud":"${AUDIENCE}"}`,
    ],
    [
      'a balance twice inside tokenBalances',
      () => `${openClaims()},"tokenBalances":{"contractAddress":{"${APES_CONTRACT}":"0","${APES_CONTRACT}":"100"}}}`,
    ],
    ['a duplicate in a nested unknown claim', () => `${openClaims()},"extra":[{"a":1,"b":{"c":1,"c":2}}]}`],
  ];
  test.each(payloads)('rejects a genuinely signed payload with %s', async (_name, payload) => {
    const token = await raw.signRaw(header, payload());
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test.each([
    ['alg twice, ES256 last', () => `{"alg":"none","alg":"ES256","kid":"${raw.kid}"}`],
    ['alg twice, none last', () => `{"alg":"ES256","alg":"none","kid":"${raw.kid}"}`],
    ['kid twice', () => `{"alg":"ES256","kid":"attacker","kid":"${raw.kid}"}`],
    ['crit hidden by a later duplicate', () => `{"alg":"ES256","kid":"${raw.kid}","b64":false,"b64":true}`],
  ])('rejects a genuinely signed header with %s', async (_name, h) => {
    const token = await raw.signRaw(h(), JSON.stringify(picketClaims()));
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('accepts equal member names in different objects', async () => {
    const payload = `${openClaims()},"extra":{"a":{"id":1},"b":{"id":2}},"id":3}`;
    expect((await harness.get('/me', await raw.signRaw(header, payload))).status).toBe(200);
  });
});

describe('no prototype pollution through member names', () => {
  afterEach(() => {
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.prototype).not.toHaveProperty('isAdmin');
  });

  test.each([
    ['a top-level __proto__', () => `${openClaims()},"__proto__":{"isAdmin":true,"polluted":"yes"}}`],
    ['__proto__ spelt with an escape', () => `${openClaims()},"\\u005f_proto__":{"isAdmin":true}}`],
    [
      '__proto__ inside tokenBalances',
      () => `${openClaims()},"tokenBalances":{"contractAddress":{"__proto__":{"polluted":"1"}}}}`,
    ],
    ['__proto__ as a balance kind', () => `${openClaims()},"tokenBalances":{"__proto__":{"polluted":"1"}}}`],
    ['__proto__ inside an unknown claim', () => `${openClaims()},"extra":{"deep":[{"__proto__":{"polluted":"yes"}}]}}`],
  ])('rejects a genuinely signed payload with %s', async (_name, payload) => {
    const token = await raw.signRaw(header, payload());
    expectRejected(await harness.get('/proto', token), 401, 'token_malformed', token);
  });

  test('rejects __proto__ in the header', async () => {
    const token = await raw.signRaw(
      `{"alg":"ES256","kid":"${raw.kid}","__proto__":{"alg":"none"}}`,
      JSON.stringify(picketClaims()),
    );
    expectRejected(await harness.get('/proto', token), 401, 'token_malformed', token);
  });

  test('constructor and prototype members stay plain data on req.wallet', async () => {
    const payload =
      `${openClaims()},"constructor":{"prototype":{"isAdmin":true,"polluted":"yes"}},"prototype":{"isAdmin":true},` +
      `"tokenBalances":{"contractAddress":{"constructor":"5","toString":"1","hasOwnProperty":"2"}}}`;
    const res = await harness.get('/proto', await raw.signRaw(header, payload));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ walletPrototype: true, claimsPrototype: true, isAdmin: null, polluted: null });
  });
});

describe('deep nesting is bounded (no stack overflow)', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  test('rejects 5,000-deep nesting by size before parsing', async () => {
    const token = await raw.signRaw(header, `${openClaims()},"extra":${nested(5000)}}`);
    expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    expectRejected(await harness.get('/me', token), 401, 'token_too_large', token);
  });

  test('rejects the deepest nesting that fits under the size cap', async () => {
    let depth = 2000;
    let token = await raw.signRaw(header, `${openClaims()},"extra":${nested(depth)}}`);
    while (token.length <= MAX_TOKEN_LENGTH - 8) {
      depth += 2;
      token = await raw.signRaw(header, `${openClaims()},"extra":${nested(depth)}}`);
    }
    token = await raw.signRaw(header, `${openClaims()},"extra":${nested(depth - 4)}}`);
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('rejects deep nesting of objects in the header', async () => {
    const token = await raw.signRaw(
      `{"alg":"ES256","kid":"${raw.kid}","x":${'{"a":'.repeat(300)}1${'}'.repeat(300)}}`,
      JSON.stringify(picketClaims()),
    );
    expectRejected(await harness.get('/me', token), 401, 'token_malformed', token);
  });

  test('accepts modest nesting in an unknown claim', async () => {
    const res = await harness.get('/me', await raw.signRaw(header, `${openClaims()},"extra":${nested(8)}}`));
    expect(res.status).toBe(200);
  });
});

describe('request headers near Node’s 16 KiB limit', () => {
  test('a token one character over the size cap is a 401 token_too_large', async () => {
    const base = await raw.sign();
    const token = `${base}${'A'.repeat(MAX_TOKEN_LENGTH + 1 - base.length)}`;
    expect(token.length).toBe(MAX_TOKEN_LENGTH + 1);
    expectRejected(await harness.get('/me', token), 401, 'token_too_large', token);
  });

  test('a 15,000-character token still reaches the gate and is a 401 token_too_large', async () => {
    const token = `${'A'.repeat(7000)}.${'A'.repeat(7000)}.${'A'.repeat(998)}`;
    const res = await harness.get('/me', token);
    expectRejected(res, 401, 'token_too_large', token);
    expectNoLeak(res, token);
  });

  test('an Authorization header past 16 KiB is refused by Node with 431, and the server keeps serving', async () => {
    const token = `${'A'.repeat(9000)}.${'A'.repeat(8000)}.AAAA`;
    const res = await harness.get('/me', token);
    expect(res.status).toBe(431);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect((await harness.get('/me', await raw.sign())).status).toBe(200);
  });
});

describe('the Authorization header (RFC 6750 §2.1, §3.1)', () => {
  test('no credentials: 401 with a bare challenge and no error code', async () => {
    const res = await harness.get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.body.reason).toBe('token_missing');
  });

  test('another scheme counts as no bearer credentials', async () => {
    const res = await harness.getWithAuthorization('/me', 'Basic dXNlcjpwYXNz');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test('a token in the query string is never read', async () => {
    const token = await raw.sign();
    const res = await harness.get(`/me?access_token=${token}`);
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_missing');
    expectNoLeak(res, token);
  });

  test.each([
    ['an empty value', ''],
    ['the scheme alone', 'Bearer'],
    ['the scheme and spaces', 'Bearer    '],
    ['two tokens', 'Bearer abc def'],
    ['a comma-separated second credential', 'Bearer abc, Basic xyz'],
    ['a quoted token', 'Bearer "abc"'],
  ])('rejects %s as a malformed header (400)', async (_name, value) => {
    expectRejected(await harness.getWithAuthorization('/me', value), 400, 'header_malformed');
  });

  test('rejects two Authorization headers, even when both carry the genuine token', async () => {
    const token = await raw.sign();
    const res = await harness.getWithAuthorization('/me', [`Bearer ${token}`, `Bearer ${token}`]);
    expectRejected(res, 400, 'header_duplicated', token);
  });

  test('rejects a token both in the header and where getToken looks', async () => {
    const token = await raw.sign();
    const withCookie = await createHarness({
      ...raw.options,
      getToken: (req) => (req.headers['x-token'] as string | undefined) ?? undefined,
    });
    try {
      const res = await withCookie.getWithAuthorization('/me', `Bearer ${token}`).set('X-Token', token);
      expectRejected(res, 400, 'token_location_conflict', token);
    } finally {
      await withCookie.close();
    }
  });
});
