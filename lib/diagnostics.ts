/**
 * Diagnostics channels (`node:diagnostics_channel`), the way undici and Node's http publish: the
 * library only publishes, and only when someone subscribes (`hasSubscribers` is checked first, so
 * an unobserved request pays one property read). Names and payloads live here, in one place.
 *
 * @example
 * const dc = require('node:diagnostics_channel');
 * dc.subscribe('express-token-gate:decision', (m) => console.log(m.outcome, m.reason));
 */
import { channel } from 'node:diagnostics_channel';
import type { Reason } from './errors';

/** The channel names, for `diagnostics_channel.subscribe(name, onMessage)`. */
export const channels = Object.freeze({
  /** One message per request a middleware decides (and per `verify` call): {@link DecisionMessage}. */
  decision: 'express-token-gate:decision',
  /** One message per verified-token cache lookup: {@link CacheMessage}. */
  cache: 'express-token-gate:cache',
  /** Key-set events (`fetched`, `failed`, `stale-served`), the payloads of `jwks.onKeySetEvent`. */
  jwks: 'express-token-gate:jwks',
  /** Published by live-ownership resolvers (`revalidate`), once per resolver call: {@link OwnershipMessage}. */
  ownership: 'express-token-gate:ownership',
  /** Revocation-store events (the Redis store's subscription and `PUBLISH` failures): {@link RevocationStoreMessage}. */
  revocationStore: 'express-token-gate:revocation-store',
} as const);

/** Where a decision was made. */
export type DecisionSource = 'requireAuth' | 'requireTokens' | 'requireClaims' | 'optionalAuth' | 'verify';

/** Published on `express-token-gate:decision`. */
export interface DecisionMessage {
  /**
   * `accepted`: the request goes on with a wallet; `anonymous`: `optionalAuth` let a request
   * without credentials through; `rejected`: a `TokenGateError` (see `reason`); `error`: something
   * other than a rejection stopped the request (`isRevoked` threw, a claim check returned a
   * non-boolean) and went to the error handler.
   */
  outcome: 'accepted' | 'anonymous' | 'rejected' | 'error';
  source: DecisionSource;
  /** The rejection's reason (`rejected` only). */
  reason?: Reason;
  /** The rejection's HTTP status (`rejected` only). */
  status?: number;
  /** The accepted token's `iss` (`accepted` only): which trusted issuer vouched for it. */
  issuer?: string;
}

/** Published on `express-token-gate:cache`. */
export interface CacheMessage {
  /** `true` when the token was recognised without a signature check. */
  hit: boolean;
}

/** What a key set reports to `jwks.onKeySetEvent` and on `express-token-gate:jwks`, for logs and metrics. */
export type KeySetEvent =
  /** A fetch succeeded: `keys` usable keys are now cached, `skipped` entries were left out. */
  | { type: 'fetched'; uri: string; keys: number; skipped: number }
  /** A fetch failed; the next attempt is allowed in `retryInMs`. Cached keys, if any, stay in use. */
  | { type: 'failed'; uri: string; error: string; retryInMs: number }
  /** Keys past their freshness answered a request (reported once per fetch attempt). */
  | { type: 'stale-served'; uri: string; ageMs: number };

/** Published on `express-token-gate:jwks`: exactly the `jwks.onKeySetEvent` payload. */
export type JwksMessage = KeySetEvent;

/** Published on `express-token-gate:ownership` by live-ownership resolvers. */
export interface OwnershipMessage {
  /** The resolver's `name`: `evm`, `picket`, `test-issuer`, or `custom` for a resolver without one. */
  resolver: string;
  /** `answered`: the resolver returned holdings; `failed`: it threw, timed out or answered garbage. */
  outcome: 'answered' | 'failed';
}

/** Published on `express-token-gate:revocation-store` by the Redis revocation store. */
export type RevocationStoreMessage =
  /** The events subscription is confirmed (Redis answered the `SUBSCRIBE`): "not revoked" answers are cached again. */
  | { store: 'redis'; type: 'subscribed'; channel: string }
  /** The subscription was refused or lost: every check asks Redis until `subscribed`; the next attempt is in `retryInMs`. */
  | { store: 'redis'; type: 'subscription-failed'; channel: string; error: string; retryInMs: number }
  /** A revocation was recorded (`SET`) but its `PUBLISH` failed: other instances learn of it within their `cacheMs`. */
  | { store: 'redis'; type: 'publish-failed'; channel: string; error: string };

// Held at module level: a channel object is what keeps its subscribers reachable.
export const decisionChannel = channel(channels.decision);
export const cacheChannel = channel(channels.cache);
export const jwksChannel = channel(channels.jwks);
export const ownershipChannel = channel(channels.ownership);
export const revocationStoreChannel = channel(channels.revocationStore);
