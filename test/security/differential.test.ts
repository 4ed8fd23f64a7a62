/**
 * The ES256 fast path (node:crypto's OpenSSL binding over a KeyObject, see lib/token/ecdsa.ts)
 * against jose: for every Wycheproof P-256 vector and a few thousand generated tokens (valid,
 * tampered payload, tampered or malleated signatures, another key, degenerate scalars), both
 * give the same answer. jose here is `flattenedVerify` itself for JWS input, and the WebCrypto
 * call it makes for ES256 where the message cannot be a JWS signing input (the P1363 vectors).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import fc from 'fast-check';
import { exportJWK, flattenedVerify, generateKeyPair, importJWK, type JWK } from 'jose';
import { es256KeyObject, verifyEs256 } from '../../lib/token/ecdsa';
import { verifySignature, type JwsSegments } from '../../lib/token/signature';
import { P256_N, b64url, encodeSegment, picketClaims } from '../helpers/fixtures';
import { scalar, toBigInt, wycheproofDir } from './helpers';

const subtle = webcrypto.subtle;
const load = <T>(file: string): T => JSON.parse(readFileSync(path.join(wycheproofDir(), file), 'utf8')) as T;

/** jose's answer for compact JWS segments under `key`. */
async function jose(jws: JwsSegments, key: CryptoKey): Promise<boolean> {
  try {
    await flattenedVerify(jws, key, { algorithms: ['ES256'] });
    return true;
  } catch {
    return false;
  }
}

/** The library's answer through the dispatch the verifier uses (the fast path for ES256 keys). */
async function library(jws: JwsSegments, key: CryptoKey, alg?: string): Promise<boolean> {
  try {
    await verifySignature(jws, key, ['ES256'], alg);
    return true;
  } catch {
    return false;
  }
}

/** The fast path directly: OpenSSL through node:crypto over the KeyObject of `key`. */
async function fastPath(jws: JwsSegments, key: CryptoKey): Promise<boolean> {
  const keyObject = es256KeyObject(key);
  if (keyObject === undefined) throw new Error('not an ES256 key');
  return verifyEs256(
    keyObject,
    Buffer.from(`${jws.protected}.${jws.payload}`),
    Buffer.from(jws.signature, 'base64url'),
  );
}

const segmentsOf = (token: string): JwsSegments => {
  const [h, p, s] = token.split('.');
  return { protected: h!, payload: p!, signature: s! };
};

/** Every answer for one input, labelled, so a disagreement names the path that departs. */
async function answers(jws: JwsSegments, key: CryptoKey): Promise<Record<string, boolean>> {
  return {
    jose: await jose(jws, key),
    verifySignature: await library(jws, key, 'ES256'),
    verifyEs256: await fastPath(jws, key),
  };
}

function agree(all: Record<string, boolean>): boolean {
  const values = Object.values(all);
  return values.every((v) => v === values[0]);
}

describe('Wycheproof vectors: the fast path and jose agree', () => {
  interface JwsGroup {
    comment: string;
    public?: JWK;
    tests: Array<{ tcId: number; jws: string; result: string }>;
  }
  interface P1363Group {
    publicKeyDer: string;
    tests: Array<{ tcId: number; msg: string; sig: string; result: string }>;
  }

  test('every ES256 JWS vector (groups es256 and SpecialCaseEs256)', async () => {
    const file = load<{ testGroups: JwsGroup[] }>('json_web_signature_test.json');
    const groups = file.testGroups.filter((g) => ['es256', 'SpecialCaseEs256'].includes(g.comment));
    const disagreements: string[] = [];
    let checked = 0;
    for (const group of groups) {
      const { use: _use, key_ops: _ops, alg: _alg, ...material } = group.public!;
      const key = (await importJWK(material, 'ES256')) as CryptoKey;
      for (const t of group.tests) {
        const jws = segmentsOf(t.jws);
        const labelled: Record<string, boolean> = {
          jose: await jose(jws, key),
          verifySignature: await library(jws, key),
        };
        // The signature bytes through the fast path itself too, whatever the header says.
        if (typeof jws.signature === 'string' && /^[A-Za-z0-9_-]*$/.test(jws.signature)) {
          labelled.verifyEs256 = await fastPath(jws, key);
        }
        if (!agree(labelled)) disagreements.push(`${group.comment} tcId ${t.tcId}: ${JSON.stringify(labelled)}`);
        checked += 1;
      }
    }
    expect(checked).toBe(39);
    expect(disagreements).toEqual([]);
  });

  test('all 262 ecdsa_secp256r1_sha256_p1363 vectors, against the WebCrypto call jose makes', async () => {
    const file = load<{ testGroups: P1363Group[] }>('ecdsa_secp256r1_sha256_p1363_test.json');
    const disagreements: string[] = [];
    let checked = 0;
    for (const group of file.testGroups) {
      const key = await subtle.importKey(
        'spki',
        Buffer.from(group.publicKeyDer, 'hex'),
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      );
      const keyObject = es256KeyObject(key as CryptoKey)!;
      for (const t of group.tests) {
        const msg = Buffer.from(t.msg, 'hex');
        const sig = Buffer.from(t.sig, 'hex');
        const labelled = {
          webcrypto: await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, msg),
          verifyEs256: await verifyEs256(keyObject, msg, sig),
          label: t.result === 'valid',
        };
        if (!agree(labelled)) disagreements.push(`tcId ${t.tcId} (${t.result}): ${JSON.stringify(labelled)}`);
        checked += 1;
      }
    }
    expect(checked).toBe(262);
    expect(disagreements).toEqual([]);
  });
});

