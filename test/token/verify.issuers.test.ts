/**
 * The order of checks with several issuers, each with its own key set: a `kid` that no key set of
 * the gate knows is refused before the payload is read, exactly as with one key set, while the
 * rules for unknown kids (a set not loaded yet, the refetch cooldown) stay those of the set that
 * would be asked. The reason answered shows the order: a token whose payload is malformed but
 * whose kid is unknown everywhere is `key_not_found`, not `token_malformed`.
 */
import request from 'supertest';
import { createTokenGate } from '../../lib';
import { resolveOptions } from '../../lib/http/options';
import type { RemoteKeySet } from '../../lib/jwks/key-set';
import { StaticKeySet } from '../../lib/jwks/static';
import { IssuerDirectory } from '../../lib/token/issuers';
import { TokenVerifier } from '../../lib/token/verify';
import { AUDIENCE, b64url, encodeSegment, ISSUER, nowSeconds, WALLET } from '../helpers/fixtures';
import { appWith } from '../helpers/harness';
import { makeSigningKey, signAccessToken, startJwksServer, type SigningKey } from '../helpers/jwks-server';
import { type Fixture, keySetFixture } from '../helpers/key-set';

const STAGING = 'staging.example';
const INTRANET = 'intranet.example';
const UNKNOWN_KID = 'a-kid-no-issuer-published';

/** A structurally valid ES256 signature (both scalars in range) that no key made. */
const SIGNATURE = b64url(Buffer.concat([Buffer.alloc(32, 0x11), Buffer.alloc(32, 0x22)]));

/** A token with `kid` and the payload bytes `payload` as given; it never gets as far as its signature. */
function token(kid: string, payload: string): string {
  return `${encodeSegment({ alg: 'ES256', typ: 'JWT', kid })}.${b64url(payload)}.${SIGNATURE}`;
}

/** A claim set that passes every claim rule, issued by `iss`. */
function claimsOf(iss: string): string {
  const now = nowSeconds();
  return JSON.stringify({ iss, aud: AUDIENCE, iat: now, exp: now + 600, walletAddress: WALLET });
}

/** Payloads, from unreadable to well-formed; none is ever read when the kid is unknown everywhere. */
const PAYLOADS: [string, string][] = [
  ['invalid JSON', '{"iss":'],
  ['a repeated member name', `{"iss":"${ISSUER}","iss":"${STAGING}"}`],
  ['a __proto__ member', '{"__proto__":{}}'],
  ['an array instead of an object', `["${ISSUER}"]`],
  ['nesting too deep', '{"a":'.repeat(40) + '1' + '}'.repeat(40)],
  ['no iss', '{"aud":"test-project"}'],
  ['an iss that is not a string', `{"iss":["${ISSUER}"]}`],
  ['an iss no issuer has', claimsOf('evil.example')],
  ["the first issuer's iss", claimsOf(ISSUER)],
  ["the second issuer's iss", claimsOf(STAGING)],
  ["the static issuer's iss", claimsOf(INTRANET)],
];

/** Verifier options of a gate trusting `issuers` (no cache: every call is a full verification). */
function optionsFor(issuers: string[]) {
  return resolveOptions({
    issuers: issuers.map((issuer) => ({ issuer, audience: AUDIENCE, jwksUri: 'http://127.0.0.1:1/jwks.json' })),
    cache: false,
  });
}

interface Gates {
  /** Remote sets on their own manual clocks: the first and second issuer's. */
  first: Fixture;
  second: Fixture;
  intranetKey: SigningKey;
  /** One issuer, the first, with its key set alone. */
  one: TokenVerifier;
  /** Three issuers: the first, the second (each its remote set) and a static one. */
  several: TokenVerifier;
}

let gates: Gates;
/** JWKS servers started by the current test, closed after it. */
let servers: { close(): Promise<void> }[] = [];

