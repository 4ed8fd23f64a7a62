/**
 * Property-based tests (fast-check) over every parser an attacker can reach: the Authorization
 * header, the token pre-checks, the claims normaliser and the balance parser. Whatever arrives,
 * nothing throws out of the middleware, the answer is a documented status with a documented
 * reason, no token text comes back, and only the unmodified signed token is ever a 200.
 *
 * Runs are few (tens to a few thousand, depending on cost) so the suite stays fast; a failure
 * prints the seed and the shrunk counterexample to replay.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import fc from 'fast-check';
import BigNumber from 'bignumber.js';
import { InvalidRequestError, InvalidTokenError, type Reason } from '../../lib';
import { extractToken } from '../../lib/http/bearer';
import { decodePayload, precheckJws } from '../../lib/token/precheck';
import { parseStrictJson } from '../../lib/token/json';
import { normaliseClaims } from '../../lib/token/claims';
import { isDecimalString } from '../../lib/chain/decimal';
import { APES_CONTRACT, AUDIENCE, ISSUER, picketClaims } from '../helpers/fixtures';
import { createHarness, expectNoLeak, type Harness } from '../helpers/harness';
import { createRawIssuer, type RawIssuer } from '../helpers/jwks-server';

const REASONS_400: Reason[] = ['header_malformed', 'header_duplicated', 'token_location_conflict'];
const REASONS_401: Reason[] = [
  'token_missing',
  'token_malformed',
  'token_too_large',
  'algorithm_not_allowed',
  'header_not_allowed',
  'type_not_allowed',
  'key_not_found',
  'signature_invalid',
  'issuer_mismatch',
  'audience_mismatch',
  'token_expired',
  'token_not_yet_valid',
  'token_issued_in_future',
  'token_lifetime_exceeded',
  'claim_invalid',
  'token_revoked',
];
const REASONS_403: Reason[] = ['insufficient_balance', 'wallet_not_allowed', 'chain_mismatch'];

let raw: RawIssuer;
let harness: Harness;
let valid: string;

beforeAll(async () => {
  raw = await createRawIssuer();
  harness = await createHarness(raw.options, (app, gate) => {
    app.get('/ape', gate.requireTokens(APES_CONTRACT, '1'), (req, res) => res.json({ claims: req.wallet?.claims }));
  });
  valid = await raw.sign(picketClaims({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '2' } } }));
});
afterAll(async () => {
  await harness.close();
  await raw.close();
});

/** A documented answer: 200 only where allowed, otherwise a rejection with a known reason. */
function expectDocumented(res: { status: number; body: { reason?: string } }, allow200: boolean): void {
  const known: Record<number, readonly string[]> = { 400: REASONS_400, 401: REASONS_401, 403: REASONS_403 };
  if (res.status === 200 && allow200) return;
  expect(Object.keys(known)).toContain(String(res.status));
  expect(known[res.status]).toContain(res.body.reason);
}

/** Printable ASCII and tab: what an HTTP client will send in a header value. */
const headerChar = fc.constantFrom(
  ...'\t !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~',
);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const tokenChar = fc.constantFrom(...`${B64URL}.=+/ ~`);

