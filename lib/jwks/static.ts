/**
 * A key set given in the options (`keys: { keys: [...] }`) instead of fetched from `jwksUri`: for
 * air-gapped deployments and tests that need no HTTP. The same rules as for a fetched set apply,
 * but a key they would skip is a configuration mistake here, so it throws at startup instead.
 */
import { createPublicKey } from 'node:crypto';
import { InvalidTokenError, KeySetUnavailableError, OptionsError } from '../errors';
import type { KeyResolver } from './key-set';
import { indexByKid, select } from './key-set';
import { entryProblem, parseKeySet, publicPart, type VerificationKey } from './parse';
import { type KeySetControl, type KeySetStatus } from './status';

/** A JSON Web Key Set document (RFC 7517 §5): `{ keys: [ …public JWKs ] }`. */
export interface JsonWebKeySet {
  keys: readonly object[];
}

/** Most keys a static set may hold (the default `jwks.maxKeys` of fetched sets). */
const MAX_STATIC_KEYS = 100;

/**
 * Checks a static key set now, synchronously: the document's shape and every entry against the
 * fetched-set rules (signature use, no private or symmetric material, one algorithm per key, the
 * point on its curve). Throws an `OptionsError` naming the first bad entry, e.g. `keys.keys[1]`.
 */
export function parseStaticKeys(value: unknown, option: string): JsonWebKeySet {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new OptionsError(option, 'must be a JWK Set: { keys: [ …public keys ] }');
  }
  const entries: unknown[] = (value as { keys: unknown[] }).keys;
  if (entries.length === 0) throw new OptionsError(`${option}.keys`, 'must hold at least one key');
  if (entries.length > MAX_STATIC_KEYS)
    throw new OptionsError(`${option}.keys`, `must hold at most ${MAX_STATIC_KEYS} keys`);
  entries.forEach((entry, i) => {
    const problem = entryProblem(entry);
    if (problem !== undefined) throw new OptionsError(`${option}.keys[${i}]`, problem);
    try {
      createPublicKey({ key: publicPart(entry as Record<string, unknown>) as never, format: 'jwk' });
    } catch {
      throw new OptionsError(
        `${option}.keys[${i}]`,
        'is not a valid public key (a point off its curve, a bad encoding)',
      );
    }
  });
  // A copy of the entries: changing the caller's object later changes nothing here.
  return { keys: entries.map((entry) => ({ ...(entry as object) })) };
}

/** The keys of a `JsonWebKeySet` that passed `parseStaticKeys`, imported once and never refetched. */
export class StaticKeySet implements KeyResolver, KeySetControl {
  private readonly loaded: Promise<{ keys: VerificationKey[]; byKid: Map<string, VerificationKey[]> }>;
  private readonly kids: ReadonlySet<string>;
  private readonly currentStatus: KeySetStatus;
  /** The imported keys, once imported: a static key never leaves. */
  private live: ReadonlySet<CryptoKey> | undefined;
  private imported: { keys: VerificationKey[]; byKid: Map<string, VerificationKey[]> } | undefined;

  constructor(document: JsonWebKeySet) {
    this.loaded = parseKeySet(document, MAX_STATIC_KEYS).then(({ keys }) => {
      this.live = new Set(keys.map((k) => k.key));
      this.imported = { keys, byKid: indexByKid(keys) };
      return this.imported;
    });
    // Checked at startup, so this cannot fail; a rejection is still never left unhandled.
    this.loaded.catch(() => undefined);
    const kids = document.keys
      .map((k) => (k as { kid?: string }).kid)
      .filter((kid): kid is string => kid !== undefined);
    this.kids = new Set(kids);
    const keyIds = [...new Set(kids)];
    this.currentStatus = { state: 'fresh', source: 'static', keyIds, keys: document.keys.length, failures: 0 };
  }

  async getKeys(alg: string, kid: string | undefined): Promise<readonly CryptoKey[]> {
    let set: Awaited<typeof this.loaded>;
    try {
      set = await this.loaded;
    } catch {
      throw new KeySetUnavailableError('The configured keys could not be imported', 60);
    }
    const keys = select(set, alg, kid);
    if (keys.length === 0)
      throw new InvalidTokenError('key_not_found', 'No key in the issuer key set matches the token');
    return keys;
  }

  /** Once imported, the keys `getKeys` would resolve to (undefined before, or when none fits). */
  keysNow(alg: string, kid: string | undefined): readonly CryptoKey[] | undefined {
    const set = this.imported;
    if (set === undefined) return undefined;
    const keys = select(set, alg, kid);
    return keys.length > 0 ? keys : undefined;
  }

  /** A static set never changes: a kid it lacks is absent for good. */
  hasKid(kid: string | undefined): boolean | undefined {
    if (kid === undefined) return undefined;
    return this.kids.has(kid);
  }

  /** Whether `key` is one of these keys (it always stays). */
  isCurrent(key: CryptoKey): boolean {
    return this.live?.has(key) ?? false;
  }

  status(): KeySetStatus {
    return { ...this.currentStatus, keyIds: [...this.currentStatus.keyIds] };
  }

  /** Nothing to fetch: resolves to the status. */
  reload(): Promise<KeySetStatus> {
    return Promise.resolve(this.status());
  }
}
