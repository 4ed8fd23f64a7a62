/**
 * The issuer's signing keys: fresh ES256 pairs, the published set (the JWKS) and one key the JWKS
 * never publishes, for forged-signature tests.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { PublicJwk } from '../jwks/parse';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: PublicJwk;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    privateKey,
    publicKey,
    publicJwk: { ...(await exportJWK(publicKey)), kty: 'EC', kid, alg: 'ES256', use: 'sig' },
  };
}

/** The current signing key, the keys the JWKS publishes, and a lazily made unpublished one. */
export class KeyRing {
  private unpublishedKey: SigningKey | undefined;

  private constructor(
    private currentKey: SigningKey,
    private publishedKeys: SigningKey[],
  ) {}

  static async create(): Promise<KeyRing> {
    const key = await newKey();
    return new KeyRing(key, [key]);
  }

  get current(): SigningKey {
    return this.currentKey;
  }

  get published(): readonly SigningKey[] {
    return this.publishedKeys;
  }

  /** A key that signs but that the JWKS never lists. */
  async unpublished(): Promise<SigningKey> {
    return (this.unpublishedKey ??= await newKey());
  }

  /** The JWKS document: public parts only. */
  jwks(): { keys: PublicJwk[] } {
    return { keys: this.publishedKeys.map((k) => k.publicJwk) };
  }

  /** Public keys a token with header `kid` may have been signed with (all of them without a kid). */
  publicKeysFor(kid: string | undefined): CryptoKey[] {
    return this.publishedKeys.filter((k) => kid === undefined || k.kid === kid).map((k) => k.publicKey);
  }

  async rotate(keepPrevious: boolean): Promise<void> {
    this.currentKey = await newKey();
    this.publishedKeys = keepPrevious ? [...this.publishedKeys, this.currentKey] : [this.currentKey];
  }
}
