/**
 * `express-token-gate/issuer`: the incremental-authorization issuer, as a production server.
 * Wallets log in (`/auth/nonce`, `/auth`), upgrade their token with what the ownership resolver
 * says they hold (`/authz`), have it checked (`/auth/validate`) and log out (`/auth/logout`),
 * which ends the session for every token of it. Its keys are published at
 * `/.well-known/jwks.json`; `gateOptions` is what a gate needs to trust it.
 *
 * The test kit (`express-token-gate/testing`) is this server with test defaults.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidTokenError, OptionsError, rejectUnknownKeys } from '../errors';
import { resolveOptions } from '../http/options';
import type { OwnershipResolver } from '../ownership/resolvers/types';
import { TokenVerifier } from '../token/verify';
import { CorsPolicy, type CorsOptions } from './cors';
import { displayNames, type EnsOptions } from './ens';
import { HostPolicy } from './guard';
import { rateLimits, socketAddress, type RateLimitOptions } from './rate-limits';
import { issuerHandler, servesPath } from './http';
import { MAX_BODY_BYTES } from './server';
import { KeyRing } from './key-ring';
import { loadSigningKeys, type SigningKeyInput } from './keys';
import type { LoginSettings } from './login';
import { contractWallets, loginSettings, type ChainsOptions, type LoginOptions } from './login-options';
import { Sessions, type SessionRevocations } from './sessions';
import { TokenSigner, TOKEN_PROFILES, type TokenProfile } from './signer';
import { memoryIssuerStore } from './store/memory';
import { isIssuerStore, type IssuerStore } from './store/store';

export interface IssuerOptions {
  /** `iss` of every token. */
  issuer: string;
  /** `aud` of every token: the project id. */
  audience: string;
  /** ES256 private keys (PEM or JWK); the first signs, all are published. Required unless `ephemeralKey`. */
  signingKeys?: SigningKeyInput[];
  /** Generate one key for this process (tokens stop verifying when it restarts): development and tests only. */
  ephemeralKey?: boolean;
  /** Wallet login (EIP-4361 by default). */
  login?: LoginOptions;
  /**
   * JSON-RPC endpoints of the EVM chains, `{ ethereum: { rpcUrl }, polygon: { rpcUrl } }`: contract
   * wallets (EIP-1271, EIP-6492) log in through them. Without one, a chain's wallets must be EOAs.
   * `ethereum`'s is also where ENS names are looked up (`ensUniversalResolver`: another resolver,
   * for test chains and private deployments).
   */
  chains?: ChainsOptions;
  /**
   * `displayAddress` from ENS, when `chains.ethereum.rpcUrl` is set: the wallet's primary name,
   * bounded by `timeoutMs` (default 1000) and cached per address (`cacheSeconds`, default 300;
   * `maxEntries`, default 10000); the checksummed address whenever ENS has no acceptable name in
   * time. `false` turns lookups off.
   */
  ens?: EnsOptions | false;
  /**
   * The longest one request may take, its body included: then 408 `request_timeout` while the
   * body is still arriving, 503 `timeout` with `Retry-After` after, and nothing is signed for it.
   * Default 15000 ms.
   */
  requestTimeoutMs?: number;
  /** The largest request body read; a larger one is answered 413 `body_too_large`. Default 65536 bytes. */
  maxBodyBytes?: number;
  /** What logins and `/authz` prove: `evmOwnershipResolver({ rpcUrl })` or your own. Without it, requirements are refused. */
  ownership?: OwnershipResolver;
  /** The longest a login or `/authz` waits for `ownership`. Default 10000 ms. */
  ownershipTimeoutMs?: number;
  /** Nonces and sessions (and, shared in Redis, across instances). Default `memoryIssuerStore()`. */
  store?: IssuerStore;
  /** Logouts every gate using the same list honours (`createRevocationList()`). */
  revocations?: SessionRevocations;
  /** How long a login's session lasts; an upgrade never extends it. Default 43200 (12 h). */
  tokenLifetimeSeconds?: number;
  /** Which browser origins may call the issuer. Default: origins on loopback hosts. */
  cors?: CorsOptions;
  /**
   * Host names (`Host` header, any port) the issuer answers, besides localhost, 127.0.0.1 and
   * [::1], which it always answers: e.g. `['auth.example.com']`. Others get 421 `host_not_allowed`.
   */
  hosts?: string[];
  /**
   * Limits on `/auth/nonce`, `/auth` and `tokenOwnership` per client address and per wallet, shared
   * through `store`; `false` turns them off.
   */
  rateLimits?: RateLimitOptions | false;
  /** The client's address for `rateLimits`. Default: the socket's (behind a proxy, read the proxy's header). */
  clientAddress?: (req: IncomingMessage) => string | undefined;
  /** @internal The kit's token shape, `'kit'` (default) or `'issuer'`. */
  profile?: TokenProfile;
  /** @internal The chain of tokens the kit signs without one. */
  chain?: string;
  /** @internal The kit's: a token without `sid` (its `sign()`'s) is checked for revocation only. */
  sessionlessTokens?: boolean;
}

