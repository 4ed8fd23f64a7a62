/**
 * Options are parsed and validated once, when a factory is called: a bad option throws at startup
 * with a message naming it, never on the first request.
 */
import type { AccessTokenClaims } from './token/claims';
import type { KeySetOptions, ResolvedKeySetOptions } from './jwks/options';
import { parseKeySetOptions } from './jwks/options';
import { OptionsError } from './errors';
import { mediaType } from './token/precheck';
import { parseRevalidateOptions, type ResolvedRevalidateOptions, type RevalidateOptions } from './ownership/revalidate';

/** Where `getToken` looks for a token; `req` is the incoming request of whatever framework. */
export type GetToken = (req: any) => string | undefined | null;

/** Called after the signature and every claim passed; `true` rejects the token as revoked. */
export type IsRevoked = (claims: AccessTokenClaims, req?: any) => boolean | Promise<boolean>;

/** Options accepted by `createTokenGate`, the top-level factories and `verifyAccessToken`. */
export interface TokenGateOptions {
  /** Your project id; the token's `aud` must contain one of these. Env: `PICKET_PROJECT_ID`. */
  audience?: string | string[];
  /** Allowed `iss` values, compared exactly. Default `picketapi.com`. Env: `PICKET_ISSUER`. */
  issuer?: string | string[];
  /** Where the issuer publishes its keys. https, or http on loopback only. Env: `PICKET_JWKS_URI`. */
  jwksUri?: string;
  /** Accepted signature algorithms. Default `['ES256']`; `none` and `HS*` are refused. */
  algorithms?: string[];
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. Default 5. */
  clockTolerance?: number;
  /** Longest accepted `exp - iat` in seconds. Default 86400 (24 h). */
  maxTokenLifetime?: number;
  /** Accepted JOSE `typ` header values (case-insensitive). Default: any or none. */
  typ?: string | string[];
  /** Property of `req` that receives the wallet. Default `wallet`. */
  requestProperty?: string;
  /** The realm named in `WWW-Authenticate`. Default `api`. */
  realm?: string;
  /** Reads the token from another place; a token there *and* in `Authorization` is a 400. */
  getToken?: GetToken;
  /** Revocation check, run only after signature and claims pass. */
  isRevoked?: IsRevoked;
  /** Verified-token cache: `false` turns it off. Default `{ maxEntries: 10000 }`. */
  cache?: { maxEntries?: number } | false;
  /** Key-set fetching and caching. */
  jwks?: KeySetOptions;
  /** Live ownership: every `requireTokens` of the gate decides on current holdings asked of `resolver`. */
  revalidate?: RevalidateOptions | false;
}

export const PICKET_ISSUER = 'picketapi.com';
export const PICKET_JWKS_URI = 'https://picketapi.com/api/v1/.well-known/jwks.json';

const ALLOWED_ALGORITHMS = new Set([
  'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
]);

const KNOWN_KEYS = new Set([
  'audience', 'issuer', 'jwksUri', 'algorithms', 'clockTolerance', 'maxTokenLifetime', 'typ',
  'requestProperty', 'realm', 'getToken', 'isRevoked', 'cache', 'jwks', 'revalidate',
]);

/** Options after defaults, environment and validation. */
export interface ResolvedOptions {
  audience: readonly string[];
  issuer: readonly string[];
  jwksUri: string;
  algorithms: readonly string[];
  clockTolerance: number;
  maxTokenLifetime: number;
  typ: readonly string[] | undefined;
  requestProperty: string;
  realm: string;
  getToken: GetToken | undefined;
  isRevoked: IsRevoked | undefined;
  cacheMaxEntries: number;
  jwks: ResolvedKeySetOptions;
  revalidate: ResolvedRevalidateOptions | undefined;
}

function stringList(name: string, value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new OptionsError(name, 'must not be an empty list');
  for (const item of list) {
    if (typeof item !== 'string' || item.length === 0) {
      throw new OptionsError(name, 'must be a non-empty string or a list of them');
    }
  }
  return list as string[];
}

function seconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new OptionsError(name, 'must be a finite number of seconds, 0 or more');
  }
  return value;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

function parseJwksUri(value: unknown): string {
  if (typeof value !== 'string') throw new OptionsError('jwksUri', 'must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError('jwksUri', 'is not a valid URL');
  }
  if (url.username || url.password) throw new OptionsError('jwksUri', 'must not carry credentials');
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url.href;
  throw new OptionsError('jwksUri', 'must use https (plain http is allowed only on loopback)');
}

function parseAlgorithms(value: unknown): string[] {
  if (value === undefined) return ['ES256'];
  const list = stringList('algorithms', value);
  for (const alg of list) {
    if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw new OptionsError('algorithms', `must not contain "${alg}": only asymmetric signatures are accepted`);
    }
    if (!ALLOWED_ALGORITHMS.has(alg)) throw new OptionsError('algorithms', `contains unknown algorithm "${alg}"`);
  }
  return [...new Set(list)];
}

function optionalFunction<T>(name: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new OptionsError(name, 'must be a function');
  return value as T;
}

function parseCache(value: unknown): number {
  if (value === undefined) return 10_000;
  if (value === false) return 0;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError('cache', 'must be false or { maxEntries }');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'maxEntries') throw new OptionsError(`cache.${key}`, 'is not a known option');
  }
  const { maxEntries } = value as { maxEntries?: unknown };
  if (maxEntries === undefined) return 10_000;
  if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OptionsError('cache.maxEntries', 'must be a whole number, 1 or more');
  }
  return maxEntries;
}

/**
 * Resolves options against defaults and the environment (`PICKET_PROJECT_ID`, `PICKET_ISSUER`,
 * `PICKET_JWKS_URI`). Explicit options win over the environment.
 */
export function resolveOptions(options: TokenGateOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new OptionsError(key, 'is not a known option');
  }
  const audience = options.audience ?? (env.PICKET_PROJECT_ID || undefined);
  if (audience === undefined) {
    throw new OptionsError('audience', 'is required (your project id), or set PICKET_PROJECT_ID');
  }
  const requestProperty = options.requestProperty ?? 'wallet';
  if (typeof requestProperty !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(requestProperty) || requestProperty === '__proto__') {
    throw new OptionsError('requestProperty', 'must be a plain identifier such as "wallet"');
  }
  const realm = options.realm ?? 'api';
  if (typeof realm !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/.test(realm)) {
    throw new OptionsError('realm', 'must be 1 to 100 printable characters without quotes or backslashes');
  }
  return {
    audience: stringList('audience', audience),
    issuer: stringList('issuer', options.issuer ?? (env.PICKET_ISSUER || PICKET_ISSUER)),
    jwksUri: parseJwksUri(options.jwksUri ?? (env.PICKET_JWKS_URI || PICKET_JWKS_URI)),
    algorithms: parseAlgorithms(options.algorithms),
    clockTolerance: seconds('clockTolerance', options.clockTolerance, 5),
    maxTokenLifetime: seconds('maxTokenLifetime', options.maxTokenLifetime, 86_400),
    typ: options.typ === undefined ? undefined : stringList('typ', options.typ).map(mediaType),
    requestProperty,
    realm,
    getToken: optionalFunction<GetToken>('getToken', options.getToken),
    isRevoked: optionalFunction<IsRevoked>('isRevoked', options.isRevoked),
    cacheMaxEntries: parseCache(options.cache),
    jwks: parseKeySetOptions(options.jwks),
    revalidate: parseRevalidateOptions(options.revalidate),
  };
}
