/**
 * Identity claims (RFC 7519 §4.1.1, §4.1.3; RFC 8725 §2.7 substitution, §3.8, §3.9): `iss` equals
 * an allowed issuer exactly; `aud` (string or list) contains the project. A genuine token issued
 * for another project is a substitution attack and must not pass.
 */
import { createTestIssuer } from '../../lib/testing';
import { AUDIENCE, ISSUER, OTHER_AUDIENCE } from '../helpers/fixtures';
import { createHarness, expectRejected, type Harness, useIssuerHarness } from '../helpers/harness';

const env = useIssuerHarness();

describe('iss must equal an allowed issuer exactly', () => {
  test.each([
    ['a trailing slash', 'picketapi.com/'],
    ['a scheme', 'https://picketapi.com'],
    ['different case', 'PicketAPI.com'],
    ['a leading space', ' picketapi.com'],
    ['a suffix domain', 'picketapi.com.evil.example'],
    ['a prefix', 'evil-picketapi.com'],
    ['a NUL byte', 'picketapi.com\u0000'],
  ])('rejects iss with %s', async (_name, iss) => {
    const token = await env.issuer.sign({ iss });
    expectRejected(await env.harness.get('/me', token), 401, 'issuer_mismatch', token);
  });

  test.each([
    ['a list holding the issuer', [ISSUER]],
    ['a number', 1],
    ['null', null],
    ['an object', { iss: ISSUER }],
  ])('rejects iss as %s', async (_name, iss) => {
    const token = await env.issuer.sign({ iss });
    expectRejected(await env.harness.get('/me', token), 401, 'issuer_mismatch', token);
  });

  test('rejects a token without iss (claim_invalid, as every missing required claim)', async () => {
    const token = await env.issuer.sign({ iss: undefined });
    expectRejected(await env.harness.get('/me', token), 401, 'claim_invalid', token);
  });

  test('accepts any issuer of a configured list, and only those', async () => {
    const listed = await createHarness({ ...env.issuer.options, issuer: ['other.example', ISSUER] });
    try {
      expect((await listed.get('/me', await env.issuer.sign())).status).toBe(200);
      const token = await env.issuer.sign({ iss: 'third.example' });
      expectRejected(await listed.get('/me', token), 401, 'issuer_mismatch', token);
    } finally {
      await listed.close();
    }
  });
});

describe('aud must contain the project', () => {
  test('rejects a token without aud (claim_invalid, as every missing required claim)', async () => {
    const token = await env.issuer.sign({ aud: undefined });
    expectRejected(await env.harness.get('/me', token), 401, 'claim_invalid', token);
  });

  test.each([
    ['another project', OTHER_AUDIENCE],
    ['different case', AUDIENCE.toUpperCase()],
    ['a trailing space', `${AUDIENCE} `],
    ['a prefix of the project', AUDIENCE.slice(0, -1)],
    ['the project plus a suffix', `${AUDIENCE}-2`],
    ['an empty string', ''],
  ])('rejects aud naming %s', async (_name, aud) => {
    const token = await env.issuer.sign({ aud });
    expectRejected(await env.harness.get('/me', token), 401, 'audience_mismatch', token);
  });

  test('accepts aud as a list holding the project among others', async () => {
    expect((await env.harness.get('/me', await env.issuer.sign({ aud: [OTHER_AUDIENCE, AUDIENCE] }))).status).toBe(200);
  });

  test.each([
    ['a list without the project', [OTHER_AUDIENCE, 'third-project']],
    ['an empty list', []],
    ['a list with the project nested', [[AUDIENCE]]],
    ['a list mixing the project with a number', [AUDIENCE, 1]],
    ['a number', 42],
    ['an object', { [AUDIENCE]: true }],
    ['null', null],
  ])('rejects aud as %s', async (_name, aud) => {
    const token = await env.issuer.sign({ aud });
    expectRejected(await env.harness.get('/me', token), 401, 'audience_mismatch', token);
  });

  test('rejects a genuine token the same issuer signed for another project', async () => {
    const other = await createTestIssuer({ audience: OTHER_AUDIENCE });
    try {
      // Same issuer name, and this gate's key set: only aud tells the projects apart.
      const token = await env.issuer.sign({ aud: OTHER_AUDIENCE });
      expectRejected(await env.harness.get('/me', token), 401, 'audience_mismatch', token);
      // A token from another issuer instance (other keys) fails on the key, before any claim.
      const foreign = await other.sign({ aud: AUDIENCE });
      expectRejected(await env.harness.get('/me', foreign), 401, 'key_not_found', foreign);
    } finally {
      await other.close();
    }
  });

  test('a gate for another project rejects this project’s token', async () => {
    const otherProject = await createHarness({ ...env.issuer.options, audience: OTHER_AUDIENCE });
    try {
      const token = await env.issuer.sign();
      expectRejected(await otherProject.get('/me', token), 401, 'audience_mismatch', token);
    } finally {
      await otherProject.close();
    }
  });
});
