/**
 * From a JWKS document to verification keys. Each entry is judged on its own: an unusable entry
 * is skipped and counted, never fatal for the others. Only the document's outer shape and its
 * size can make the whole answer unusable.
 *
 * Security rules (RFC 7517, RFC 8725 §3.1):
 * - An entry is used only for signature verification: `use` must be absent or `sig`, `key_ops`
 *   absent or containing `verify`, and it must hold no private or symmetric material.
 * - Each key is bound to exactly one algorithm family, from its own `alg` or, when absent, from a
 *   curve that names just one (P-256 → ES256). `kty`/`crv` must agree with that algorithm, so a
 *   token's `alg` header can never choose how a key is used. RSA keys need `alg` and 2048 bits.
 * - Points are checked on import (WebCrypto refuses a point off the curve).
 * - Two *different* usable keys under one `kid` are both dropped: a `kid` is the issuer's word on
 *   which key signed, and one that names two keys is a publishing mistake or an injected key.
 *   Keeping either would let the order of the document decide. A key listed twice verbatim is
 *   kept once.
 */
import { importJwkWithJose } from './jose';

/**
 * The public members of a JSON Web Key this library reads and publishes (RFC 7517 §4, RFC 7518
 * §6). The library's own type, so that its declarations never name jose's.
 */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  [member: string]: unknown;
}

/** A key ready for verification, with the algorithms it may verify. */
export interface VerificationKey {
  /** Identity across fetches: the kid and the public key material. */
  id: string;
  kid: string | undefined;
  algs: readonly string[];
  key: CryptoKey;
}

export interface ParsedKeySet {
  keys: VerificationKey[];
  /** Entries left out: unusable on their own, repeated, or two keys under one kid. */
  skipped: number;
}

/** The document is not a JWK Set we are willing to read at all. */
export class KeySetFormatError extends Error {
  override name = 'KeySetFormatError';
}

const MAX_KID_LENGTH = 256;
const MIN_RSA_MODULUS_BYTES = 256;
/** Members that only private or symmetric keys carry. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const EDDSA = ['EdDSA', 'Ed25519'] as const;

interface Shape {
  kty: string;
  crv?: string;
  algs: readonly string[];
}

/** The key shape each accepted `alg` requires; Ed25519 is the fully specified name of EdDSA here. */
const SHAPE_OF_ALG: Record<string, Shape> = {
  ES256: { kty: 'EC', crv: 'P-256', algs: ['ES256'] },
  ES384: { kty: 'EC', crv: 'P-384', algs: ['ES384'] },
  ES512: { kty: 'EC', crv: 'P-521', algs: ['ES512'] },
  EdDSA: { kty: 'OKP', crv: 'Ed25519', algs: EDDSA },
  Ed25519: { kty: 'OKP', crv: 'Ed25519', algs: EDDSA },
  RS256: { kty: 'RSA', algs: ['RS256'] },
  RS384: { kty: 'RSA', algs: ['RS384'] },
  RS512: { kty: 'RSA', algs: ['RS512'] },
  PS256: { kty: 'RSA', algs: ['PS256'] },
  PS384: { kty: 'RSA', algs: ['PS384'] },
  PS512: { kty: 'RSA', algs: ['PS512'] },
};

/** Without `alg`, only a curve that names exactly one algorithm is usable. */
const ALG_OF_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'EdDSA' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shapeOf(jwk: Record<string, unknown>): Shape | undefined {
  const { alg, kty, crv } = jwk;
  let name: string | undefined;
  if (alg === undefined) {
    if (kty === 'EC' || kty === 'OKP') name = typeof crv === 'string' ? ALG_OF_CURVE[crv] : undefined;
  } else if (typeof alg === 'string' && Object.hasOwn(SHAPE_OF_ALG, alg)) {
    name = alg;
  }
  const shape = name === undefined ? undefined : SHAPE_OF_ALG[name];
  if (!shape || shape.kty !== kty || (shape.crv !== undefined && shape.crv !== crv)) return undefined;
  return shape;
}

