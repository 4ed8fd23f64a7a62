/**
 * The keys an issuer holds while it runs: the one that signs, the ones its JWKS publishes, the
 * public keys its own verifier checks tokens with, and (for tests) rotation and a key the JWKS
 * never publishes.
 */
import { webcrypto } from 'node:crypto';
import { loadSigningKeys, type SigningKey, type SigningKeys } from './keys';

export class KeyRing {
  private unpublishedKey: SigningKey | undefined;
  private readonly verifying = new WeakMap<SigningKey, Promise<CryptoKey>>();

  private constructor(
    private published: readonly SigningKey[],
    private signing: SigningKey,
  ) {}

  static from(keys: SigningKeys): KeyRing {
    return new KeyRing(keys.keys, keys.current);
  }

  get current(): SigningKey {
    return this.signing;
  }

  /** A key that signs but that the JWKS never lists. */
  unpublished(): SigningKey {
    return (this.unpublishedKey ??= loadSigningKeys({ ephemeral: true }).current);
  }

  /** The JWKS document: public parts only. */
  jwks(): { keys: Array<SigningKey['publicJwk']> } {
    return { keys: this.published.map((key) => key.publicJwk) };
  }

  /** Public keys a token with header `kid` may have been signed with (all of them without a kid). */
  publicKeysFor(kid: string | undefined): Promise<CryptoKey[]> {
    const keys = this.published.filter((key) => kid === undefined || key.kid === kid);
    return Promise.all(keys.map((key) => this.verifierOf(key)));
  }

  /** Signs with a new key from now on; the old ones stay published unless `keepPrevious` is false. */
  rotate(keepPrevious: boolean): void {
    const next = loadSigningKeys({ ephemeral: true }).current;
    this.signing = next;
    this.published = keepPrevious ? [...this.published, next] : [next];
  }

  private verifierOf(key: SigningKey): Promise<CryptoKey> {
    let imported = this.verifying.get(key);
    if (imported === undefined) {
      const { kty, crv, x, y } = key.publicJwk;
      imported = webcrypto.subtle.importKey('jwk', { kty, crv, x, y }, { name: 'ECDSA', namedCurve: 'P-256' }, true, [
        'verify',
      ]);
      this.verifying.set(key, imported);
    }
    return imported;
  }
}
