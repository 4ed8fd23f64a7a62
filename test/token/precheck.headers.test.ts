/**
 * Protected headers are decoded once per process for tokens that verified (lib/token/precheck.ts):
 * an issuer signs every token under the same header, so later tokens skip its base64url and JSON.
 * The risk is a remembered header that also skips a rule: a gate that does not allow the header's
 * `alg` or `typ` must still refuse a token under it, however many other gates accepted that header.
 */
import { createTokenGate } from '../../lib';
import { AUDIENCE, ISSUER, picketClaims } from '../helpers/fixtures';
import {
  makeSigningKey,
  signAccessToken,
  startJwksServer,
  type JwksServer,
  type SigningKey,
} from '../helpers/jwks-server';

let server: JwksServer;
let key: SigningKey;
beforeAll(async () => {
  key = await makeSigningKey('header-key');
  server = await startJwksServer({ keys: [key.jwk] });
});
afterAll(() => server.close());

const options = () => ({ audience: AUDIENCE, issuer: ISSUER, jwksUri: server.uri, cache: false as const });
const headerOf = (token: string) => token.split('.')[0];

describe('a header remembered from verified tokens', () => {
  test('still meets every rule of each gate: typ and algorithms are checked for every token', async () => {
    const accepting = createTokenGate(options());
    const first = await signAccessToken(key, {}, picketClaims());
    await expect(accepting.verify(first)).resolves.toMatchObject({ iss: ISSUER });

    const rules: Array<[string, Parameters<typeof createTokenGate>[0], string]> = [
      ['typ at+jwt only', { ...options(), typ: 'at+jwt' }, 'type_not_allowed'],
      ['ES384 only', { ...options(), algorithms: ['ES384'] }, 'algorithm_not_allowed'],
    ];
    for (const [, gateOptions, reason] of rules) {
      const next = await signAccessToken(key, {}, picketClaims());
      expect(headerOf(next)).toBe(headerOf(first));
      await expect(createTokenGate(gateOptions).verify(next)).rejects.toMatchObject({ status: 401, reason });
    }
    // The gate that accepted the header still accepts new tokens under it.
    await expect(accepting.verify(await signAccessToken(key, {}, picketClaims()))).resolves.toMatchObject({
      iss: ISSUER,
    });
  });

  test('a forged token under a remembered header is still refused for its signature', async () => {
    const gate = createTokenGate(options());
    const good = await signAccessToken(key, {}, picketClaims());
    await gate.verify(good);
    const other = await signAccessToken(key, {}, picketClaims({ tid: 'another-token' }));
    const forged = `${headerOf(good)}.${other.split('.')[1]}.${good.split('.')[2]}`;
    await expect(gate.verify(forged)).rejects.toMatchObject({ status: 401, reason: 'signature_invalid' });
  });
});