describe('the Authorization header parser', () => {
  const authorization = fc.oneof(
    fc.string({ unit: headerChar, maxLength: 80 }),
    fc
      .tuple(
        fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearer,', 'Token', ''),
        fc.string({ unit: headerChar, maxLength: 60 }),
      )
      .map(([a, b]) => `${a} ${b}`),
    fc
      .tuple(fc.constantFrom('Bearer ', 'Bearer  ', 'bearer\t'), fc.string({ unit: tokenChar, maxLength: 120 }))
      .map(([a, b]) => a + b),
  );

  test('over HTTP, any header value is a 400 or 401 with a documented reason, never a 200 or a crash', async () => {
    await fc.assert(
      fc.asyncProperty(authorization, async (value) => {
        const res = await harness.getWithAuthorization('/me', value);
        expectDocumented(res, false);
        expectNoLeak(res, value.replace(/^\S*\s*/, ''));
      }),
      { numRuns: 120 },
    );
  });

  test('directly, extractToken returns a b64token taken from the header or throws InvalidRequestError', () => {
    const name = fc.constantFrom(
      'Authorization',
      'authorization',
      'AUTHORIZATION',
      'Authorisation',
      'X-Authorization',
      'Host',
    );
    const rawHeaders = fc.array(fc.tuple(name, fc.oneof(authorization, fc.string({ maxLength: 40 }))), {
      maxLength: 4,
    });
    fc.assert(
      fc.property(rawHeaders, (pairs) => {
        const req = new IncomingMessage(new Socket());
        req.rawHeaders = pairs.flat();
        try {
          const token = extractToken(req, undefined);
          if (token !== undefined) {
            expect(token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
            expect(pairs.some(([n, v]) => n.toLowerCase() === 'authorization' && v.includes(token))).toBe(true);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidRequestError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the token pre-checks', () => {
  const tokenLike = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: tokenChar, maxLength: 300 }),
    fc
      .tuple(fc.jsonValue(), fc.jsonValue(), fc.uint8Array({ maxLength: 70 }))
      .map(
        ([h, p, s]) =>
          `${Buffer.from(JSON.stringify(h) ?? '').toString('base64url')}.${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.${Buffer.from(s).toString('base64url')}`,
      ),
    fc
      .tuple(
        fc.dictionary(
          fc.constantFrom('alg', 'kid', 'typ', 'crit', 'b64', 'jwk', 'jku', 'x5c', '__proto__', 'zip'),
          fc.jsonValue(),
        ),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
      )
      .map(
        ([h, s]) =>
          `${Buffer.from(JSON.stringify({ alg: 'ES256', ...h })).toString('base64url')}.e30.${Buffer.from(s).toString('base64url')}`,
      ),
  );

  test('the pre-checks (header, then payload, as the verifier runs them) return or throw InvalidTokenError, nothing else', () => {
    fc.assert(
      fc.property(tokenLike, (token) => {
        try {
          const jws = precheckJws(token, { algorithms: ['ES256'], typ: undefined });
          const { header } = jws;
          const payload = decodePayload(jws);
          expect(header.alg).toBe('ES256');
          expect(typeof payload).toBe('object');
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidTokenError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('strict JSON refuses exactly duplicate names, __proto__ names and nesting deeper than 32', () => {
    // Trees whose ground truth is known by construction, written out with random whitespace and
    // random escaping of member names (so "a" and "\u0061" are the same name).
    type Node = { obj: Array<[string, Node, boolean]> } | { arr: Node[] } | { lit: string };
    const { node } = fc.letrec<{ node: Node }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('1', '-0.5e3', 'true', 'null', '"__proto__"', '"a"').map((lit) => ({ lit })),
        fc
          .array(
            fc.tuple(
              fc.constantFrom('a', 'b', '__proto__', 'constructor', 'x y', 'é', 'a"b', 'a\\b', ''),
              tie('node'),
              fc.boolean(),
            ),
            { maxLength: 4 },
          )
          .map((obj) => ({ obj })),
        fc.array(tie('node'), { maxLength: 3 }).map((arr) => ({ arr })),
      ),
    }));
    const deep = fc.tuple(node, fc.integer({ min: 28, max: 40 }), fc.boolean()).map(([inner, depth, objects]) => {
      let n: Node = inner;
      for (let i = 0; i < depth; i += 1) n = objects ? { obj: [['k', n, false]] } : { arr: [n] };
      return n;
    });
    const escapeAll = (name: string) =>
      `"${[...name].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;
    const write = (n: Node, ws: string): string => {
      if ('lit' in n) return n.lit;
      if ('arr' in n) return `[${ws}${n.arr.map((x) => write(x, ws)).join(`,${ws}`)}]`;
      return `{${n.obj.map(([k, v, esc]) => `${ws}${esc ? escapeAll(k) : JSON.stringify(k)}${ws}:${write(v, ws)}`).join(',')}${ws}}`;
    };
    const depthOf = (n: Node): number =>
      'lit' in n ? 0 : 1 + Math.max(0, ...('arr' in n ? n.arr : n.obj.map(([, v]) => v)).map(depthOf));
    const flaws = (n: Node): boolean => {
      if ('lit' in n) return false;
      if ('arr' in n) return n.arr.some(flaws);
      const names = n.obj.map(([k]) => k);
      return new Set(names).size !== names.length || names.includes('__proto__') || n.obj.some(([, v]) => flaws(v));
    };
    fc.assert(
      fc.property(fc.oneof(node, deep), fc.constantFrom('', ' ', '\n\t'), (tree, ws) => {
        const text = write(tree, ws);
        const result = parseStrictJson(Buffer.from(text));
        const acceptable = !flaws(tree) && depthOf(tree) <= 32;
        expect(result.ok).toBe(acceptable);
        if (result.ok) expect(result.value).toEqual(JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });

  /** One edit of a token: replace, insert or delete a character, or swap, drop or repeat a segment. */
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: tokenChar }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: tokenChar }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), char: fc.constant('') }),
    fc.record({ kind: fc.constant('segments' as const), at: fc.nat(5), char: fc.constant('') }),
  );
  function mutate(token: string, m: { kind: string; at: number; char: string }): string {
    const i = m.at % token.length;
    if (m.kind === 'replace') return token.slice(0, i) + m.char + token.slice(i + 1);
    if (m.kind === 'insert') return token.slice(0, i) + m.char + token.slice(i);
    if (m.kind === 'delete') return token.slice(0, i) + token.slice(i + 1);
    const [h, p, s] = token.split('.');
    return [`${p}.${h}.${s}`, `${h}.${s}.${p}`, `${h}.${p}`, `${h}.${p}.${s}.${s}`, `${h}.${h}.${s}`, `${h}.${p}.${s}`][
      m.at
    ]!;
  }

  test('over HTTP, only the unmodified signed token is a 200; every edit of it is a documented rejection', async () => {
    expect((await harness.get('/ape', valid)).status).toBe(200);
    const hitsBefore = raw.hits;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (edits) => {
        const token = edits.reduce(mutate, valid);
        const res = await harness.get('/ape', token);
        // RFC 6750 §2.1 allows one or more spaces after "Bearer", and HTTP drops trailing
        // whitespace from a field value: spaces added before the token, or spaces and tabs after
        // it, leave the same credentials.
        if (token.replace(/^ +/, '').replace(/[ \t]+$/, '') === valid) {
          // An edit that restores the original (a character replaced by itself) must still pass.
          expect(res.status).toBe(200);
        } else {
          expectDocumented(res, false);
          expect([400, 401]).toContain(res.status);
          expectNoLeak(res, token);
        }
      }),
      { numRuns: 150 },
    );
    // Garbage never turns into JWKS traffic: at most the first fetch and one refetch for unknown kids.
    expect(raw.hits - hitsBefore).toBeLessThanOrEqual(2);
  });
});

describe('the claims normaliser', () => {
  const claimValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined));
  const balanceMap = fc.dictionary(
    fc.oneof(fc.constant(APES_CONTRACT), fc.string({ maxLength: 44 })),
    fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('1', '0', '2.5', '1e3', ' 1')),
  );
  const payloadShape = {
    walletAddress: claimValue,
    displayAddress: claimValue,
    chain: fc.oneof(claimValue, fc.constantFrom('ethereum', 'solana', 'polygon')),
    sub: claimValue,
    exp: fc.oneof(claimValue, fc.integer()),
    ext: claimValue,
    iat: fc.oneof(claimValue, fc.integer()),
    nbf: claimValue,
    iss: claimValue,
    aud: claimValue,
    contractAddress: fc.oneof(claimValue, fc.constant(APES_CONTRACT)),
    tokenBalance: fc.oneof(claimValue, fc.constantFrom('1', '0.5', '01', '-1')),
    numTokens: claimValue,
    tokenIds: fc.oneof(claimValue, fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 })),
    tokenBalances: fc.oneof(
      claimValue,
      fc.dictionary(
        fc.constantFrom('contractAddress', 'collection', 'creatorAddress', 'tokenIds', 'other'),
        balanceMap,
      ),
    ),
    tid: claimValue,
    ver: claimValue,
    email: claimValue,
  };
  const payload = fc.record(payloadShape, { requiredKeys: [] });

  /** A valid claim set (200 on /ape) with up to three members replaced by arbitrary values. */
  const interesting = fc.oneof(
    claimValue,
    fc.integer(),
    fc.constantFrom('1', '0', '0.5', '01', '-1', '1e3', APES_CONTRACT, 'ethereum', 'solana', ISSUER, AUDIENCE, [
      AUDIENCE,
    ]),
    balanceMap.map((map) => ({ contractAddress: map })),
  );
  const mixed = fc
    .array(fc.tuple(fc.constantFrom(...Object.keys(payloadShape)), interesting), { maxLength: 3 })
    .map((changes) => {
      const claims = picketClaims({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '2' } } });
      for (const [name, value] of changes) {
        if (value === undefined) delete claims[name];
        else claims[name] = value;
      }
      return claims;
    });

  test('directly, normaliseClaims returns well-typed claims or throws InvalidTokenError', () => {
    fc.assert(
      fc.property(fc.oneof(payload, mixed), (claims) => {
        let normalised;
        try {
          normalised = normaliseClaims(JSON.parse(JSON.stringify(claims)) as Record<string, unknown>);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidTokenError);
          return;
        }
        expect(Number.isFinite(normalised.exp)).toBe(true);
        expect(typeof normalised.iss).toBe('string');
        expect(typeof normalised.walletAddress).toBe('string');
        expect(typeof normalised.chain).toBe('string');
        for (const map of Object.values(normalised.tokenBalances ?? {})) {
          for (const balance of Object.values(map as Record<string, unknown>))
            expect(isPlainDecimal(balance)).toBe(true);
        }
        if (normalised.tokenBalance !== undefined) expect(isPlainDecimal(normalised.tokenBalance)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  test('over HTTP, arbitrary signed claim sets answer 200, 401 or 403 with a documented reason', async () => {
    await fc.assert(
      fc.asyncProperty(mixed, async (claims) => {
        const token = await raw.sign(claims);
        const res = await harness.get('/ape', token);
        expectDocumented(res, true);
        if (res.status === 200) {
          expect(typeof res.body.claims.walletAddress).toBe('string');
          expect(Number.isFinite(res.body.claims.exp)).toBe(true);
        } else {
          expectNoLeak(res, token);
        }
      }),
      { numRuns: 100 },
    );
  });
});

/**
 * The balance rule, stated independently of the implementation: plain decimal notation, digits
 * 0-9 only, no sign, exponent, spaces or leading zeros, at most 78 digits on either side.
 */
function isPlainDecimal(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const [whole, fraction, ...rest] = value.split('.');
  const digits = (s: string) => s.length > 0 && [...s].every((c) => c >= '0' && c <= '9');
  if (rest.length > 0 || whole === undefined || !digits(whole) || whole.length > 78) return false;
  if (whole.length > 1 && whole[0] === '0') return false;
  return fraction === undefined || (digits(fraction) && fraction.length <= 78);
}

describe('the balance parser', () => {
  const decimalish = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(...'0123456789.eE+-xX _,'), maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 70, maxLength: 90 }),
    fc
      .tuple(
        fc.bigInt({ min: 0n, max: 10n ** 80n }),
        fc.option(fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 80 })),
      )
      .map(([whole, fraction]) => (fraction === null ? whole.toString() : `${whole}.${fraction}`)),
    fc.constantFrom(
      'NaN',
      'Infinity',
      '-Infinity',
      '-0',
      '0x10',
      '1e3',
      ' 1',
      '1 ',
      '\u0661',
      '\uff11',
      '9'.repeat(10_000),
    ),
  );

  test('accepts exactly the plain decimals, and each accepted one is an exact, finite, non-negative number', () => {
    fc.assert(
      fc.property(decimalish, (text) => {
        expect(isDecimalString(text)).toBe(isPlainDecimal(text));
        if (isDecimalString(text)) {
          const value = new BigNumber(text);
          expect(value.isFinite() && !value.isNegative()).toBe(true);
          // Exact: the value prints back as the text, up to trailing fractional zeros.
          expect(value.toFixed()).toBe(text.includes('.') ? text.replace(/\.?0+$/, '') : text);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('never accepts a number, or anything that is not a string', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer(), fc.bigInt(), fc.boolean(), fc.constant(null), fc.jsonValue()),
        (value) => {
          if (typeof value === 'string') return;
          expect(isDecimalString(value)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('over HTTP, a balance answers 401 claim_invalid unless it is a plain decimal, then 200 or 403 by value', async () => {
    const balance = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789.eE+-x '), maxLength: 12 }),
      fc.tuple(fc.nat(5), fc.option(fc.nat(99))).map(([w, f]) => (f === null ? String(w) : `${w}.${f}`)),
    );
    await fc.assert(
      fc.asyncProperty(balance, async (value) => {
        const token = await raw.sign(picketClaims({ tokenBalances: { contractAddress: { [APES_CONTRACT]: value } } }));
        const res = await harness.get('/ape', token);
        if (!isPlainDecimal(value)) {
          expect({ status: res.status, reason: res.body.reason }).toEqual({ status: 401, reason: 'claim_invalid' });
        } else {
          expect(res.status).toBe(new BigNumber(value).isGreaterThanOrEqualTo(1) ? 200 : 403);
        }
      }),
      { numRuns: 100 },
    );
  });
});