/** Fresh key sets, so that hit counts start at zero and each set's state is the test's. */
async function setUp(): Promise<Gates> {
  const [first, staging, stagingKey, intranetKey] = await Promise.all([
    keySetFixture(),
    keySetFixture(),
    makeSigningKey('staging-key'),
    makeSigningKey('intranet-key'),
  ]);
  servers.push(first.server, staging.server);
  // Each issuer publishes its own kid.
  staging.server.keys = [stagingKey.jwk];
  const second = { ...staging, key: stagingKey };
  const directory = new IssuerDirectory([
    [ISSUER, { audience: [AUDIENCE], keys: first.set }],
    [STAGING, { audience: [AUDIENCE], keys: second.set }],
    [INTRANET, { audience: [AUDIENCE], keys: new StaticKeySet({ keys: [intranetKey.jwk] }) }],
  ]);
  return {
    first,
    second,
    intranetKey,
    one: new TokenVerifier(optionsFor([ISSUER]), first.set),
    several: new TokenVerifier(optionsFor([ISSUER, STAGING, INTRANET]), directory),
  };
}

/** Loads a remote set, as the first token naming its issuer would. */
async function load(set: RemoteKeySet, kid: string): Promise<void> {
  await set.getKeys('ES256', kid);
}

/** The reason a verification was refused with. */
async function reasonOf(verifier: TokenVerifier, jwt: string): Promise<string> {
  try {
    await verifier.verify(jwt);
  } catch (error) {
    return (error as { reason: string }).reason;
  }
  throw new Error('the token was accepted');
}

afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
});

describe('several issuers: a kid no key set knows is refused before the payload is read', () => {
  beforeEach(async () => {
    gates = await setUp();
    await Promise.all([load(gates.first.set, gates.first.key.kid), load(gates.second.set, gates.second.key.kid)]);
  });

  test.each(PAYLOADS)(
    'a token with an unknown kid and a payload with %s is key_not_found with one issuer and with three, without a fetch',
    async (_name, payload) => {
      const jwt = token(UNKNOWN_KID, payload);
      expect({ one: await reasonOf(gates.one, jwt), several: await reasonOf(gates.several, jwt) }).toEqual({
        one: 'key_not_found',
        several: 'key_not_found',
      });
      expect({ first: gates.first.server.hits, second: gates.second.server.hits }).toEqual({ first: 1, second: 1 });
    },
  );

  test('a kid one key set knows is still read against the payload, which then picks the key set', async () => {
    // Known to the second issuer's set only: the payload is read, and only the named issuer's set decides.
    const kid = gates.second.key.kid;
    const answers = Object.fromEntries(
      await Promise.all(
        PAYLOADS.map(async ([name, payload]) => [name, await reasonOf(gates.several, token(kid, payload))] as const),
      ),
    );
    expect(answers).toEqual({
      'invalid JSON': 'token_malformed',
      'a repeated member name': 'token_malformed',
      'a __proto__ member': 'token_malformed',
      'an array instead of an object': 'token_malformed',
      'nesting too deep': 'token_malformed',
      'no iss': 'claim_invalid',
      'an iss that is not a string': 'issuer_mismatch',
      'an iss no issuer has': 'issuer_mismatch',
      "the first issuer's iss": 'key_not_found',
      "the second issuer's iss": 'signature_invalid',
      "the static issuer's iss": 'key_not_found',
    });
    expect({ first: gates.first.server.hits, second: gates.second.server.hits }).toEqual({ first: 1, second: 1 });
  });

  test("a genuine token of each issuer still passes (the static issuer's too)", async () => {
    const signed = await signAccessToken(gates.intranetKey, {}, JSON.parse(claimsOf(INTRANET)));
    await expect(gates.several.verify(signed)).resolves.toMatchObject({ iss: INTRANET });
    const first = await signAccessToken(gates.first.key, {}, JSON.parse(claimsOf(ISSUER)));
    await expect(gates.several.verify(first)).resolves.toMatchObject({ iss: ISSUER });
  });
});

