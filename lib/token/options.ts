/**
 * What the token layer needs to know, already validated: the gate's option parsing
 * (lib/http/options.ts) produces a superset of it.
 */
import type { AccessTokenClaims, WalletOf } from './claims';
import type { PrecheckOptions } from './precheck';

/** Called after the signature and every claim passed; `true` rejects the token as revoked. */
export type IsRevoked = (claims: AccessTokenClaims, req?: any) => boolean | Promise<boolean>;

/** Options of `TokenVerifier`. */
export interface VerifierOptions extends PrecheckOptions {
  /** Every accepted audience (with several issuers, of all of them: the issuer directory pairs them). */
  audience: readonly string[];
  /** Every accepted `iss`. */
  issuer: readonly string[];
  /** Accepted `sub` values, or undefined for any. */
  subject: readonly string[] | undefined;
  /** Seconds of skew allowed on `exp`, `nbf` and `iat`. */
  clockTolerance: number;
  /** Longest accepted `exp - iat`, in seconds. */
  maxTokenLifetime: number;
  /** Longest accepted time since `iat`, in seconds; undefined for no limit. */
  maxTokenAge: number | undefined;
  isRevoked: IsRevoked | undefined;
  /** Reads the wallet of other wallet services' tokens; undefined for Picket's wallet claims. */
  wallet: WalletOf | undefined;
  /** Entries of the verified-token cache; 0 turns it off. */
  cacheMaxEntries: number;
}
