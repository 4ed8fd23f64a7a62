/**
 * How a gate and a revocation list find each other. The gate is created with
 * `isRevoked: revocations.isRevoked`, after the list, so the list cannot take the gate when it is
 * made; instead the list tags its `isRevoked` with `LINK`, and a gate created with a tagged
 * `isRevoked` hands the list its verifier and its limits. The list then verifies a token string
 * with the gate's own rules and keeps entries as long as any of its gates could accept a token.
 * The symbol is not exported by the package.
 */
import type { AccessTokenClaims } from './claims';
import type { IsRevoked } from './options';

export const LINK = Symbol('express-token-gate.revocation-link');

/** What a gate gives the revocation list its `isRevoked` belongs to. */
export interface GateLink {
  /** Verifies a token with the gate's rules (signature, iss, aud, sub, time), without asking `isRevoked`. */
  check(token: string): Promise<AccessTokenClaims>;
  clockTolerance: number;
  maxTokenLifetime: number;
}

/** An `isRevoked` that belongs to a revocation list: `[LINK]` takes each gate using it, and may throw an `OptionsError`. */
export type LinkableIsRevoked = IsRevoked & { [LINK]?: (gate: GateLink) => void };

/** Called by a gate at creation: attaches it to the list `isRevoked` belongs to, if any. */
export function linkRevocation(isRevoked: IsRevoked | undefined, gate: GateLink): void {
  const link = (isRevoked as LinkableIsRevoked | undefined)?.[LINK];
  if (typeof link === 'function') link(gate);
}
