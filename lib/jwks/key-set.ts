/**
 * A remote key set: fetches the issuer's JWKS, keeps the usable verification keys, and answers
 * "which key verifies a token with this alg and kid". One instance per jwksUri per process.
 */
import { importJWK, type JWK } from 'jose';
import { InvalidTokenError, KeySetUnavailableError } from '../errors';
import type { ResolvedKeySetOptions } from './options';

/** What the verification layer needs from a key set. */
export interface KeyResolver {
  /** Resolves the key for `alg`/`kid`; throws `InvalidTokenError('key_not_found')` or `KeySetUnavailableError`. */
  getKey(alg: string, kid: string | undefined): Promise<CryptoKey>;
  /** Synchronous check used to reject unknown kids before signature work; undefined when unknown yet. */
  hasKid?(kid: string | undefined): boolean | undefined;
}

interface UsableKey {
  kid: string | undefined;
  alg: string;
  key: CryptoKey;
}

const CURVE_OF_ALG: Record<string, { kty: string; crv?: string }> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' }, RS384: { kty: 'RSA' }, RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' }, PS384: { kty: 'RSA' }, PS512: { kty: 'RSA' },
};

/** A JWK without `alg` is usable only where its curve names exactly one algorithm. */
function inferAlg(kty: unknown, crv: unknown): string | undefined {
  if (kty === 'EC') return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[String(crv)];
  if (kty === 'OKP' && crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

export class RemoteKeySet implements KeyResolver {
  private keys: UsableKey[] | undefined;
  private inflight: Promise<void> | undefined;
  private lastFetchAt = -Infinity;

  constructor(
    readonly uri: string,
    private readonly options: ResolvedKeySetOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async getKey(alg: string, kid: string | undefined): Promise<CryptoKey> {
    if (!this.keys) await this.refresh();
    let found = this.select(alg, kid);
    if (!found && this.now() - this.lastFetchAt >= this.options.cooldownMs) {
      await this.refresh();
      found = this.select(alg, kid);
    }
    if (!found) throw new InvalidTokenError('key_not_found', 'No key in the issuer key set matches the token');
    return found.key;
  }

  private select(alg: string, kid: string | undefined): UsableKey | undefined {
    const candidates = (this.keys ?? []).filter((k) => k.alg === alg && (kid === undefined || k.kid === kid));
    return candidates.length === 1 ? candidates[0] : undefined;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastFetchAt = this.now();
    let body: unknown;
    try {
      const response = await fetch(this.uri, {
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const text = await response.text();
      if (text.length > this.options.maxBytes) throw new Error('response too large');
      body = JSON.parse(text);
    } catch (error) {
      if (this.keys) return;
      throw new KeySetUnavailableError('The issuer key set cannot be fetched', this.options.cooldownMs / 1000);
    }
    const keys = await this.importKeys(body);
    if (keys.length > 0 || !this.keys) this.keys = keys;
  }

  private async importKeys(body: unknown): Promise<UsableKey[]> {
    const list = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list)) return [];
    const usable: UsableKey[] = [];
    for (const jwk of list.slice(0, this.options.maxKeys)) {
      const key = await this.importOne(jwk);
      if (key) usable.push(key);
    }
    return usable;
  }

  private async importOne(jwk: unknown): Promise<UsableKey | undefined> {
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
    const { kid, alg, use, key_ops: keyOps, kty, crv, d } = jwk as Record<string, unknown>;
    if (d !== undefined) return undefined;
    if (use !== undefined && use !== 'sig') return undefined;
    if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify'))) return undefined;
    if (kid !== undefined && typeof kid !== 'string') return undefined;
    const a = typeof alg === 'string' ? alg : inferAlg(kty, crv);
    const shape = a === undefined ? undefined : CURVE_OF_ALG[a];
    if (a === undefined || !shape || shape.kty !== kty || (shape.crv !== undefined && shape.crv !== crv)) return undefined;
    try {
      return { kid, alg: a, key: (await importJWK(jwk as JWK, a)) as CryptoKey };
    } catch {
      return undefined;
    }
  }
}

const registry = new Map<string, RemoteKeySet>();

/** The process-wide key set for `uri`: every middleware and verify call for one URI shares it. */
export function keySetFor(uri: string, options: ResolvedKeySetOptions): RemoteKeySet {
  let set = registry.get(uri);
  if (!set) {
    set = new RemoteKeySet(uri, options);
    registry.set(uri, set);
  }
  return set;
}
