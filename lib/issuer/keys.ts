/**
 * The issuer's signing keys: ES256 private keys loaded and checked at startup, the JWKS that
 * publishes their public halves, and compact ES256 signing with `node:crypto`.
 *
 * The first key signs; every key is published, so a rotation is a change of order (see
 * `jwksDocument` for its timing). Each key's `kid` is its JWK's own `kid` or, without one, its RFC
 * 7638 thumbprint: a key keeps its id across restarts and instances without anyone choosing one.
 */
import { createECDH, createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { JsonWebKey as NodeJwk } from 'node:crypto';
import { OptionsError } from '../errors';

/** A private key as configured: PEM (PKCS#8 `PRIVATE KEY` or SEC1 `EC PRIVATE KEY`) or a JWK with `d`. */
export type SigningKeyInput = string | PrivateJwk;

/** A private JWK as configured (the published declarations own this type: no @types/node version decides it). */
export interface PrivateJwk {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  kid?: string;
  [member: string]: unknown;
}

/** The public JWK the JWKS publishes for a signing key: never `d`. */
export interface PublishedJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

/** One loaded key. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: PublishedJwk;
}

/** The issuer's keys: the one that signs (the first) and all that are published. */
export interface SigningKeys {
  readonly current: SigningKey;
  readonly keys: readonly SigningKey[];
  /** The JWK Set document (RFC 7517 §5). */
  readonly jwks: { readonly keys: readonly PublishedJwk[] };
}

/** `Cache-Control` of the JWKS document (see `jwksDocument`). */
export const JWKS_CACHE_CONTROL = 'public, max-age=300';

/** Most keys published at once (what a gate accepts in a static set). */
const MAX_KEYS = 100;
/** The gate's limit on a `kid`. */
const MAX_KID_LENGTH = 256;
const OPTION = 'signingKeys';

function fail(index: number, problem: string): never {
  throw new OptionsError(`${OPTION}[${index}]`, problem);
}

/** The RFC 7638 thumbprint of a P-256 public key: SHA-256 over its required members, in order. */
function thumbprint(x: string, y: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ crv: 'P-256', kty: 'EC', x, y }))
    .digest('base64url');
}

const TYPE_NAMES: Record<string, string> = { rsa: 'RSA', 'rsa-pss': 'RSA-PSS', ed25519: 'Ed25519', ed448: 'Ed448' };
const CURVE_NAMES: Record<string, string> = { secp384r1: 'P-384', secp521r1: 'P-521' };

function describeType(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type !== 'ec') return `is an ${TYPE_NAMES[type] ?? type} key: ES256 needs an EC key on P-256`;
  const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown curve';
  return `is an EC key on ${CURVE_NAMES[curve] ?? curve}: ES256 needs P-256`;
}

function fromPem(pem: string, index: number): KeyObject {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem)) {
    fail(index, 'is an encrypted PEM: decrypt it first (a passphrase is not supported)');
  }
  if (/-----BEGIN (PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----/.test(pem)) {
    fail(index, 'is a public key: the issuer signs, so it needs the private key');
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return fail(index, 'is not a readable private key (a PKCS#8 or SEC1 PEM, or a JWK with d)');
  }
}

function fromJwk(jwk: Record<string, unknown>, index: number): KeyObject {
  if (jwk.d === undefined) fail(index, 'is a public JWK (no "d"): the issuer signs, so it needs the private key');
  if (jwk.alg !== undefined && jwk.alg !== 'ES256')
    fail(index, `has alg ${JSON.stringify(jwk.alg)}: it must sign ES256`);
  if (jwk.use !== undefined && jwk.use !== 'sig') fail(index, `has use ${JSON.stringify(jwk.use)}: it must be "sig"`);
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('sign'))) {
    fail(index, 'has key_ops without "sign"');
  }
  try {
    return createPrivateKey({ key: jwk as NodeJwk, format: 'jwk' });
  } catch {
    if (jwk.kty === 'EC' && jwk.crv !== 'P-256' && typeof jwk.crv === 'string') {
      fail(index, `is an EC key on ${jwk.crv}: ES256 needs P-256`);
    }
    return fail(index, 'is not a readable private JWK (kty, crv, x, y and d)');
  }
}

