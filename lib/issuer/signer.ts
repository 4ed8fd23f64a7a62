/**
 * Signing Picket-shaped access tokens, in one of two profiles: `kit` (the defaults the gate's docs
 * use: `exp`, `sub` `chain:wallet`, a `kid` header) or `issuer` (as the issuer's sample token
 * reads: `ext`, `nbf`, `sub` `chain/mainnet:wallet`, no `kid`).
 */
import { randomUUID, sign } from 'node:crypto';
import type { AccessTokenClaims } from '../token/claims';
import type { KeyRing } from './key-ring';

/** The wallet tokens are signed for unless the claims name another (EVM chains). */
export const TEST_WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';
/** The default wallet of an issuer created with `chain: 'solana'`. */
export const TEST_SOLANA_WALLET = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

/** Picket's default session length. */
export const LIFETIME_SECONDS = 12 * 3600;

/** The shape of issued tokens: `kit` (default) or `issuer` (like the issuer's sample token). */
export type TokenProfile = 'kit' | 'issuer';
export const TOKEN_PROFILES: readonly TokenProfile[] = ['kit', 'issuer'];

export interface SignOptions {
  /** Lifetime in seconds from now; negative gives a token that expired that long ago. Default 12 h. Ignored when the claims set `exp`. */
  expiresIn?: number;
  /** `kid` header. Default: the id of the signing key (none in the `issuer` profile). */
  kid?: string;
  /** Extra or replaced protected-header fields; `undefined` removes one (e.g. `{ kid: undefined }`). */
  header?: Record<string, unknown>;
  /** Sign with a second key that the JWKS never publishes. */
  unpublishedKey?: boolean;
}

/** Claims for `sign()`: any field replaces the default; `undefined` removes it. */
export type TestClaims = { [claim in keyof AccessTokenClaims]?: unknown } & Record<string, unknown>;

/** Replaces or (for `undefined`) removes fields of `target`. */
function override(target: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete target[name];
    else target[name] = value;
  }
  return target;
}

export interface SignerSettings {
  keys: KeyRing;
  iss: string;
  audience: string;
  chain: string;
  profile: TokenProfile;
  /** Lifetime of a token signed without `expiresIn`. Default 12 h. */
  lifetimeSeconds?: number;
}

export class TokenSigner {
  readonly defaultWallet: string;

  constructor(private readonly settings: SignerSettings) {
    this.defaultWallet = settings.chain === 'solana' ? TEST_SOLANA_WALLET : TEST_WALLET;
  }

  /** Signs a token for `claims.walletAddress` (default: the issuer's test wallet). */
  async sign(claims: TestClaims = {}, options: SignOptions = {}): Promise<string> {
    const { keys, iss, audience, profile } = this.settings;
    const key = options.unpublishedKey ? keys.unpublished() : keys.current;
    const now = Math.floor(Date.now() / 1000);
    const lifetime = options.expiresIn ?? this.settings.lifetimeSeconds ?? LIFETIME_SECONDS;
    const walletAddress = typeof claims.walletAddress === 'string' ? claims.walletAddress : this.defaultWallet;
    const chain = typeof claims.chain === 'string' ? claims.chain : this.settings.chain;
    // An expired token was issued a whole session before it expired, as a real one would be.
    const iat = lifetime < 0 ? now + lifetime - LIFETIME_SECONDS : now;
    const defaults: Record<string, unknown> =
      profile === 'issuer'
        ? {
            walletAddress,
            displayAddress: walletAddress,
            chain,
            sub: `${chain}/mainnet:${walletAddress}`,
            nbf: iat,
            iat,
            ext: now + lifetime,
          }
        : {
            walletAddress,
            displayAddress: walletAddress,
            chain,
            sub: `${chain}:${walletAddress}`,
            iat,
            exp: now + lifetime,
          };
    const payload = override({ ...defaults, iss, aud: audience, tid: randomUUID(), ver: 1 }, claims);
    const kid = options.kid ?? (profile === 'issuer' ? undefined : key.kid);
    const header = override({ alg: 'ES256', typ: 'JWT', kid }, options.header ?? {});
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  /**
   * A new token for verified (and possibly upgraded) claims: same wallet, audience and session
   * expiry, a new `iat` and `tid`, in the issuer's profile.
   */
  reissue(claims: Record<string, unknown>): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const fresh: Record<string, unknown> = { ...claims, iat: now, tid: randomUUID() };
    if (this.settings.profile === 'issuer') Object.assign(fresh, { nbf: now, ext: claims.exp, exp: undefined });
    return this.sign(fresh);
  }
}
