/**
 * Trusted issuers: which `iss` values a gate accepts, the audiences each may name and the key set
 * that vouches for each. The verifier picks the entry by the token's `iss` before any key work, so
 * a token can only ever be checked against the keys of the issuer it names, and an unknown `iss`
 * costs no fetch. A `kid` that every key set already knows to be absent is refused before the
 * payload is read at all, with one key set or several.
 */
import { InvalidTokenError } from '../errors';
import { missingClaim } from './claims';
import { keySetFor, type KeyResolver } from '../jwks/key-set';
import type { ResolvedKeySetOptions } from '../jwks/options';
import { StaticKeySet, type JsonWebKeySet } from '../jwks/static';
import type { KeySetControl } from '../jwks/status';

/** Where an issuer's keys come from. */
export type KeySource = { jwksUri: string } | { keys: JsonWebKeySet };

/** One trusted issuer after validation: from `issuers`, or the single `issuer`/`audience`/`jwksUri` form. */
export interface TrustedIssuer {
  /** The `iss` values it signs as (one per entry of `issuers`; the single form may list several). */
  readonly issuer: readonly string[];
  readonly audience: readonly string[];
  readonly source: KeySource;
}

/** What the verifier needs for one `iss`. */
export interface IssuerTrust {
  readonly audience: readonly string[];
  readonly keys: KeyResolver;
}

/** A key set a gate can both verify with and report on. */
export type GateKeySet = KeyResolver & KeySetControl;

export class IssuerDirectory {
  private readonly byIss: ReadonlyMap<string, IssuerTrust>;
  /** Each distinct key set once (entries may share one). */
  private readonly sets: readonly KeyResolver[];
  /** Whether the entries use more than one key set: then the payload's `iss` picks among them. */
  readonly several: boolean;

  constructor(entries: Iterable<readonly [string, IssuerTrust]>) {
    this.byIss = new Map(entries);
    this.sets = [...new Set([...this.byIss.values()].map((t) => t.keys))];
    this.several = this.sets.length > 1;
  }

  /**
   * True when every key set answers that `kid` is absent and asking again is pointless right now
   * (`hasKid` is false: loaded, not due for a refresh, refetch cooldown or backoff running). Then
   * whichever issuer the payload names, its set would refuse the kid without a fetch, so the token
   * is refused before its payload is read. False as soon as one set knows the kid or cannot tell
   * yet (not loaded, cooldown passed, a resolver without `hasKid`): the payload's `iss` then picks
   * the set, whose own rules for unknown kids apply. `hasKid` only reads state, so asking every
   * set starts no fetch; the cost is one map lookup per distinct key set.
   */
  refusesKid(kid: string | undefined): boolean {
    for (const set of this.sets) if (set.hasKid?.(kid) !== false) return false;
    return this.sets.length > 0;
  }

  /**
   * Whether `key`, which verified a cached token, is still a usable key of these issuers (a cache
   * hit asks). Key objects are never shared between sets, so "current in some set" is "current in
   * its own". A resolver that cannot tell is taken at its word.
   */
  isCurrent(key: CryptoKey): boolean {
    for (const set of this.sets) if (set.isCurrent === undefined || set.isCurrent(key)) return true;
    return false;
  }

  /**
   * The trust for a payload's `iss`; throws `InvalidTokenError`: `claim_invalid` when the token has
   * no `iss` (like every missing required claim), `issuer_mismatch` for any value not trusted.
   */
  trustFor(iss: unknown): IssuerTrust {
    if (iss === undefined) throw missingClaim('iss');
    if (typeof iss !== 'string') throw new InvalidTokenError('issuer_mismatch', 'The iss claim is not a string');
    const trust = this.byIss.get(iss);
    if (trust === undefined) throw new InvalidTokenError('issuer_mismatch', 'The token was issued by another issuer');
    return trust;
  }
}

/** One directory entry per allowed `iss`, all sharing `keys` (the single-issuer form, and tests). */
export function singleIssuer(
  issuers: readonly string[],
  audience: readonly string[],
  keys: KeyResolver,
): IssuerDirectory {
  return new IssuerDirectory(issuers.map((iss) => [iss, { audience, keys }] as const));
}

/**
 * Builds the key set of every trusted issuer (fetched sets shared process-wide per `jwksUri` and
 * limits, static sets per gate) and the directory over them. `keySets` maps each `iss` to its set.
 */
export function trustIssuers(
  trusted: readonly TrustedIssuer[],
  jwks: ResolvedKeySetOptions,
): { directory: IssuerDirectory; keySets: ReadonlyMap<string, GateKeySet> } {
  const keySets = new Map<string, GateKeySet>();
  const entries: [string, IssuerTrust][] = [];
  for (const { issuer, audience, source } of trusted) {
    const keys: GateKeySet = 'jwksUri' in source ? keySetFor(source.jwksUri, jwks) : new StaticKeySet(source.keys);
    for (const iss of issuer) {
      keySets.set(iss, keys);
      entries.push([iss, { audience, keys }]);
    }
  }
  return { directory: new IssuerDirectory(entries), keySets };
}
