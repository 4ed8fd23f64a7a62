/**
 * Project Wycheproof vectors through the library's own signature layer: `precheckJws` (the
 * structural checks the verifier runs before any key lookup) and `verifySignature` (the call the
 * verifier makes: OpenSSL's verify on a KeyObject for ES256, jose's flattenedVerify otherwise). Their payloads are not JWT claim sets, so the claim
 * layer is not involved here; everything the verifier does to a signature is.
 *
 * ecdsa_secp256r1_sha256_p1363_test.json signs arbitrary messages, which no JWS signing input can
 * equal (it always holds a "."), so those vectors go through `checkSignatureEncoding` and then the
 * exact WebCrypto call jose's flattenedVerify makes for ES256 (ECDSA, SHA-256, P1363 r‖s); the
 * differential test runs them through the ES256 fast path too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { importJWK, type JWK } from 'jose';
import { createTokenGate, OptionsError, TokenGateError } from '../../lib';
import { precheckJws } from '../../lib/token/precheck';
import { checkSignatureEncoding, verifySignature } from '../../lib/token/signature';
import { AUDIENCE, b64url, decodeSegment } from '../helpers/fixtures';
import { wycheproofDir } from './helpers';

interface JwsTest {
  tcId: number;
  comment: string;
  jws: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface JwsGroup {
  comment: string;
  public?: JWK;
  tests: JwsTest[];
}
interface P1363Test {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface P1363Group {
  publicKeyDer: string;
  sha: string;
  tests: P1363Test[];
}

const load = <T>(file: string): T => JSON.parse(readFileSync(path.join(wycheproofDir(), file), 'utf8')) as T;
const jwsFile = load<{ numberOfTests: number; testGroups: JwsGroup[] }>('json_web_signature_test.json');
const p1363File = load<{ numberOfTests: number; testGroups: P1363Group[] }>('ecdsa_secp256r1_sha256_p1363_test.json');

type Outcome = 'accepted' | string;

/** Runs one compact JWS through the verifier's signature layer with `algorithms` allowed. */
async function signatureLayer(jws: string, key: CryptoKey | undefined, algorithms: string[]): Promise<Outcome> {
  try {
    const { header, segments } = precheckJws(jws, { algorithms, typ: undefined });
    if (!key) return `no key for ${header.alg}`;
    await verifySignature(segments, key, algorithms);
    return 'accepted';
  } catch (error) {
    if (error instanceof TokenGateError) return error.reason;
    throw error; // anything else is a crash of the signature layer
  }
}

/** The JWS algorithm a vector group's key is for (the RFC 7520 figures misspell ES512 as ES521). */
function algorithmOf(group: JwsGroup): string | undefined {
  const alg = group.public?.alg;
  return alg === 'ES521' ? 'ES512' : alg;
}

async function keyOf(group: JwsGroup): Promise<CryptoKey | undefined> {
  const alg = algorithmOf(group);
  if (!group.public || !alg) return undefined;
  // Usage fields are the key set's business (jwks-responses.test.ts); only the key material matters here.
  const { use: _use, key_ops: _ops, alg: _alg, ...material } = group.public;
  return (await importJWK(material, alg)) as CryptoKey;
}

const ES256_GROUPS = ['es256', 'SpecialCaseEs256'];
/** Groups whose invalidity is the key's declared use: enforced when the JWKS is loaded, see jwks-responses.test.ts. */
const KEY_USE_GROUPS = ['ec_key_for_encryption', 'rsa_encryption'];

