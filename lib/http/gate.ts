/**
 * Express/Connect glue: one gate per configuration, whose factories build middleware that
 * extracts the token, verifies it, attaches the wallet and calls `next(err)` on rejection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MissingTokenError, TokenGateError } from '../errors';
import { resolveOptions, type ResolvedOptions, type TokenGateOptions } from '../options';
import { keySetFor } from '../jwks/key-set';
import { TokenVerifier } from '../token/verify';
import type { AccessTokenClaims } from '../token/claims';
import { compileRequirements, type TokenRequirements } from '../ownership/requirements';
import { extractToken } from './bearer';
import { toWallet, type Wallet } from './wallet';

type Next = (err?: unknown) => void;
/** Middleware usable by Express 4 and 5, Connect and plain `http` servers. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

export interface TokenGate {
  /** Requires a valid access token; attaches `req.wallet`. */
  requireAuth(): Middleware;
  /** Requires a valid token proving a balance of `contractAddress` (minBalance unset or 0: above 0). */
  requireTokens(contractAddress: string, minBalance?: string | number): Middleware;
  /** Requires a valid token meeting `requirements` (Picket's requirement object). */
  requireTokens(requirements: TokenRequirements): Middleware;
  /** Passes requests without credentials; verifies (and rejects bad) tokens when present. */
  optionalAuth(): Middleware;
  /** Verifies a token without HTTP. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The resolved options. */
  readonly options: Readonly<ResolvedOptions>;
}

/**
 * Creates a gate: options are validated now (bad ones throw), the key set is shared per jwksUri.
 *
 * @example
 * const gate = createTokenGate({ audience: process.env.PICKET_PROJECT_ID });
 * app.get('/me', gate.requireAuth(), (req, res) => res.json(req.wallet));
 */
export function createTokenGate(options?: TokenGateOptions): TokenGate {
  const resolved = resolveOptions(options);
  const verifier = new TokenVerifier(resolved, keySetFor(resolved.jwksUri, resolved.jwks));
  const { requestProperty, getToken, realm } = resolved;
  // Wallets verified earlier on the same request by this gate: later middleware reuses them.
  const verified = new WeakMap<object, Wallet>();

  async function authenticate(req: IncomingMessage, optional: boolean): Promise<Wallet | undefined> {
    const token = extractToken(req, getToken);
    if (token === undefined) {
      if (optional) return undefined;
      throw new MissingTokenError();
    }
    const earlier = verified.get(req);
    if (earlier && earlier.token === token) return earlier;
    const wallet = toWallet(await verifier.verify(token, req), token);
    verified.set(req, wallet);
    (req as unknown as Record<string, unknown>)[requestProperty] = wallet;
    return wallet;
  }

  function middleware(name: string, run: (req: IncomingMessage) => Promise<unknown>): Middleware {
    const handler: Middleware = (req, _res, next) => {
      run(req).then(
        () => next(),
        (err: unknown) => {
          if (err instanceof TokenGateError) err.realm = realm;
          next(err);
        },
      );
    };
    Object.defineProperty(handler, 'name', { value: name });
    return handler;
  }

  function requireTokens(first: string | TokenRequirements, minBalance?: string | number): Middleware {
    const requirements = compileRequirements(
      typeof first === 'string' ? { contractAddress: first, minTokenBalance: minBalance } : first,
    );
    return middleware('requireTokens', async (req) => {
      const wallet = await authenticate(req, false);
      requirements.check(wallet!.claims);
    });
  }

  return {
    requireAuth: () => middleware('requireAuth', (req) => authenticate(req, false)),
    optionalAuth: () => middleware('optionalAuth', (req) => authenticate(req, true)),
    requireTokens,
    verify: (token) => verifier.verify(token),
    options: resolved,
  };
}
