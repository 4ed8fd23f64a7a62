/** What the middleware attaches to the request. */
import type { AccessTokenClaims } from '../token/claims';
import { addressKey } from '../token/address';

/** The authenticated wallet, at `req.wallet` (or `req[requestProperty]`). */
export interface Wallet {
  /** The wallet address; lower-case on EVM chains, so it can serve as a stable key. */
  address: string;
  /** ENS name or the address, as the issuer displays it. */
  displayAddress: string;
  chain: string;
  /** The chain's network from `sub` (`ethereum/goerli:0x…` → `goerli`); `mainnet` by default. */
  network: string;
  /** The verified, normalised claims (frozen). */
  claims: AccessTokenClaims;
  /** The raw access token, e.g. to forward to the issuer's /authz for an upgrade. */
  token: string;
}

export function toWallet(claims: AccessTokenClaims, token: string): Wallet {
  return {
    address: addressKey(claims.chain, claims.walletAddress),
    displayAddress: claims.displayAddress,
    chain: claims.chain,
    network: claims.network,
    claims,
    token,
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by express-token-gate's middleware once the access token is verified. */
      wallet?: Wallet;
    }
  }
}