export interface Issuer {
  /** Express or Connect middleware: `app.use('/api/v1', issuer.router)`; other paths go to `next()`. */
  readonly router: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
  /** A plain `http.createServer` handler. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * What a gate in the same process needs to trust this issuer: `{ issuer, audience, keys: { keys } }`
   * (its published keys, read when the gate is created).
   * A gate in another process takes `{ issuer, audience, jwksUri: '<where this is mounted>/.well-known/jwks.json' }`.
   */
  readonly gateOptions: { issuer: string; audience: string; keys: { keys: Array<Record<string, unknown>> } };
  /** @internal */
  readonly internals: { signer: TokenSigner; keys: KeyRing; sessions: Sessions; jwksHits(): number };
  close(): Promise<void>;
}

const KNOWN = new Set([
  'issuer',
  'audience',
  'signingKeys',
  'ephemeralKey',
  'login',
  'chains',
  'ens',
  'requestTimeoutMs',
  'maxBodyBytes',
  'ownership',
  'ownershipTimeoutMs',
  'store',
  'revocations',
  'tokenLifetimeSeconds',
  'cors',
  'hosts',
  'rateLimits',
  'clientAddress',
  'profile',
  'chain',
  'sessionlessTokens',
]);

function positiveInteger(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new OptionsError(name, `must be a whole number from 1 to ${max}`);
  }
  return value;
}

/** A resolver for an issuer without `ownership`: every requirement is refused, saying why. */
const NO_OWNERSHIP: OwnershipResolver = {
  name: 'none',
  resolve() {
    return Promise.reject(new Error('the issuer has no ownership resolver'));
  },
};

/**
 * Creates the issuer. Bad options throw an `OptionsError` naming the option.
 *
 * @example
 * const issuer = createIssuer({ issuer: 'auth.example.com', audience: 'my-project', signingKeys: [pem],
 *   login: { domains: ['app.example.com'] }, ownership: evmOwnershipResolver({ rpcUrl }) });
 * app.use('/api/v1', issuer.router);
 */
