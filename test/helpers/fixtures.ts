/**
 * The names every test shares: the project and issuer a gate trusts, the wallets and contracts
 * tokens speak of, and the few encoders for building tokens by hand. One name per value: a test
 * that needs another project, wallet or contract says so with a name of its own.
 */

/** The project (`aud`) of every gate and issuer unless a test is about audiences. */
export const AUDIENCE = 'test-project';
/** A project the gate does not trust. */
export const OTHER_AUDIENCE = 'another-project';
/** The issuer's `iss`, as Picket writes it and the gate expects by default. */
export const ISSUER = 'picketapi.com';

/** The wallet tokens are issued to by default (the test kit's `TEST_WALLET`). */
export const WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';
/** A second wallet, for tests where two wallets must differ. */
export const OTHER_WALLET = '0x2222222222222222222222222222222222222222';
/** A wallet that holds nothing anywhere. */
export const STRANGER_WALLET = '0x3333333333333333333333333333333333333333';

/** An ERC-721 contract (Bored Ape Yacht Club), lower case as routes usually name it. */
export const APES_CONTRACT = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
/** The same contract in its EIP-55 spelling. */
export const APES_CONTRACT_CHECKSUMMED = '0xBC4CA0EdA7647A8aB7C2061c2E118A18a936f13D';
/** A second contract (CryptoPunks), for proofs that must not count for the first. */
export const PUNKS_CONTRACT = '0xb47e3cd837ddf8e4c57f05d70ab865de6e193bbb';
/** The same contract in its EIP-55 spelling. */
export const PUNKS_CONTRACT_CHECKSUMMED = '0xb47e3cd837dDF8e4c57F05d70Ab865de6e193BBB';

/** P-256 group order n and field prime p (SEC 2, §2.4.2). */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
export const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;

/** The current time as a JWT NumericDate (whole seconds). */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** base64url of bytes or of a string's UTF-8 (Latin-1 is not assumed). */
export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** A JWT segment holding `value` as JSON: the header or payload of a hand-built token. */
export const encodeSegment = (value: unknown): string => b64url(JSON.stringify(value));

/** The JSON object a JWT segment holds, for tampering with a token's header or payload. */
export function decodeSegment(segment: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The (unverified) payload of a compact token. */
export const payloadOf = (token: string): Record<string, unknown> => decodeSegment(token.split('.')[1]!);

/**
 * Picket-shaped claims for `WALLET`, issued now by `ISSUER` for `AUDIENCE` and valid for 12 h. An
 * override of `undefined` removes the claim.
 */
export function picketClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  const claims: Record<string, unknown> = {
    walletAddress: WALLET,
    displayAddress: WALLET,
    chain: 'ethereum',
    sub: `ethereum:${WALLET}`,
    iat: now,
    exp: now + 12 * 3600,
    iss: ISSUER,
    aud: AUDIENCE,
    tid: 'c0ffee00-0000-4000-8000-000000000001',
    ver: 1,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  return claims;
}
