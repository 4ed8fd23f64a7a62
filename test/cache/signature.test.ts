/**
 * The ECDSA fast path (node:crypto instead of WebCrypto) accepts exactly what it must: every
 * Wycheproof P-256 P1363 vector gives its expected result, and keys that do not fit the algorithm
 * are refused before any cryptography.
 */
import { KeyObject, sign, verify } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { isEcdsa, verifyEcdsa } from '../../lib/token/signature';

interface WycheproofTest {
  tcId: number;
  comment: string;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface WycheproofGroup {
  publicKeyJwk?: JWK;
  tests: WycheproofTest[];
}

const vectors = path.resolve(__dirname, '../../../shared/vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json');

async function es(alg: 'ES256' | 'ES384' | 'ES512') {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const token = await new CompactSign(new TextEncoder().encode('{"a":1}')).setProtectedHeader({ alg }).sign(privateKey);
  const dot = token.lastIndexOf('.');
  return { publicKey: publicKey as CryptoKey, privateKey: privateKey as CryptoKey, input: token.slice(0, dot), signature: token.slice(dot + 1) };
}

describe('Wycheproof ECDSA P-256 SHA-256 (IEEE P1363) vectors', () => {
  const file = JSON.parse(fs.readFileSync(vectors, 'utf8')) as { testGroups: WycheproofGroup[] };
  const cases: Array<[number, string, WycheproofTest, JWK]> = [];
  for (const group of file.testGroups) {
    for (const t of group.tests) if (group.publicKeyJwk) cases.push([t.tcId, t.comment, t, group.publicKeyJwk]);
  }

  test('the file holds the vectors', () => {
    expect(cases.length).toBeGreaterThan(200);
  });

  test.each(cases)('tcId %i (%s)', async (_id, _comment, t, jwk) => {
    const key = (await importJWK({ ...jwk, kid: undefined }, 'ES256')) as CryptoKey;
    const signature = Buffer.from(t.sig, 'hex').toString('base64url');
    const input = Buffer.from(t.msg, 'hex').toString('latin1');
    const valid = await verifyEcdsa('ES256', key, input, signature).catch(() => false);
    if (t.result === 'valid') expect(valid).toBe(true);
    if (t.result === 'invalid') expect(valid).toBe(false);
  });
});

describe('signatures made by jose verify on the fast path', () => {
  test.each(['ES256', 'ES384', 'ES512'] as const)('%s', async (alg) => {
    const { publicKey, input, signature } = await es(alg);
    expect(isEcdsa(alg)).toBe(true);
    expect(await verifyEcdsa(alg, publicKey, input, signature)).toBe(true);
    expect(await verifyEcdsa(alg, publicKey, `${input}x`, signature)).toBe(false);
  });
});

describe('keys that do not fit the algorithm are refused without cryptography', () => {
  test('a P-384 key and its own SHA-256 signature offered as ES256', async () => {
    const { publicKey, privateKey, input } = await es('ES384');
    const signature = sign('sha256', Buffer.from(input), { key: KeyObject.from(privateKey), dsaEncoding: 'ieee-p1363' });
    expect(verify('sha256', Buffer.from(input), { key: KeyObject.from(publicKey), dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    expect(await verifyEcdsa('ES256', publicKey, input, signature.toString('base64url'))).toBe(false);
  });

  test('a private key', async () => {
    const { privateKey, input, signature } = await es('ES256');
    expect(await verifyEcdsa('ES256', privateKey, input, signature)).toBe(false);
  });

  test('a public key imported for another use', async () => {
    const { publicKey, input, signature } = await es('ES256');
    const jwk = await exportJWK(publicKey);
    const ecdh = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
    expect(await verifyEcdsa('ES256', ecdh, input, signature)).toBe(false);
  });

  test('a signature of the wrong length', async () => {
    const { publicKey, input, signature } = await es('ES256');
    expect(await verifyEcdsa('ES256', publicKey, input, signature.slice(0, -2))).toBe(false);
  });

  test('an algorithm that is not ECDSA', async () => {
    const { publicKey, input, signature } = await es('ES256');
    expect(isEcdsa('RS256')).toBe(false);
    expect(isEcdsa('toString')).toBe(false);
    expect(await verifyEcdsa('RS256', publicKey, input, signature)).toBe(false);
  });
});