export function createIssuer(options: IssuerOptions): Issuer {
  if (typeof options !== 'object' || options === null) throw new OptionsError('options', 'must be an object');
  rejectUnknownKeys(options, KNOWN);
  const { issuer: iss, audience } = options;
  if (typeof iss !== 'string' || iss === '') throw new OptionsError('issuer', 'is required: the iss of every token');
  if (typeof audience !== 'string' || audience === '') {
    throw new OptionsError('audience', 'is required: the project id tokens are issued for');
  }
  if (options.signingKeys !== undefined && options.ephemeralKey === true) {
    throw new OptionsError('ephemeralKey', 'cannot be combined with signingKeys');
  }
  if (options.signingKeys === undefined && options.ephemeralKey !== true) {
    throw new OptionsError(
      'signingKeys',
      'is required: ES256 private keys (PEM or JWK); ephemeralKey: true generates one for development only',
    );
  }
  const profile = options.profile ?? 'kit';
  if (!TOKEN_PROFILES.includes(profile)) throw new OptionsError('profile', "must be 'kit' or 'issuer'");
  const store = options.store ?? memoryIssuerStore();
  if (!isIssuerStore(store)) throw new OptionsError('store', 'must be an IssuerStore, e.g. redisIssuerStore({ url })');
  const revocations = options.revocations;
  if (
    revocations !== undefined &&
    (typeof revocations?.isRevoked !== 'function' || typeof revocations?.revoke !== 'function')
  ) {
    throw new OptionsError('revocations', 'must be a revocation list: createRevocationList()');
  }
  if (options.clientAddress !== undefined && typeof options.clientAddress !== 'function') {
    throw new OptionsError('clientAddress', 'must be a function (req) => the client address');
  }
  const ownership = options.ownership ?? NO_OWNERSHIP;
  if (typeof ownership?.resolve !== 'function') {
    throw new OptionsError('ownership', 'must be an OwnershipResolver, e.g. evmOwnershipResolver({ rpcUrl })');
  }
  const sessionSeconds = positiveInteger('tokenLifetimeSeconds', options.tokenLifetimeSeconds, 43_200, 30 * 86_400);
  const ownershipTimeoutMs = positiveInteger('ownershipTimeoutMs', options.ownershipTimeoutMs, 10_000, 120_000);
  const requestTimeoutMs = positiveInteger('requestTimeoutMs', options.requestTimeoutMs, 15_000, 300_000);
  const maxBodyBytes = positiveInteger('maxBodyBytes', options.maxBodyBytes, MAX_BODY_BYTES, 1_048_576);
  const cors = new CorsPolicy(options.cors);
  const hosts = new HostPolicy(options.hosts);
  const login: LoginSettings = loginSettings(audience, options.login);
  const { ens: ensChains, ...wallets } = contractWallets(options.chains);
  const names = displayNames(options.ens, ensChains);
  const chain = options.chain ?? 'ethereum';

  const keys = KeyRing.from(loadSigningKeys(options.signingKeys ?? { ephemeral: true }));
  const signer = new TokenSigner({ keys, iss, audience, chain, profile, lifetimeSeconds: sessionSeconds });
  // The issuer checks the tokens it is handed with a gate's default rules, against its own keys,
  // allowing as long a lifetime as it signs.
  const verifier = new TokenVerifier(
    resolveOptions({ audience, issuer: iss, cache: false, maxTokenLifetime: Math.max(86_400, sessionSeconds) }, {}),
    {
      async getKeys(_alg, kid) {
        const found = await keys.publicKeysFor(kid);
        if (found.length === 0) throw new InvalidTokenError('key_not_found', 'The token was not signed by this issuer');
        return found;
      },
    },
  );
  let jwksHits = 0;
  const sessions = new Sessions(store, revocations, options.sessionlessTokens === true);
  const handler = issuerHandler(
    {
      signer,
      verifier,
      ownership,
      ownershipTimeoutMs,
      sessions,
      rateLimits: rateLimits(store, options.rateLimits, options.clientAddress ?? socketAddress),
      sessionSeconds,
      login,
      store,
      contractWallets: wallets,
      names,
      jwks() {
        jwksHits += 1;
        return keys.jwks();
      },
    },
    { cors, hosts, requestTimeoutMs, maxBodyBytes },
  );
  return {
    handler,
    router(req, res, next) {
      if (servesPath(req.url ?? '/')) handler(req, res);
      else next();
    },
    get gateOptions() {
      return { issuer: iss, audience, keys: { keys: keys.jwks().keys.map((key) => ({ ...key })) } };
    },
    internals: { signer, keys, sessions, jwksHits: () => jwksHits },
    close: () => (options.store === undefined ? store.close() : Promise.resolve()),
  };
}

export type { ChainOptions, ChainsOptions, LoginOptions } from './login-options';
export type { EnsOptions } from './ens';
export type { RateLimitOptions } from './rate-limits';
export type { CorsOptions } from './cors';
export type { SigningKeyInput } from './keys';
export type { IssuerStore } from './store/store';
export { memoryIssuerStore } from './store/memory';
export { loadSigningKeys } from './keys';