describe('generated tokens: the fast path and jose agree', () => {
  let signer: CryptoKey;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    signer = pair.privateKey as CryptoKey;
    // Through a JWK, as the key set imports keys.
    key = (await importJWK(await exportJWK(pair.publicKey), 'ES256')) as CryptoKey;
    const other = await generateKeyPair('ES256', { extractable: true });
    otherKey = (await importJWK(await exportJWK(other.publicKey), 'ES256')) as CryptoKey;
  });

  async function sign(payload: Record<string, unknown>): Promise<string> {
    const input = `${encodeSegment({ alg: 'ES256', typ: 'JWT', kid: 'k' })}.${encodeSegment(payload)}`;
    const signature = await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer, Buffer.from(input));
    return `${input}.${b64url(new Uint8Array(signature))}`;
  }

  const withRawSignature = (token: string, bytes: Uint8Array): string =>
    `${token.slice(0, token.lastIndexOf('.'))}.${b64url(bytes)}`;
  const rs = (token: string) => {
    const sig = Buffer.from(token.split('.')[2]!, 'base64url');
    return { r: toBigInt(sig.subarray(0, 32)), s: toBigInt(sig.subarray(32)) };
  };

  type Variant = 'valid' | 'header' | 'payload' | 'signature' | 'high-s' | 'swapped' | 'other-key' | 'zero-r';
  const variant = fc.constantFrom<Variant>(
    'valid',
    'header',
    'payload',
    'signature',
    'high-s',
    'swapped',
    'other-key',
    'zero-r',
  );

  test('4,000 tokens: valid, tampered header or payload, flipped signature bits, high-S twin, r/s swapped, another key, r = 0', async () => {
    const tally: Record<string, { accepted: number; refused: number }> = {};
    const disagreements: string[] = [];
    await fc.assert(
      fc.asyncProperty(variant, fc.nat(), fc.nat(), async (kind, at, bit) => {
        const token = await sign(picketClaims({ tid: `t-${at}`, nonce: at % 977 }));
        const [h, p] = token.split('.') as [string, string];
        const { r, s } = rs(token);
        let candidate = token;
        let verifyWith = key;
        if (kind === 'payload') {
          const bytes = Buffer.from(p, 'base64url');
          bytes[at % bytes.length]! ^= 1 << (bit % 8);
          candidate = `${h}.${b64url(bytes)}.${token.split('.')[2]}`;
        } else if (kind === 'signature') {
          const bytes = Buffer.from(token.split('.')[2]!, 'base64url');
          bytes[at % 64]! ^= 1 << (bit % 8);
          candidate = withRawSignature(token, bytes);
        } else if (kind === 'high-s') {
          candidate = withRawSignature(token, Buffer.concat([scalar(r), scalar(P256_N - s)]));
        } else if (kind === 'swapped') {
          candidate = withRawSignature(token, Buffer.concat([scalar(s), scalar(r)]));
        } else if (kind === 'other-key') {
          verifyWith = otherKey;
        } else if (kind === 'zero-r') {
          candidate = withRawSignature(token, Buffer.concat([scalar(0n), scalar(s)]));
        } else if (kind === 'header') {
          const bytes = Buffer.from(h, 'base64url');
          bytes[at % bytes.length]! ^= 1 << (bit % 8);
          candidate = `${b64url(bytes)}.${p}.${token.split('.')[2]}`;
        }
        const all = await answers(segmentsOf(candidate), verifyWith);
        const entry = (tally[kind] ??= { accepted: 0, refused: 0 });
        if (all.jose) entry.accepted += 1;
        else entry.refused += 1;
        if (!agree(all)) disagreements.push(`${kind} ${candidate}: ${JSON.stringify(all)}`);
      }),
      { numRuns: 4000, seed: 17 },
    );
    expect(disagreements).toEqual([]);
    // The generator reached every kind, and jose's answers are the expected ones per kind.
    expect(tally.valid!.refused).toBe(0);
    expect(tally['high-s']!.refused).toBe(0);
    for (const kind of ['header', 'payload', 'signature', 'swapped', 'other-key', 'zero-r'] as const) {
      expect(tally[kind]!.accepted).toBe(0);
      expect(tally[kind]!.refused).toBeGreaterThan(100);
    }
  }, 120_000);

  test('a key that is not ES256 never takes the fast path: jose decides, and refuses', async () => {
    const p384 = await generateKeyPair('ES384', { extractable: true });
    const foreign = (await importJWK(await exportJWK(p384.publicKey), 'ES384')) as CryptoKey;
    expect(es256KeyObject(foreign)).toBeUndefined();
    const token = await sign(picketClaims());
    expect(await library(segmentsOf(token), foreign, 'ES256')).toBe(false);
    expect(await jose(segmentsOf(token), foreign)).toBe(false);
  });

  test('an ES256 key is converted once: the same KeyObject serves every token', () => {
    expect(es256KeyObject(key)).toBeDefined();
    expect(es256KeyObject(key)).toBe(es256KeyObject(key));
  });
});
