/**
 * Express/Connect glue: one gate per configuration, whose factories build middleware that
 * extracts the token, verifies it, attaches the wallet and calls `next(err)` on rejection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MissingTokenError, TokenGateError } from '../errors';
import { resolveOptions, type ResolvedOptions, type TokenGateOptions } from './options';
import { warnerFor } from '../jwks/warn';
import { KeySetView, RemoteKeySet } from '../jwks/key-set';
import { TokenVerifier } from '../token/verify';
import type { AccessTokenClaims } from '../token/claims';
import { trustIssuers } from '../token/issuers';
import { linkRevocation } from '../token/revocation-link';
import type { KeySetControl } from '../jwks/status';
import { compileRequirements, type TokenRequirements } from '../ownership/requirements';
import { parseRouteRevalidate, Revalidator, type LiveCheck, type RequireTokensOptions } from '../ownership/revalidate';
import { compileClaimCheck, type ClaimCheck } from '../ownership/claim-check';
import { decisionChannel, type DecisionSource } from '../diagnostics';
import { extractToken } from './bearer';
import { toWallet, walletOf, type Wallet } from './wallet';

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
  /**
   * Requires a valid token whose claims pass `check` (`true`); otherwise 403 `insufficient_scope`,
   * reason `claim_check_failed`, with `description` (or a generic one).
   */
  requireClaims(check: ClaimCheck, description?: string): Middleware;
  /** Passes requests without credentials; verifies (and rejects bad) tokens when present. */
  optionalAuth(): Middleware;
  /** Verifies a token without HTTP (the `claims` option applies too). */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The wallet this gate's middleware attached to `req` (at its `requestProperty`); throws when absent. */
  walletOf(req: object): Wallet;
  /** The key set of the (first) trusted issuer: `status()` for probes, `reload()` to refetch now. */
  readonly keySet: KeySetControl;
  /** The key set of every trusted `iss`. */
  readonly keySets: ReadonlyMap<string, KeySetControl>;
  /** The resolved options. */
  readonly options: Readonly<ResolvedOptions>;
}

/** A rule run against the verified claims after authentication; throws a `TokenGateError` to refuse. */
interface ClaimsRule {
  check(claims: AccessTokenClaims): void;
}

/**
 * Creates a gate: options are validated now (bad ones throw), key sets are shared per jwksUri.
 *
 * @example
 * const gate = createTokenGate({ audience: process.env.PICKET_PROJECT_ID });
 * app.get('/me', gate.requireAuth(), (req, res) => res.json(req.wallet));
 */
export function createTokenGate(options?: TokenGateOptions): TokenGate {
  const resolved = resolveOptions(options);
  const { directory, keySets } = trustIssuers(resolved.trust, resolved.jwks);
  const verifier = new TokenVerifier(resolved, directory);
  // A revocation list's isRevoked learns this gate's rules and limits (and may refuse limits it
  // cannot honour: an OptionsError at startup).
  linkRevocation(resolved.isRevoked, {
    check: (token) => verifier.check(token),
    clockTolerance: resolved.clockTolerance,
    maxTokenLifetime: resolved.maxTokenLifetime,
  });
  const { requestProperty, claimsProperty, getToken, realm, allowPreflight, claims: gateRule } = resolved;
  if (resolved.logger) {
    for (const keySet of new Set(keySets.values())) {
      const shared = keySet instanceof KeySetView ? keySet.shared : keySet;
      if (shared instanceof RemoteKeySet) shared.addListener(warnerFor(shared, resolved.logger));
    }
  }
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
    if (claimsProperty !== undefined) (req as unknown as Record<string, unknown>)[claimsProperty] = claims;
    return wallet;
  }

  function fail(err: unknown, next: Next, source: DecisionSource): void {
    if (err instanceof TokenGateError) err.realm = realm;
    if (decisionChannel.hasSubscribers) publishRejection(err, source);
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

  function middleware(name: DecisionSource, optional: boolean, rule?: ClaimsRule, live?: LiveCheck): Middleware {
    // Built once per middleware, not per request.
    const accept = (wallet: Wallet | undefined, next: Next): void => {
      if (decisionChannel.hasSubscribers) {
        decisionChannel.publish(
          wallet === undefined
            ? { outcome: 'anonymous', source: name }
            : { outcome: 'accepted', source: name, issuer: wallet.claims.iss },
        );
      }
      next();
    };
    const finish = (wallet: Wallet | undefined, next: Next): void => {
      if (wallet !== undefined) {
        // Ownership decided on live balances (revalidate) may need to wait; synchronous when cached.
        let pending: void | Promise<void> = undefined;
        try {
          gateRule?.check(wallet.claims);
          if (live !== undefined) pending = live(wallet.claims, wallet.address);
          else rule?.check(wallet.claims);
        } catch (err) {
          fail(err, next, name);
          return;
        }
        if (pending instanceof Promise) {
          pending.then(
            () => accept(wallet, next),
            (err: unknown) => fail(err, next, name),
          );
          return;
        }
      }
      accept(wallet, next);
    };
    const handler: Middleware = (req, _res, next) => {
      // A CORS preflight carries no credentials by design (Fetch standard): refusing it would keep
      // the browser from ever sending the real request. It gets no wallet either.
      if (allowPreflight && req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        next();
        return;
      }
      let outcome: Wallet | undefined | Promise<Wallet>;
      try {
        outcome = authenticate(req, optional);
      } catch (err) {
        fail(err, next, name);
        return;
      }
      // next() stays outside the try: an error thrown further down the chain is not ours to report.
      if (outcome instanceof Promise) {
        outcome.then(
          (wallet) => finish(wallet, next),
          (err: unknown) => fail(err, next, name),
        );
      } else {
        finish(outcome, next);
      }
    };
    Object.defineProperty(handler, 'name', { value: name });
    return handler;
  }

  function requireTokens(
    first: string | TokenRequirements,
    second?: string | number | RequireTokensOptions,
    third?: RequireTokensOptions,
  ): Middleware {
    const requirements = compileRequirements(
      typeof first === 'string'
        ? { contractAddress: first, minTokenBalance: second as string | number | undefined }
        : first,
    );
    const route = parseRouteRevalidate(typeof first === 'string' ? third : second);
    const live = route === undefined ? revalidator : route && new Revalidator(route);
    return middleware('requireTokens', false, requirements, live ? live.checkFor(requirements) : undefined);
  }

  async function verify(token: string): Promise<AccessTokenClaims> {
    try {
      const claims = await verifier.verify(token);
      gateRule?.check(claims);
      if (decisionChannel.hasSubscribers)
        decisionChannel.publish({ outcome: 'accepted', source: 'verify', issuer: claims.iss });
      return claims;
    } catch (err) {
      if (decisionChannel.hasSubscribers) publishRejection(err, 'verify');
      throw err;
    }
  }

  return {
    requireAuth: () => middleware('requireAuth', false),
    optionalAuth: () => middleware('optionalAuth', true),
    requireTokens,
    requireClaims: (check, description) =>
      middleware('requireClaims', false, compileClaimCheck(check, description, 'requireClaims(check)')),
    verify,
    walletOf: (req) => walletOf(req, requestProperty),
    keySet: keySets.values().next().value!,
    keySets,
    options: resolved,
  };
}

function publishRejection(err: unknown, source: DecisionSource): void {
  decisionChannel.publish(
    err instanceof TokenGateError
      ? { outcome: 'rejected', source, reason: err.reason, status: err.status }
      : { outcome: 'error', source },
  );
}
