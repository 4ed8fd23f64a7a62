/**
 * ECDSA signature attacks (RFC 7518 §3.4, RFC 8725 §3.4): out-of-range scalars (CVE-2022-21449,
 * "psychic signatures"), wrong lengths, DER instead of raw r‖s, bit flips, and the one variant that
 * *does* verify: the high-S twin of a valid signature. Nothing may depend on the signature bytes.
 */
import { createTestIssuer } from '../../lib/testing';
import type { AccessTokenClaims } from '../../lib';
import { AUDIENCE, P256_N, P256_P, payloadOf } from '../helpers/fixtures';
import { createHarness, expectRejected, type Harness, useIssuerHarness } from '../helpers/harness';
import { scalar, signatureOf, toBigInt, withSignature } from './helpers';

const env = useIssuerHarness();

const split = (token: string) => {
  const sig = signatureOf(token);
  return { r: toBigInt(sig.subarray(0, 32)), s: toBigInt(sig.subarray(32)) };
};
const rawSignature = (r: bigint, s: bigint) => Buffer.concat([scalar(r), scalar(s)]);

/** DER `SEQUENCE { INTEGER r, INTEGER s }` (X9.62), the encoding JWS forbids. */
function der(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let bytes = Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
    while (bytes.length > 1 && bytes[0] === 0 && bytes[1]! < 0x80) bytes = bytes.subarray(1);
    if (bytes[0]! >= 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

const EDGES: Array<[string, bigint]> = [
  ['0', 0n],
  ['1', 1n],
  ['n-1', P256_N - 1n],
  ['n', P256_N],
  ['n+1', P256_N + 1n],
  ['p', P256_P],
];

describe('out-of-range and degenerate scalars', () => {
  const pairs = EDGES.flatMap(([rn, r]) => EDGES.map(([sn, s]) => [rn, r, sn, s] as [string, bigint, string, bigint]));

  test.each(pairs)('rejects r=%s, s=%s', async (_rn, r, _sn, s) => {
    const token = withSignature(await env.issuer.sign(), rawSignature(r, s));
    expectRejected(await env.harness.get('/me', token), 401, 'signature_invalid', token);
  });

  test.each(EDGES)('rejects the real r with s=%s', async (_name, s) => {
    const token = await env.issuer.sign();
    const forged = withSignature(token, rawSignature(split(token).r, s));
    expectRejected(await env.harness.get('/me', forged), 401, 'signature_invalid', forged);
  });

  test.each(EDGES)('rejects r=%s with the real s', async (_name, r) => {
    const token = await env.issuer.sign();
    const forged = withSignature(token, rawSignature(r, split(token).s));
    expectRejected(await env.harness.get('/me', forged), 401, 'signature_invalid', forged);
  });
  // A mod-n alias k + n fits 32 bytes only for k < 2^256 - n (about 2^224), never for a real
  // signature's scalars in practice: n and n+1 above are the aliases of 0 and 1.
});

describe('structural signature checks run before any key lookup', () => {
  test('out-of-range scalars and wrong lengths are refused without fetching the key set', async () => {
    const fresh = await createTestIssuer({ audience: AUDIENCE });
    const gate = await createHarness(fresh.options);
    try {
      const token = await fresh.sign();
      const { r, s } = split(token);
      for (const sig of [
        rawSignature(0n, s),
        rawSignature(r, 0n),
        rawSignature(P256_N, s),
        rawSignature(r, P256_P),
        Buffer.alloc(63, 1),
      ]) {
        const forged = withSignature(token, sig);
        expectRejected(await gate.get('/me', forged), 401, 'signature_invalid', forged);
      }
      expect(fresh.jwksHits).toBe(0);
      // In range but wrong: only the key can tell, so this one is looked up.
      const forged = withSignature(token, rawSignature(r, s === 1n ? 2n : 1n));
      expectRejected(await gate.get('/me', forged), 401, 'signature_invalid', forged);
      expect(fresh.jwksHits).toBe(1);
    } finally {
      await gate.close();
      await fresh.close();
    }
  });
});

describe('signature length and encoding', () => {
  test.each([
    ['empty', 0],
    ['one byte', 1],
    ['32 bytes (r only)', 32],
    ['63 bytes', 63],
    ['65 bytes', 65],
    ['96 bytes (ES384 size)', 96],
    ['132 bytes (ES512 size)', 132],
    ['512 bytes', 512],
  ])('rejects a %s signature', async (_name, length) => {
    const token = await env.issuer.sign();
    const sig = Buffer.alloc(length);
    signatureOf(token).copy(sig);
    const forged = withSignature(token, sig);
    expectRejected(
      await env.harness.get('/me', forged),
      401,
      length === 0 ? 'token_malformed' : 'signature_invalid',
      forged,
    );
  });

  test('rejects the real signature re-encoded as DER', async () => {
    const token = await env.issuer.sign();
    const { r, s } = split(token);
    const forged = withSignature(token, der(r, s));
    expectRejected(await env.harness.get('/me', forged), 401, 'signature_invalid', forged);
  });

  test('rejects the real signature with a zero byte appended or prepended', async () => {
    const token = await env.issuer.sign();
    for (const sig of [
      Buffer.concat([signatureOf(token), Buffer.from([0])]),
      Buffer.concat([Buffer.from([0]), signatureOf(token)]),
    ]) {
      const forged = withSignature(token, sig);
      expectRejected(await env.harness.get('/me', forged), 401, 'signature_invalid', forged);
    }
  });

  test('rejects r and s swapped', async () => {
    const token = await env.issuer.sign();
    const { r, s } = split(token);
    const forged = withSignature(token, rawSignature(s, r));
    expectRejected(await env.harness.get('/me', forged), 401, 'signature_invalid', forged);
  });
});

describe('bit flips', () => {
  test.each([0, 7, 8, 255, 256, 263, 504, 511])(
    'rejects the signature with bit %i flipped (over HTTP)',
    async (bit) => {
      const token = await env.issuer.sign();
      const sig = signatureOf(token);
      sig[bit >> 3]! ^= 0x80 >> (bit & 7);
      const forged = withSignature(token, sig);
      expectRejected(await env.harness.get('/me', forged), 401, 'signature_invalid', forged);
    },
  );

  test('rejects every one of the 512 single-bit flips (same verifier, without HTTP)', async () => {
    const token = await env.issuer.sign();
    const outcomes = new Map<string, number>();
    for (let bit = 0; bit < 512; bit += 1) {
      const sig = signatureOf(token);
      sig[bit >> 3]! ^= 0x80 >> (bit & 7);
      const reason = await env.harness.gate.verify(withSignature(token, sig)).then(
        () => 'accepted',
        (err: { reason?: string }) => err.reason ?? 'crash',
      );
      outcomes.set(reason, (outcomes.get(reason) ?? 0) + 1);
    }
    expect(Object.fromEntries(outcomes)).toEqual({ signature_invalid: 512 });
    await expect(env.harness.gate.verify(token)).resolves.toBeDefined();
  });

  test('rejects a flipped bit in the header or the payload', async () => {
    const token = await env.issuer.sign();
    const [h, p, s] = token.split('.') as [string, string, string];
    const flip = (segment: string) => {
      const bytes = Buffer.from(segment, 'base64url');
      bytes[5]! ^= 0x01;
      return bytes.toString('base64url');
    };
    for (const forged of [`${flip(h)}.${p}.${s}`, `${h}.${flip(p)}.${s}`]) {
      const res = await env.harness.get('/me', forged);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
    }
  });
});

describe('ECDSA malleability: the high-S twin verifies, so nothing may key on signature bytes', () => {
  /** (r, n − s): a second valid signature over the same bytes (SEC 1 §4.1.4 accepts both). */
  const highS = (token: string) => {
    const { r, s } = split(token);
    return withSignature(token, rawSignature(r, P256_N - s));
  };

  test('the twin of a valid signature is itself valid (ECDSA is malleable)', async () => {
    const token = await env.issuer.sign();
    const twin = highS(token);
    expect(twin).not.toBe(token);
    expect((await env.harness.get('/me', token)).status).toBe(200);
    expect((await env.harness.get('/me', twin)).status).toBe(200);
  });

  test('isRevoked sees identical claims for both twins', async () => {
    const seen: AccessTokenClaims[] = [];
    const gate = await createHarness({ ...env.issuer.options, isRevoked: (claims) => (seen.push(claims), false) });
    try {
      const token = await env.issuer.sign();
      expect((await gate.get('/me', token)).status).toBe(200);
      expect((await gate.get('/me', highS(token))).status).toBe(200);
      expect(seen).toHaveLength(2);
      expect(seen[1]).toEqual(seen[0]);
    } finally {
      await gate.close();
    }
  });

  test('revoking by tid rejects both twins, even after the original was cached', async () => {
    const revoked = new Set<string>();
    const gate = await createHarness({ ...env.issuer.options, isRevoked: (claims) => revoked.has(String(claims.tid)) });
    try {
      const token = await env.issuer.sign();
      const twin = highS(token);
      // Both verified once: both sit in the verified-token cache.
      expect((await gate.get('/me', token)).status).toBe(200);
      expect((await gate.get('/me', twin)).status).toBe(200);
      revoked.add(payloadOf(token).tid as string);
      expectRejected(await gate.get('/me', token), 401, 'token_revoked', token);
      expectRejected(await gate.get('/me', twin), 401, 'token_revoked', twin);
      // A twin never seen before is not let through either.
      const { r, s } = split(token);
      expect(P256_N - s).not.toBe(s);
      expectRejected(await gate.get('/me', withSignature(token, rawSignature(r, P256_N - s))), 401, 'token_revoked');
    } finally {
      await gate.close();
    }
  });

  test('revoking a token first seen through its twin rejects the original too', async () => {
    const revoked = new Set<string>();
    const gate = await createHarness({ ...env.issuer.options, isRevoked: (claims) => revoked.has(String(claims.tid)) });
    try {
      const token = await env.issuer.sign();
      expect((await gate.get('/me', highS(token))).status).toBe(200);
      revoked.add(payloadOf(token).tid as string);
      expectRejected(await gate.get('/me', token), 401, 'token_revoked', token);
    } finally {
      await gate.close();
    }
  });

  test('a rejected twin does not deny the original: failures are never cached', async () => {
    let revoke = true;
    const gate = await createHarness({ ...env.issuer.options, isRevoked: () => revoke });
    try {
      const token = await env.issuer.sign();
      expectRejected(await gate.get('/me', highS(token)), 401, 'token_revoked');
      revoke = false;
      expect((await gate.get('/me', token)).status).toBe(200);
      expect((await gate.get('/me', highS(token))).status).toBe(200);
    } finally {
      await gate.close();
    }
  });
});