describe('Wycheproof json_web_signature_test.json', () => {
  test('the vector file is the one this suite was written against', () => {
    const count = jwsFile.testGroups.reduce((n, g) => n + g.tests.length, 0);
    expect(count).toBe(jwsFile.numberOfTests);
    expect(jwsFile.testGroups.filter((g) => ES256_GROUPS.includes(g.comment)).flatMap((g) => g.tests)).toHaveLength(39);
  });

  describe.each(jwsFile.testGroups.filter((g) => ES256_GROUPS.includes(g.comment)).map((g) => [g.comment, g] as const))(
    'ES256 group %s, with the default algorithms ["ES256"]',
    (_name, group) => {
      let key: CryptoKey | undefined;
      beforeAll(async () => {
        key = await keyOf(group);
      });
      test.each(group.tests.map((t) => [t.tcId, t.comment, t.result, t] as const))(
        'tcId %i %s: %s',
        async (_id, _comment, result, t) => {
          const outcome = await signatureLayer(t.jws, key, ['ES256']);
          if (result === 'valid') expect(outcome).toBe('accepted');
          else expect(outcome).not.toBe('accepted');
        },
      );
    },
  );

  /**
   * Where this library deliberately departs from a "valid" label, and why:
   * - emptyPayload: a JWT's payload is a JSON object (RFC 7519 §7.2), so an empty one is malformed.
   * - RFC 7520 Figure 20 signs PS384 with a key whose JWK says alg PS256: a key is used only for
   *   its declared algorithm (RFC 7517 §4.4, RFC 8725 §3.1).
   * - InvalidCharacterInsertedInHeader (an HMAC vector) has "?" in its header segment: only
   *   canonical base64url is read (RFC 7515 §2, RFC 4648 §5), so it is malformed.
   */
  const HEADER_DEVIATIONS: Record<string, string> = { InvalidCharacterInsertedInHeader: 'token_malformed' };
  const DEVIATIONS: Record<string, string> = {
    ...HEADER_DEVIATIONS,
    emptyPayload: 'token_malformed',
    Figure20: 'algorithm_not_allowed',
  };

  test('every vector of every other group is refused under the default algorithms ["ES256"]', async () => {
    const others = jwsFile.testGroups.filter(
      (g) => !ES256_GROUPS.includes(g.comment) && !KEY_USE_GROUPS.includes(g.comment),
    );
    const mismatches: string[] = [];
    for (const group of others) {
      for (const t of group.tests) {
        // Refused before any key is needed: well-formed vectors for their foreign alg, broken ones as malformed.
        const outcome = await signatureLayer(t.jws, undefined, ['ES256']);
        const allowed =
          t.result === 'valid'
            ? [HEADER_DEVIATIONS[t.comment] ?? 'algorithm_not_allowed']
            : ['algorithm_not_allowed', 'token_malformed'];
        if (!allowed.includes(outcome)) mismatches.push(`${group.comment} tcId ${t.tcId} (${t.result}): ${outcome}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  describe('asymmetric groups, with their own algorithm allowed (RS*, PS*, ES512 are configurable)', () => {
    const groups = jwsFile.testGroups.filter(
      (g) =>
        !ES256_GROUPS.includes(g.comment) &&
        !KEY_USE_GROUPS.includes(g.comment) &&
        g.public?.kty &&
        g.public.kty !== 'oct',
    );
    test.each(groups.map((g, i) => [g.comment, i, g] as const))(
      '%s (group %i): labelled results',
      async (_name, _i, group) => {
        const key = await keyOf(group);
        const alg = algorithmOf(group)!;
        const mismatches: string[] = [];
        for (const t of group.tests) {
          const outcome = await signatureLayer(t.jws, key, [alg]);
          const expected = t.result === 'valid' ? (DEVIATIONS[t.comment] ?? 'accepted') : 'rejected';
          if (expected === 'rejected' ? outcome === 'accepted' : outcome !== expected) {
            mismatches.push(`tcId ${t.tcId} ${t.comment}: ${t.result} but ${outcome}`);
          }
        }
        expect(mismatches).toEqual([]);
      },
    );
  });

  test('HMAC groups cannot even be configured: HS* and none are refused at startup', () => {
    const algs = new Set(
      jwsFile.testGroups.filter((g) => !g.public).flatMap((g) => g.tests.map((t) => headerAlg(t.jws))),
    );
    algs.delete(undefined);
    expect([...algs].sort()).toEqual(['HS256', 'none']);
    for (const alg of algs)
      expect(() => createTokenGate({ audience: AUDIENCE, algorithms: [alg as string] })).toThrow(OptionsError);
  });
});

/** The alg of a compact JWS header, when the header decodes to an object with a string alg. */
function headerAlg(jws: string): string | undefined {
  try {
    const alg = decodeSegment(jws.split('.')[0]!).alg;
    return typeof alg === 'string' ? alg : undefined;
  } catch {
    return undefined;
  }
}

describe('Wycheproof ecdsa_secp256r1_sha256_p1363_test.json', () => {
  /** The library's structural check, then the WebCrypto call flattenedVerify makes for ES256. */
  async function es256(key: CryptoKey, msg: Buffer<ArrayBuffer>, sig: Buffer<ArrayBuffer>): Promise<Outcome> {
    try {
      checkSignatureEncoding('ES256', sig);
    } catch (error) {
      if (error instanceof TokenGateError) return error.reason;
      throw error;
    }
    return (await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, msg))
      ? 'accepted'
      : 'signature_invalid';
  }

  test('the vector file is the one this suite was written against', () => {
    const tests = p1363File.testGroups.flatMap((g) => g.tests);
    expect(tests).toHaveLength(p1363File.numberOfTests);
    expect(new Set(p1363File.testGroups.map((g) => g.sha))).toEqual(new Set(['SHA-256']));
    // No vector is labelled "acceptable" in this file; if one appears, the test below says what happened.
    expect(tests.filter((t) => t.result === 'acceptable')).toEqual([]);
  });

  describe.each(p1363File.testGroups.map((g, i) => [i, g.tests.length, g] as const))(
    'group %i (%i vectors)',
    (_i, _n, group) => {
      let key: CryptoKey;
      beforeAll(async () => {
        // Some groups have no JWK (points jose would not export): the DER form exists for all.
        key = await crypto.subtle.importKey(
          'spki',
          Buffer.from(group.publicKeyDer, 'hex'),
          { name: 'ECDSA', namedCurve: 'P-256' },
          false,
          ['verify'],
        );
      });

      test.each(group.tests.map((t) => [t.tcId, t.comment, t.result, t] as const))(
        'tcId %i %s: %s',
        async (_id, _comment, result, t) => {
          const outcome = await es256(key, Buffer.from(t.msg, 'hex'), Buffer.from(t.sig, 'hex'));
          if (result === 'valid') expect(outcome).toBe('accepted');
          else if (result === 'invalid') expect(outcome).not.toBe('accepted');
          else expect(['accepted', 'signature_invalid']).toContain(outcome);
        },
      );

      test('every signature transplanted into a JWS is refused by the full signature layer, without a crash', async () => {
        // Signed over another message, so none may verify over a JWS signing input.
        const outcomes = new Set<string>();
        for (const t of group.tests) {
          const jws = `${b64url(JSON.stringify({ alg: 'ES256' }))}.${b64url(Buffer.from(t.msg, 'hex'))}.${b64url(Buffer.from(t.sig, 'hex'))}`;
          outcomes.add(await signatureLayer(jws, key, ['ES256']));
        }
        expect([...outcomes].filter((o) => o !== 'signature_invalid' && o !== 'token_malformed')).toEqual([]);
      });
    },
  );
});