/** Loads, checks and identifies one configured key. */
function load(input: unknown, index: number): SigningKey {
  const isJwk = typeof input === 'object' && input !== null && !Array.isArray(input);
  if (typeof input !== 'string' && !isJwk) fail(index, 'must be a PEM private key string or a private JWK object');
  const privateKey = isJwk ? fromJwk(input as Record<string, unknown>, index) : fromPem(input as string, index);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    fail(index, describeType(privateKey));
  }
  // RFC 7518 §6.2.2.1: d is the full 32 bytes; node:crypto would pad a short one.
  if (isJwk && Buffer.from(String((input as { d: unknown }).d), 'base64url').length !== 32) {
    fail(index, 'has a d that is not 32 bytes (RFC 7518 §6.2.2.1)');
  }
  const { d, x, y } = privateKey.export({ format: 'jwk' });
  // Neither a JWK nor a PEM is checked for a public point that belongs to its d: derive the point
  // from d alone, so a key cannot publish one key and sign with another.
  let point: Buffer;
  try {
    const secret = Buffer.from(d!, 'base64url');
    if (secret.length !== 32) throw new Error('d is not 32 bytes');
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(secret);
    point = ecdh.getPublicKey();
  } catch {
    return fail(index, 'has a d that is not a P-256 private key');
  }
  if (point.subarray(1, 33).toString('base64url') !== x || point.subarray(33).toString('base64url') !== y) {
    fail(index, 'has x and y that are not the public key of its d');
  }
  const ownKid = isJwk ? (input as { kid?: unknown }).kid : undefined;
  if (ownKid !== undefined && (typeof ownKid !== 'string' || ownKid.length === 0 || ownKid.length > MAX_KID_LENGTH)) {
    fail(index, `has a kid that is not a string of 1 to ${MAX_KID_LENGTH} characters`);
  }
  const kid = ownKid ?? thumbprint(x, y);
  const publicJwk: PublishedJwk = Object.freeze({
    kty: 'EC',
    crv: 'P-256',
    x,
    y,
    kid,
    alg: 'ES256',
    use: 'sig',
  });
  return Object.freeze({ kid, privateKey, publicJwk });
}

/**
 * Loads the issuer's signing keys at startup: the first signs, all are published. Each is an
 * ES256 (P-256) private key as PEM (PKCS#8 or SEC1) or JWK; its `kid` is the JWK's own or its RFC
 * 7638 thumbprint. `{ ephemeral: true }` generates one key for this process (tokens stop
 * verifying when it restarts: for development and tests).
 *
 * Throws an `OptionsError` naming the entry (`signingKeys[1]`) and its problem: not a private key,
 * not P-256, unreadable, a public point that is not its own, a bad or repeated `kid`; or an empty list.
 *
 * @example loadSigningKeys([process.env.ISSUER_KEY_PEM!, previousKeyJwk])
 */
export function loadSigningKeys(input: readonly SigningKeyInput[] | { ephemeral: true }): SigningKeys {
  let entries: readonly unknown[];
  if (Array.isArray(input)) {
    entries = input;
  } else if (typeof input === 'object' && input !== null && (input as { ephemeral?: unknown }).ephemeral === true) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    entries = [privateKey.export({ format: 'pem', type: 'pkcs8' })];
  } else {
    throw new OptionsError(OPTION, 'must be a list of private keys (PEM or JWK), or { ephemeral: true }');
  }
  if (entries.length === 0) throw new OptionsError(OPTION, 'must hold at least one key (or be { ephemeral: true })');
  if (entries.length > MAX_KEYS) throw new OptionsError(OPTION, `must hold at most ${MAX_KEYS} keys`);
  const keys = entries.map(load);
  keys.forEach((key, index) => {
    const first = keys.findIndex((other) => other.kid === key.kid);
    if (first !== index) fail(index, `has the kid ${JSON.stringify(key.kid)} of ${OPTION}[${first}]`);
  });
  return Object.freeze({
    current: keys[0]!,
    keys: Object.freeze(keys),
    jwks: Object.freeze({ keys: Object.freeze(keys.map((key) => key.publicJwk)) }),
  });
}

export interface SignTokenOptions {
  /** Whether the header names the key (`kid`). Default `true`; `false` for the issuer's legacy token profile. */
  kid?: boolean;
}

/**
 * Signs `claims` as a compact ES256 JWS (a JWT): header `{ alg: 'ES256', typ: 'JWT', kid }`, the
 * claims as JSON, and the signature as r‖s (RFC 7518 §3.4).
 *
 * @example signToken({ iss, aud, sub, walletAddress, iat, exp }, keys.current)
 */
export function signToken(claims: Record<string, unknown>, key: SigningKey, options: SignTokenOptions = {}): string {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new TypeError('claims must be a plain object');
  }
  const header = options.kid === false ? { alg: 'ES256', typ: 'JWT' } : { alg: 'ES256', typ: 'JWT', kid: key.kid };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** What `/.well-known/jwks.json` answers: the headers and the JSON body. */
export interface JwksResponse {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The JWKS document for `/.well-known/jwks.json`, with `Cache-Control: public, max-age=300`.
 *
 * How that meets a gate's key-set cache: a gate takes the `max-age` as its set's freshness
 * (clamped to 30 s – 1 h, so 300 s stands) and refetches on use from 80 % of it; it also refetches
 * at once, at most once per `jwks.cooldownMs` (30 s by default), when a token names a `kid` it does
 * not hold. Hence, to rotate: (1) add the new key second, so it is published but does not sign;
 * (2) wait at least 300 s, so every gate holds it (tokens without `kid`, the legacy profile, never
 * trigger the early refetch); (3) move it first, so it signs; (4) keep the old key published until
 * the last token it signed has expired, then drop it. A dropped key may still verify at a gate for
 * up to 300 s, and longer while the gate cannot reach the issuer (it serves its last set then, up
 * to `jwks.staleIfErrorMs`).
 */
export function jwksDocument(keys: SigningKeys): JwksResponse {
  return {
    headers: { 'Content-Type': 'application/json', 'Cache-Control': JWKS_CACHE_CONTROL },
    body: JSON.stringify(keys.jwks),
  };
}
