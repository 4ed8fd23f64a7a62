/** What the middleware attaches to the request. */
import type { AccessTokenClaims } from '../token/claims';
import { addressKey } from '../chain/address';
import { DEFAULTS } from './options';

/** The authenticated wallet, at `req.wallet` (or `req[requestProperty]`). */
export interface Wallet {
  /** The wallet address; lower-case on EVM chains, so it can serve as a stable key. */
  address: string;
  /** ENS name or the address, as the issuer displays it. */
  displayAddress: string;
  chain: string;
  /** The chain's network from `sub` (`ethereum/goerli:0x…` → `goerli`) or the `wallet` option; `mainnet` by default. */
  network: string;
  /** The verified, normalised claims (frozen). */
  claims: AccessTokenClaims;
  /** The raw access token, e.g. to forward to the issuer's /authz for an upgrade. */
  token: string;
}

/**
 * The wallet a gate attached to `req`, for handlers behind `requireAuth()` or `requireTokens()`:
 * typed as present, so strict TypeScript needs no `!`. Throws when there is none (the route has no
 * such middleware in front, or it sits behind `optionalAuth()` and no token was sent): a mistake
 * in the route, which your error handler answers as a 500.
 *
 * @example app.get('/me', gate.requireAuth(), (req, res) => res.json({ address: walletOf(req).address }));
 */
export function walletOf(req: object, requestProperty: string = DEFAULTS.requestProperty): Wallet {
  const wallet = (req as Record<string, unknown>)[requestProperty];
  if (typeof wallet !== 'object' || wallet === null || typeof (wallet as Partial<Wallet>).address !== 'string') {
    throw new Error(
      `express-token-gate: no wallet at req.${requestProperty}; put requireAuth() or requireTokens() in front of this handler`,
    );
  }
  return wallet as Wallet;
}

/**
 * A request that carries a wallet at `P` (default `wallet`), for your own functions that run after
 * the gate, e.g. `function audit(req: WalletRequest<'account'>)`.
 */
export type WalletRequest<P extends string = 'wallet', R extends object = import('node:http').IncomingMessage> = R & {
  [K in P]: Wallet;
};

/**
 * The address key of cached claims, worked out once: every request presenting a cached token
 * shares its frozen claims, so the key is remembered with them instead of recomputed per request.
 */
const addressKeys = new WeakMap<AccessTokenClaims, string>();

function addressOf(claims: AccessTokenClaims): string {
  let address = addressKeys.get(claims);
  if (address === undefined) {
    address = addressKey(claims.chain, claims.walletAddress);
    addressKeys.set(claims, address);
  }
  return address;
}

export function toWallet(claims: AccessTokenClaims, token: string): Wallet {
  return {
    address: addressOf(claims),
    displayAddress: claims.displayAddress,
    chain: claims.chain,
    network: claims.network,
    claims,
    token,
  };
}