describe("several issuers: while a key set cannot tell, the unknown-kid rules of the named issuer's set apply", () => {
  /** The first issuer's set in each state, the others loaded (the static one always knows its kids). */
  const STATES: [string, (g: Gates) => Promise<void>][] = [
    ['loaded, within the cooldown', (g) => load(g.first.set, g.first.key.kid)],
    [
      'loaded, cooldown passed',
      async (g) => {
        await load(g.first.set, g.first.key.kid);
        g.first.clock.advance(g.first.options.cooldownMs);
      },
    ],
    ['not loaded yet', async () => undefined],
  ];

  /** Reason and fetches of the first issuer's set, per state and payload, the same for one issuer and three. */
  const EXPECTED: Record<string, Record<'is malformed' | 'names the first issuer', [string, number]>> = {
    'loaded, within the cooldown': {
      'is malformed': ['key_not_found', 0],
      'names the first issuer': ['key_not_found', 0],
    },
    'loaded, cooldown passed': {
      'is malformed': ['token_malformed', 0],
      'names the first issuer': ['key_not_found', 1],
    },
    'not loaded yet': { 'is malformed': ['token_malformed', 0], 'names the first issuer': ['key_not_found', 1] },
  };

  describe.each(STATES)("the first issuer's key set %s", (state, prepare) => {
    test.each([
      ['is malformed', '{"iss":'],
      ['names the first issuer', claimsOf(ISSUER)],
    ] as const)('an unknown kid whose payload %s', async (payloadName, payload) => {
      const answers: Record<string, [string, number]> = {};
      for (const verifier of ['one', 'several'] as const) {
        gates = await setUp();
        await load(gates.second.set, gates.second.key.kid);
        await prepare(gates);
        const before = { first: gates.first.server.hits, second: gates.second.server.hits };
        const reason = await reasonOf(gates[verifier], token(UNKNOWN_KID, payload));
        expect(gates.second.server.hits).toBe(before.second);
        answers[verifier] = [reason, gates.first.server.hits - before.first];
      }
      expect(answers).toEqual({ one: EXPECTED[state]![payloadName], several: EXPECTED[state]![payloadName] });
    });
  });
});

describe('several issuers through the gate: a 7 KB junk token with an unknown kid', () => {
  test('is 401 key_not_found once every key set is loaded, whatever its payload', async () => {
    const [prodKey, stagingKey] = await Promise.all([makeSigningKey(), makeSigningKey()]);
    const [prod, staging] = await Promise.all([
      startJwksServer({ keys: [prodKey.jwk], cacheControl: 'max-age=3600' }),
      startJwksServer({ keys: [stagingKey.jwk], cacheControl: 'max-age=3600' }),
    ]);
    servers.push(prod, staging);
    const gate = createTokenGate({
      issuers: [
        { issuer: ISSUER, audience: AUDIENCE, jwksUri: prod.uri },
        { issuer: STAGING, audience: AUDIENCE, jwksUri: staging.uri },
      ],
      // Long enough that the sets stay decided for the whole test, however slow the machine.
      jwks: { cooldownMs: 3_600_000 },
    });
    const app = appWith(gate.requireAuth());
    await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${await signAccessToken(prodKey, {}, JSON.parse(claimsOf(ISSUER)))}`)
      .expect(200);
    await request(app)
      .get('/r')
      .set('Authorization', `Bearer ${await signAccessToken(stagingKey, {}, JSON.parse(claimsOf(STAGING)))}`)
      .expect(200);
    // Many members, no claim of an issuer, about 7 KB in all (under the 8,192-character cap).
    const members = Array.from({ length: 560 }, (_, i) => `"m${i}":${i}`).join(',');
    const junk = `${encodeSegment({ alg: 'ES256', typ: 'JWT', kid: UNKNOWN_KID })}.${b64url(`{${members}}`)}.${SIGNATURE}`;
    expect(junk.length).toBeGreaterThan(7000);
    expect(junk.length).toBeLessThanOrEqual(8192);
    const res = await request(app).get('/r').set('Authorization', `Bearer ${junk}`).expect(401);
    expect(res.body.reason).toBe('key_not_found');
    expect({ prod: prod.hits, staging: staging.hits }).toEqual({ prod: 1, staging: 1 });
  });
});
