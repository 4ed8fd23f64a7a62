/**
 * The framework-free core of a gate: one per configuration. Given a request of any framework, seen
 * through a reader that the framework's adapter supplies, it extracts the token, verifies it,
 * applies the route's rule and answers with the wallet, no wallet (`null`: anonymous or a CORS
 * preflight), or a `TokenGateError`. Every rule lives here and below; an adapter only translates.
 */
import { MissingTokenError, OptionsError, TokenGateError } from '../errors';
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
import { bearerCandidate, tokenOf } from './bearer';
import { MAX_CACHED_TOKEN_LENGTH } from '../token/cache';
import { toWallet, type Wallet } from './wallet';

/**
 * How an adapter shows the core its framework's request `R`. Built once per adapter, so the hot
 * path allocates nothing per request.
 */
export interface RequestReader<R> {
  /** The HTTP method, upper-case. */
  method(req: R): string | undefined;
  /** `Access-Control-Request-Method`, which marks a CORS preflight. */
  preflightMethod(req: R): string | undefined;
  /** Every Authorization line of the request (two lines are a 400, as in Express). */
  authorization(req: R): readonly string[];
  /** What `getToken` and `isRevoked` receive: the framework's own request object. */
  request(req: R): object;
  /**
   * The request target (path and query, or the absolute URL), read for `allowQueryToken`; without
   * it the core reads `request(req).url`.
   */
  url?(req: R): string | undefined;
  /** What the adapter's wallet slot holds now, for reuse; without it the core remembers wallets itself. */
  recall?(req: R): unknown;
  /** Puts the verified wallet (and claims) where the framework's handlers read them. */
  attach(req: R, wallet: Wallet, claims: AccessTokenClaims): void;
}

/**
 * A route's check: the wallet, `null` (no credentials under optionalAuth, or a CORS preflight), or
 * a throw (a rejected Promise when it had to wait) of a `TokenGateError` whose realm is set.
 * Synchronous whenever nothing needed waiting.
 */
export type Guard<R> = (req: R) => Wallet | null | Promise<Wallet | null>;

/** The four route checks of a gate, for one framework's requests. */
export interface Guards<R> {
  requireAuth(): Guard<R>;
  optionalAuth(): Guard<R>;
  requireTokens(contractAddress: string, minBalance?: string | number, options?: RequireTokensOptions): Guard<R>;
  requireTokens(requirements: TokenRequirements, options?: RequireTokensOptions): Guard<R>;
  requireTokens(
    first: string | TokenRequirements,
    second?: string | number | RequireTokensOptions,
    third?: RequireTokensOptions,
  ): Guard<R>;
  requireClaims(check: ClaimCheck, description?: string): Guard<R>;
}

/** A gate without any framework: what every adapter builds on. */
export interface GateCore {
  /** The route checks for requests read by `reader`. */
  guards<R>(reader: RequestReader<R>): Guards<R>;
  /** Verifies a token without HTTP (the `claims` option applies too). */
  readonly verify: (token: string) => Promise<AccessTokenClaims>;
  readonly keySet: KeySetControl;
  readonly keySets: ReadonlyMap<string, KeySetControl>;
  readonly options: Readonly<ResolvedOptions>;
}

/** Where a gate made by `createTokenGate` keeps its core, for the other frameworks' adapters. */
export const GATE_CORE = Symbol('express-token-gate.core');

/**
 * The core of `gate` (from `createTokenGate`); a TypeError naming `caller` for anything else, at
 * startup.
 */
export function coreOf(gate: unknown, caller: string): GateCore {
  const core = typeof gate === 'object' && gate !== null ? (gate as { [GATE_CORE]?: GateCore })[GATE_CORE] : undefined;
  if (core === undefined)
    throw new TypeError(`express-token-gate: ${caller} needs a gate made by createTokenGate(options)`);
  return core;
}

/** A rule run against the verified claims after authentication; throws a `TokenGateError` to refuse. */
interface ClaimsRule {
  check(claims: AccessTokenClaims): void;
}