/** The public members only: nothing else reaches the importer. */
export function publicPart(jwk: Record<string, unknown>): PublicJwk {
  const members = jwk.kty === 'RSA' ? ['kty', 'n', 'e'] : ['kty', 'crv', 'x', 'y'];
  const out: Record<string, unknown> = {};
  for (const name of members) if (jwk[name] !== undefined) out[name] = jwk[name];
  return out as PublicJwk;
}

/**
 * An ES256 key through WebCrypto as jose imports it (ECDSA on P-256, `verify`), without loading
 * jose; every other algorithm through jose's importJWK.
 */
async function importKey(jwk: PublicJwk, alg: string): Promise<CryptoKey | Uint8Array> {
  if (alg === 'ES256') {
    return crypto.subtle.importKey('jwk', jwk as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  }
  return importJwkWithJose(jwk, alg);
}

interface Candidate extends Omit<VerificationKey, 'id'> {
  fingerprint: string;
}

/**
 * Why an entry cannot be used, judged without importing it (the importer still checks the point
 * itself); undefined when it may be. Static key sets (`keys`) report this at startup.
 */
export function entryProblem(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'is not a JWK object';
  const { kid, use, key_ops: keyOps } = entry;
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)) {
    return `has a kid that is not a string of 1 to ${MAX_KID_LENGTH} characters`;
  }
  if (use !== undefined && use !== 'sig') return 'is not a signature key (use)';
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) return 'may not verify (key_ops)';
  if (SECRET_MEMBERS.some((name) => entry[name] !== undefined)) return 'holds private or symmetric key material';
  if (!shapeOf(entry)) return 'does not name one accepted algorithm consistently (alg, kty, crv)';
  const jwk = publicPart(entry);
  if (
    jwk.kty === 'RSA' &&
    !(typeof jwk.n === 'string' && Buffer.byteLength(jwk.n, 'base64url') >= MIN_RSA_MODULUS_BYTES)
  ) {
    return 'is an RSA key shorter than 2048 bits';
  }
  return undefined;
}

async function importEntry(entry: unknown): Promise<Candidate | undefined> {
  if (entryProblem(entry) !== undefined) return undefined;
  const usable = entry as Record<string, unknown>;
  const shape = shapeOf(usable)!;
  const jwk = publicPart(usable);
  try {
    const key = await importKey(jwk, shape.algs[0]!);
    if (key instanceof Uint8Array || key.type !== 'public') return undefined;
    return {
      kid: usable.kid as string | undefined,
      algs: shape.algs,
      key,
      fingerprint: JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e, shape.algs[0]]),
    };
  } catch {
    return undefined;
  }
}

/**
 * Imports the usable keys of a JWK Set document. Throws `KeySetFormatError` when the document is
 * not `{ "keys": [ … ] }` or lists more than `maxKeys` entries (a set that large is refused
 * whole rather than cut, so which keys work never depends on their order).
 */
export async function parseKeySet(body: unknown, maxKeys: number): Promise<ParsedKeySet> {
  if (!isObject(body) || !Array.isArray(body.keys))
    throw new KeySetFormatError('document is not a JWK Set ({"keys": [...]})');
  const entries: unknown[] = body.keys;
  if (entries.length > maxKeys)
    throw new KeySetFormatError(`document lists ${entries.length} keys, more than ${maxKeys}`);
  const imported = await Promise.all(entries.map(importEntry));
  const candidates = imported.filter((c): c is Candidate => c !== undefined);
  const byId = new Map<string, Candidate>();
  const materialOfKid = new Map<string, string>();
  const ambiguousKids = new Set<string>();
  for (const candidate of candidates) {
    const id = `${candidate.kid ?? ''} ${candidate.fingerprint}`;
    if (byId.has(id)) continue;
    byId.set(id, candidate);
    if (candidate.kid === undefined) continue;
    const material = materialOfKid.get(candidate.kid);
    if (material === undefined) materialOfKid.set(candidate.kid, candidate.fingerprint);
    else if (material !== candidate.fingerprint) ambiguousKids.add(candidate.kid);
  }
  const keys: VerificationKey[] = [];
  for (const [id, candidate] of byId) {
    if (candidate.kid !== undefined && ambiguousKids.has(candidate.kid)) continue;
    keys.push({ id, kid: candidate.kid, algs: candidate.algs, key: candidate.key });
  }
  return { keys, skipped: entries.length - keys.length };
}
