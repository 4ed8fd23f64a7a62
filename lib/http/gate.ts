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
import { compileRequirements, type CompiledRequirements, type TokenRequirements } from '../ownership/requirements';
import { parseRouteRevalidate, Revalidator, type LiveCheck, type RequireTokensOptions } from '../ownership/revalidate';
import { extractToken } from './bearer';
import { toWallet, type Wallet } from './wallet';

type Next = (err?: unknown) => void;
/** Middleware usable by Express 4 and 5, Connect and plain `http` servers. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

export interface TokenGate {
  /** Requires a valid access token; attaches `req.wallet`. */
  requireAuth(): Middleware;
  /**
   * Requires a valid token proving a balance of `contractAddress` (minBalance unset or 0: above 0).
   * `options.revalidate` overrides the gate's: `false` (the token's balances decide) or its own.
   */
  requireTokens(contractAddress: string, minBalance?: string | number, options?: RequireTokensOptions): Middleware;
  /** Requires a valid token meeting `requirements` (Picket's requirement object). */
  requireTokens(requirements: TokenRequirements, options?: RequireTokensOptions): Middleware;
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
  // Wallets this gate attached carry this gate's private mark, so later middleware of the gate on
  // the same request reuses them, and a wallet from another gate (another audience) is never
  // taken for one of ours. Marking the wallet costs less per request than a WeakMap entry or a
  // second new property on the request.
  const ours = Symbol('express-token-gate.wallet');
  // Live ownership answers are shared by every requireTokens of the gate.
  const revalidator = resolved.revalidate && new Revalidator(resolved.revalidate);

  function attach(req: IncomingMessage, token: string, claims: AccessTokenClaims): Wallet {
    const wallet = toWallet(claims, token);
    (wallet as Wallet & { [ours]?: true })[ours] = true;
    (req as unknown as Record<string, unknown>)[requestProperty] = wallet;
    return wallet;
  }

  function fail(err: unknown, next: Next): void {
    if (err instanceof TokenGateError) err.realm = realm;
    next(err);
  }

  /**
   * The request's wallet: synchronously when the answer needs no waiting (no token, a token seen
   * earlier on this request, a cache hit), so the hot path allocates no Promise; a Promise otherwise.
   * Throws (or rejects) with a `TokenGateError`.
   */
  function authenticate(req: IncomingMessage, optional: boolean): Wallet | undefined | Promise<Wallet> {
    const token = extractToken(req, getToken);
    if (token === undefined) {
      if (optional) return undefined;
      throw new MissingTokenError();
    }
    const earlier = (req as unknown as Record<string, (Wallet & { [ours]?: true }) | undefined>)[requestProperty];
    if (earlier !== undefined && earlier !== null && earlier[ours] === true && earlier.token === token) return earlier;
    const hit = verifier.verifyCached(token, req);
    if (hit === undefined) return verifier.verifyUncached(token, req).then((claims) => attach(req, token, claims));
    if (hit instanceof Promise) return hit.then((claims) => attach(req, token, claims));
    return attach(req, token, hit);
  }

  function middleware(name: string, optional: boolean, requirements?: CompiledRequirements, live?: LiveCheck): Middleware {
    // Built once per middleware, not per request.
    const finish = live ? liveFinish(live) : (wallet: Wallet | undefined, next: Next): void => {
      if (requirements !== undefined) {
        try {
          requirements.check(wallet!.claims);
        } catch (err) {
          fail(err, next);
          return;
        }
      }
      next();
    };
    const handler: Middleware = (req, _res, next) => {
      let outcome: Wallet | undefined | Promise<Wallet>;
      try {
        outcome = authenticate(req, optional);
      } catch (err) {
        fail(err, next);
        return;
      }
      // next() stays outside the try: an error thrown further down the chain is not ours to report.
      if (outcome instanceof Promise) {
        outcome.then(
          (wallet) => finish(wallet, next),
          (err: unknown) => fail(err, next),
        );
      } else {
        finish(outcome, next);
      }
    };
    Object.defineProperty(handler, 'name', { value: name });
    return handler;
  }

  /** Ownership decided on live balances; synchronous when the answer is cached. */
  function liveFinish(live: LiveCheck) {
    return (wallet: Wallet | undefined, next: Next): void => {
      let outcome: void | Promise<void>;
      try {
        outcome = live(wallet!.claims, wallet!.address);
      } catch (err) {
        fail(err, next);
        return;
      }
      if (outcome instanceof Promise) outcome.then(() => next(), (err: unknown) => fail(err, next));
      else next();
    };
  }

  function requireTokens(
    first: string | TokenRequirements,
    second?: string | number | RequireTokensOptions,
    third?: RequireTokensOptions,
  ): Middleware {
    const requirements = compileRequirements(
      typeof first === 'string' ? { contractAddress: first, minTokenBalance: second as string | number | undefined } : first,
    );
    const route = parseRouteRevalidate(typeof first === 'string' ? third : second);
    const live = route === undefined ? revalidator : route && new Revalidator(route);
    return middleware('requireTokens', false, requirements, live ? live.checkFor(requirements) : undefined);
  }

  return {
    requireAuth: () => middleware('requireAuth', false),
    optionalAuth: () => middleware('optionalAuth', true),
    requireTokens,
    verify: (token) => verifier.verify(token),
    options: resolved,
  };
}