/** Creates the core of a gate: options are validated now (bad ones throw), key sets are shared per jwksUri. */
export function createGateCore(options?: TokenGateOptions): GateCore {
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
  const { getToken, realm, allowPreflight, allowQueryToken, claims: gateRule } = resolved;
  // No getToken and no query token: the Authorization header is the only place a token can be.
  const headerOnly = getToken === undefined && !allowQueryToken;
  if (resolved.logger) {
    for (const keySet of new Set(keySets.values())) {
      const shared = keySet instanceof KeySetView ? keySet.shared : keySet;
      if (shared instanceof RemoteKeySet) shared.addListener(warnerFor(shared, resolved.logger));
    }
  }
  // Wallets this gate verified carry this gate's private mark, so later checks of the gate on the
  // same request reuse them, and a wallet from another gate (another audience) is never taken for
  // one of ours. Marking the wallet costs less per request than a WeakMap entry, where the
  // framework has a slot for it; where it has none, the core remembers the wallet per request.
  const ours = Symbol('express-token-gate.wallet');
  const remembered = new WeakMap<object, Wallet>();
  // Live ownership answers are shared by every requireTokens of the gate.
  const revalidator = resolved.revalidate && new Revalidator(resolved.revalidate);

  function fail(err: unknown, source: DecisionSource): never {
    if (err instanceof TokenGateError) err.realm = realm;
    if (decisionChannel.hasSubscribers) publishRejection(err, source);
    throw err;
  }

  function guards<R>(reader: RequestReader<R>): Guards<R> {
    const recall = reader.recall?.bind(reader) ?? ((req: R): Wallet | undefined => remembered.get(reader.request(req)));
    const urlOf =
      reader.url?.bind(reader) ??
      ((req: R): string | undefined => {
        const url = (reader.request(req) as { url?: unknown }).url;
        return typeof url === 'string' ? url : undefined;
      });

    function attach(req: R, token: string, claims: AccessTokenClaims): Wallet {
      const wallet = toWallet(claims, token);
      (wallet as Wallet & { [ours]?: true })[ours] = true;
      if (reader.recall === undefined) remembered.set(reader.request(req), wallet);
      reader.attach(req, wallet, claims);
      return wallet;
    }

    /**
     * The request's wallet: synchronously when the answer needs no waiting (no token, a token seen
     * earlier on this request, a cache hit), so the hot path allocates no Promise; a Promise otherwise.
     * Throws (or rejects) with a `TokenGateError`.
     */
    function authenticate(req: R, optional: boolean): Wallet | undefined | Promise<Wallet | undefined> {
      const request = reader.request(req);
      const lines = reader.authorization(req);
      // The common request, one `Bearer <token>` line and no other place a token could come from:
      // the cache is asked first, and a hit needs no second reading of the header's syntax (a
      // cached token passed it when first seen). A miss goes the whole way, without a second lookup.
      let asked: string | undefined;
      if (headerOnly) {
        const candidate = bearerCandidate(lines);
        if (candidate !== undefined && candidate.length <= MAX_CACHED_TOKEN_LENGTH) {
          const earlier = recall(req) as (Wallet & { [ours]?: true }) | undefined | null;
          if (earlier !== undefined && earlier !== null && earlier[ours] === true && earlier.token === candidate)
            return earlier;
          const hit = verifier.verifyCached(candidate, request);
          if (hit instanceof Promise) return hit.then((claims) => attach(req, candidate, claims));
          if (hit !== undefined) return attach(req, candidate, hit);
          asked = candidate;
        }
      }
      const token = tokenOf(lines, getToken, request, allowQueryToken ? urlOf(req) : undefined);
      // An asynchronous getToken: the same steps once it has answered.
      if (token instanceof Promise) return token.then((found) => authenticateWith(req, request, found, optional));
      if (token !== undefined && token === asked)
        return verifier.verifyUncached(token, request).then((claims) => attach(req, token, claims));
      return authenticateWith(req, request, token, optional);
    }

    function authenticateWith(
      req: R,
      request: object,
      token: string | undefined,
      optional: boolean,
    ): Wallet | undefined | Promise<Wallet> {
      if (token === undefined) {
        if (optional) return undefined;
        throw new MissingTokenError();
      }
      const earlier = recall(req) as (Wallet & { [ours]?: true }) | undefined | null;
      if (earlier !== undefined && earlier !== null && earlier[ours] === true && earlier.token === token)
        return earlier;
      const hit = verifier.verifyCached(token, request);
      if (hit === undefined)
        return verifier.verifyUncached(token, request).then((claims) => attach(req, token, claims));
      if (hit instanceof Promise) return hit.then((claims) => attach(req, token, claims));
      return attach(req, token, hit);
    }

    function guard(name: DecisionSource, optional: boolean, rule?: ClaimsRule, live?: LiveCheck): Guard<R> {
      // Built once per route, not per request.
      const accept = (wallet: Wallet | undefined): Wallet | null => {
        if (decisionChannel.hasSubscribers) {
          decisionChannel.publish(
            wallet === undefined
              ? { outcome: 'anonymous', source: name }
              : { outcome: 'accepted', source: name, issuer: wallet.claims.iss },
          );
        }
        return wallet ?? null;
      };
      const reject = (err: unknown): never => fail(err, name);
      const finish = (wallet: Wallet | undefined): Wallet | null | Promise<Wallet | null> => {
        if (wallet !== undefined) {
          // Ownership decided on live balances (revalidate) may need to wait; synchronous when cached.
          let pending: void | Promise<void> = undefined;
          try {
            gateRule?.check(wallet.claims);
            if (live !== undefined) pending = live(wallet.claims, wallet.address);
            else rule?.check(wallet.claims);
          } catch (err) {
            return fail(err, name);
          }
          if (pending instanceof Promise) return pending.then(() => accept(wallet), reject);
        }
        return accept(wallet);
      };
      return (req) => {
        // A CORS preflight carries no credentials by design (Fetch standard): refusing it would keep
        // the browser from ever sending the real request. It gets no wallet either.
        if (allowPreflight && reader.method(req) === 'OPTIONS' && reader.preflightMethod(req) !== undefined)
          return null;
        let outcome: Wallet | undefined | Promise<Wallet | undefined>;
        try {
          outcome = authenticate(req, optional);
        } catch (err) {
          return fail(err, name);
        }
        return outcome instanceof Promise ? outcome.then(finish, reject) : finish(outcome);
      };
    }

    function requireTokens(
      first: string | TokenRequirements,
      second?: string | number | RequireTokensOptions,
      third?: RequireTokensOptions,
    ): Guard<R> {
      const requirements = compileRequirements(
        typeof first === 'string'
          ? { contractAddress: first, minTokenBalance: second as string | number | undefined }
          : first,
      );
      const route = parseRouteRevalidate(typeof first === 'string' ? third : second);
      const live = route === undefined ? revalidator : route && new Revalidator(route);
      // Tokens read through `wallet` prove no balance: without live ownership such a route could
      // never admit anyone, which is a mistake to name now rather than a 403 on every request.
      if (resolved.wallet !== undefined && requirements.needsBalance && !live)
        throw new OptionsError(
          'revalidate',
          route === false
            ? 'cannot be false on requireTokens of a gate with the wallet option: tokens of other wallet services prove no ownership, only live ownership (revalidate) can'
            : 'is required for requireTokens on a gate with the wallet option: tokens of other wallet services prove no ownership, only live ownership (revalidate) can',
        );
      return guard('requireTokens', false, requirements, live ? live.checkFor(requirements) : undefined);
    }

    return {
      requireAuth: () => guard('requireAuth', false),
      optionalAuth: () => guard('optionalAuth', true),
      requireTokens,
      requireClaims: (check, description) =>
        guard('requireClaims', false, compileClaimCheck(check, description, 'requireClaims(check)')),
    };
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
    guards,
    verify,
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
