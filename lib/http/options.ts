/**
 * Options are parsed and validated once, when a factory is called: a bad option throws at startup
 * with a message naming it, never on the first request.
 */
import type { IsRevoked, VerifierOptions } from '../token/options';
import type { WalletOf } from '../token/claims';
import type { KeySetOptions, ResolvedKeySetOptions } from '../jwks/options';
import { parseKeySetOptions } from '../jwks/options';
import { DEFAULT_REALM, OptionsError, rejectUnknownKeys } from '../errors';
import { mediaType } from '../token/media-type';
import { consoleLogger, type Logger } from '../jwks/warn';
import type { TrustedIssuer } from '../token/issuers';
import { parseStaticKeys, type JsonWebKeySet } from '../jwks/static';
import { parseClaimsOption, type ClaimCheck, type CompiledClaimCheck } from '../ownership/claim-check';
import {
  parseRevalidateOptions,
  type ResolvedRevalidateOptions,
  type RevalidateOptions,
} from '../ownership/revalidate';
import { isLoopbackHost } from '../net/loopback';

/**
 * Where `getToken` looks for a token; `req` is the incoming request of whatever framework. It may
 * answer with a Promise (a session store, say): the gate waits for it.
 */
export type GetToken = (req: any) => string | undefined | null | Promise<string | undefined | null>;

export type { IsRevoked } from '../token/options';

/** Options accepted by `createTokenGate`, the top-level factories and `verifyAccessToken`. */
export interface TokenGateOptions {
  /** Your project id; the token's `aud` must contain one of these. Env: `PICKET_PROJECT_ID`. */
  audience?: string | string[];
  /** Allowed `iss` values, compared exactly. Default `picketapi.com`. Env: `PICKET_ISSUER`. */
  issuer?: string | string[];
  /** Where the issuer publishes its keys. https, or http on loopback only. Env: `PICKET_JWKS_URI`. */
  jwksUri?: string;
  /** The issuer's keys as a JWK Set, instead of `jwksUri` (never fetched). */
  keys?: JsonWebKeySet;
  /** Several trusted issuers, each with its audiences and keys, instead of `issuer`/`audience`/`jwksUri`/`keys`. */
  issuers?: IssuerOptions[];
  /** Accepted `sub` values, compared exactly. Default: any. */
  subject?: string | string[];
  /** Longest accepted time since `iat`, in seconds (jose's `maxTokenAge`); `iat` becomes required. */
  maxTokenAge?: number;
  /** A check every token of the gate must pass (403 `claim_check_failed`): a predicate or `{ check, description }`. */
  claims?: ClaimCheck | { check: ClaimCheck; description?: string };
  /** Also put the claims at `req[claimsProperty]`, e.g. `'auth'` as express-jwt does. Default: not set. */
  claimsProperty?: string;
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
  /** Reads the token from another place (may be async); a token there *and* in `Authorization` is a 400. */
  getToken?: GetToken;
  /**
   * Also read the `access_token` query parameter (RFC 6750 §2.3), for WebSocket upgrades and
   * server-sent events, which cannot send headers from a browser. Default `false`: URLs end up in
   * logs, browser history and `Referer`.
   */
  allowQueryToken?: boolean;
  /**
   * Reads the wallet from the verified claims of tokens of other wallet services, instead of
   * Picket's `walletAddress`/`chain`/`sub`: `{ address, chain, network? }`; nothing is a 401
   * `claim_invalid`. Such tokens prove no ownership: `requireTokens` needs `revalidate`.
   */
  wallet?: WalletOf;
  /** Revocation check, run only after signature and claims pass. */
  isRevoked?: IsRevoked;
  /**
   * Let CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) through without a token:
   * browsers send them without credentials. Default `true`.
   */
  allowPreflight?: boolean;
  /** Verified-token cache: `false` turns it off. Default `{ maxEntries: 10000 }`. */
  cache?: { maxEntries?: number } | false;
  /** Key-set fetching and caching. */
  jwks?: KeySetOptions;
  /**
   * Where a key set that cannot be fetched is reported (one line, rate-limited): a function or an
   * object with `warn`. Default `console.warn`; `false` silences it.
   */
  logger?: Logger | false;
  /** Live ownership: every `requireTokens` of the gate decides on current holdings asked of `resolver`. */
  revalidate?: RevalidateOptions | false;
}

/** One trusted issuer of the `issuers` option. */
export interface IssuerOptions {
  /** Its `iss`, compared exactly. */
  issuer: string;
  /** The project ids its tokens must name in `aud`. */
  audience: string | string[];
  /** Its key set URL (https, or http on loopback); or `keys`. */
  jwksUri?: string;
  /** Its keys as a JWK Set; or `jwksUri`. */
  keys?: JsonWebKeySet;
}

/**
 * The default of every option that has one, in one place (the Options table of docs/options.md shows the
 * same values). `issuer` and `jwksUri` apply when the environment names none either.
 */
export const DEFAULTS = {
  issuer: 'picketapi.com',
  jwksUri: 'https://picketapi.com/api/v1/.well-known/jwks.json',
  algorithms: ['ES256'],
  clockTolerance: 5,
  maxTokenLifetime: 86_400,
  requestProperty: 'wallet',
  realm: DEFAULT_REALM,
  allowPreflight: true,
  cache: { maxEntries: 10_000 },
} satisfies { [K in keyof TokenGateOptions]?: Exclude<TokenGateOptions[K], false | undefined> };

/**
 * Every option's name: a `Record` over `TokenGateOptions`, so an option added to the interface
 * without being added here fails to compile. Any other name is refused at startup.
 */
const OPTION_NAMES = {
  audience: true,
  issuer: true,
  jwksUri: true,
  keys: true,
  issuers: true,
  subject: true,
  maxTokenAge: true,
  claims: true,
  claimsProperty: true,
  algorithms: true,
  clockTolerance: true,
  maxTokenLifetime: true,
  typ: true,
  requestProperty: true,
  realm: true,
  getToken: true,
  allowQueryToken: true,
  wallet: true,
  isRevoked: true,
  allowPreflight: true,
  cache: true,
  jwks: true,
  logger: true,
  revalidate: true,
} satisfies Record<keyof TokenGateOptions, true>;

const ALLOWED_ALGORITHMS = new Set([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
]);

/**
 * Options of express-jwt, express-oauth2-jwt-bearer, jwks-rsa and passport-jwt that users bring
 * along, with what to use here instead: an unknown name alone would leave them guessing.
 */
const FOREIGN_OPTIONS: Readonly<Record<string, string>> = {
  credentialsRequired:
    'is not used here: use optionalAuth() where a token is optional, requireAuth() where it is required',
  secret:
    "is not used here: keys come from the issuer's JWKS (jwksUri, or static keys) and shared secrets (HS*) are refused",
  secretOrKey:
    "is not used here: keys come from the issuer's JWKS (jwksUri, or static keys) and shared secrets (HS*) are refused",
  publicKey: 'is not used here: pass the public key as a JWK in keys: { keys: [jwk] }',
  issuerBaseURL: 'is not used here: set issuer (the exact iss) and jwksUri',
  tokenSigningAlg: 'is not used here: use algorithms',
  jwtFromRequest: 'is not used here: use getToken(req)',
  property: 'is not used here: use requestProperty',
  userProperty: 'is not used here: use requestProperty',
  resultProperty: 'is not used here: use requestProperty',
  maxAge: 'is not used here: use maxTokenAge (seconds since iat) or maxTokenLifetime (longest exp - iat)',
  ignoreExpiration: 'is not supported: exp is always checked (clockTolerance allows for skew)',
  ignoreNotBefore: 'is not supported: nbf is always checked (clockTolerance allows for skew)',
  onExpired: 'is not used here: an expired token reaches your error handler with err.reason "token_expired"',
  jwksRequestsPerMinute: 'is not used here: see the jwks options (cooldownMs limits refetches)',
  cacheMaxAge: 'is not used here: see the jwks options (maxAgeMs)',
};

/** Most entries of `issuers`. */
const MAX_ISSUERS = 100;

/** Options after defaults, environment and validation: the verifier's, plus the gate's own. */
export interface ResolvedOptions extends VerifierOptions {
  /** Every accepted audience (with `issuers`, of all issuers together; `trust` pairs them). */
  audience: readonly string[];
  /** The single form's key set URL; undefined with `keys` or `issuers`. */
  jwksUri: string | undefined;
  /** Each trusted issuer with its audiences and key source. */
  trust: readonly TrustedIssuer[];
  claims: CompiledClaimCheck | undefined;
  claimsProperty: string | undefined;
  requestProperty: string;
  realm: string;
  getToken: GetToken | undefined;
  allowQueryToken: boolean;
  allowPreflight: boolean;
  jwks: ResolvedKeySetOptions;
  /** Undefined when silenced. */
  logger: Logger | undefined;
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

function parseJwksUri(value: unknown, name = 'jwksUri'): string {
  if (typeof value !== 'string') throw new OptionsError(name, 'must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError(name, 'is not a valid URL');
  }
  if (url.username || url.password) throw new OptionsError(name, 'must not carry credentials');
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url.href;
  throw new OptionsError(name, 'must use https (plain http is allowed only on loopback)');
}

function property(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(value) || value === '__proto__') {
    throw new OptionsError(name, 'must be a plain identifier such as "wallet"');
  }
  return value;
}

/** `issuers`: one entry per `iss`, each with its audiences and exactly one of `jwksUri` and `keys`. */
function parseIssuers(value: unknown): TrustedIssuer[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new OptionsError('issuers', 'must be a non-empty list of { issuer, audience, jwksUri | keys }');
  if (value.length > MAX_ISSUERS) throw new OptionsError('issuers', `must list at most ${MAX_ISSUERS} issuers`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i): TrustedIssuer => {
    const at = `issuers[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new OptionsError(at, 'must be { issuer, audience, jwksUri | keys }');
    rejectUnknownKeys(entry, ['issuer', 'audience', 'jwksUri', 'keys'], at);
    const { issuer, audience, jwksUri, keys } = entry as Partial<Record<keyof IssuerOptions, unknown>>;
    if (typeof issuer !== 'string' || issuer.length === 0)
      throw new OptionsError(`${at}.issuer`, 'must be a non-empty string');
    if (seen.has(issuer))
      throw new OptionsError(`${at}.issuer`, `repeats "${issuer.slice(0, 100)}": each issuer is listed once`);
    seen.add(issuer);
    if (audience === undefined) throw new OptionsError(`${at}.audience`, 'is required');
    if ((jwksUri === undefined) === (keys === undefined))
      throw new OptionsError(at, 'needs exactly one of jwksUri and keys');
    return {
      issuer: [issuer],
      audience: stringList(`${at}.audience`, audience),
      source:
        keys === undefined
          ? { jwksUri: parseJwksUri(jwksUri, `${at}.jwksUri`) }
          : { keys: parseStaticKeys(keys, `${at}.keys`) },
    };
  });
}

/** The trusted issuers of either form: `issuers`, or `issuer`/`audience` with `jwksUri` or `keys`. */
function parseTrust(options: TokenGateOptions, env: NodeJS.ProcessEnv): TrustedIssuer[] {
  if (options.issuers !== undefined) {
    for (const name of ['issuer', 'audience', 'jwksUri', 'keys'] as const) {
      if (options[name] !== undefined)
        throw new OptionsError(name, 'cannot be combined with issuers: give each issuer its own in issuers');
    }
    return parseIssuers(options.issuers);
  }
  const audience = options.audience ?? (env.PICKET_PROJECT_ID || undefined);
  if (audience === undefined) {
    throw new OptionsError('audience', 'is required (your project id), or set PICKET_PROJECT_ID');
  }
  if (options.keys !== undefined && options.jwksUri !== undefined)
    throw new OptionsError('keys', 'cannot be combined with jwksUri: give one');
  return [
    {
      issuer: stringList('issuer', options.issuer ?? (env.PICKET_ISSUER || DEFAULTS.issuer)),
      audience: stringList('audience', audience),
      source:
        options.keys !== undefined
          ? { keys: parseStaticKeys(options.keys, 'keys') }
          : { jwksUri: parseJwksUri(options.jwksUri ?? (env.PICKET_JWKS_URI || DEFAULTS.jwksUri)) },
    },
  ];
}

function parseAlgorithms(value: unknown): string[] {
  if (value === undefined) return [...DEFAULTS.algorithms];
  const list = stringList('algorithms', value);
  for (const alg of list) {
    if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw new OptionsError(
        'algorithms',
        `must not contain "${alg}": only asymmetric signatures are accepted, with keys from the issuer's JWKS (jwksUri)`,
      );
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
  if (value === undefined) return DEFAULTS.cache.maxEntries;
  if (value === false) return 0;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionsError('cache', 'must be false or { maxEntries }');
  }
  rejectUnknownKeys(value, ['maxEntries'], 'cache');
  const { maxEntries } = value as { maxEntries?: unknown };
  if (maxEntries === undefined) return DEFAULTS.cache.maxEntries;
  if (typeof maxEntries !== 'number' || !Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new OptionsError('cache.maxEntries', 'must be a whole number, 1 or more');
  }
  return maxEntries;
}

function parseLogger(value: unknown): Logger | undefined {
  if (value === undefined) return consoleLogger;
  if (value === false) return undefined;
  if (typeof value === 'function') return value as Logger;
  if (typeof value === 'object' && value !== null && typeof (value as { warn?: unknown }).warn === 'function')
    return value as Logger;
  throw new OptionsError('logger', 'must be false, a function or an object with a warn method (such as console)');
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
    if (Object.hasOwn(FOREIGN_OPTIONS, key) && !Object.hasOwn(OPTION_NAMES, key))
      throw new OptionsError(key, FOREIGN_OPTIONS[key]!);
  }
  rejectUnknownKeys(options, Object.keys(OPTION_NAMES));
  const trust = parseTrust(options, env);
  const requestProperty = property('requestProperty', options.requestProperty ?? DEFAULTS.requestProperty);
  const claimsProperty =
    options.claimsProperty === undefined ? undefined : property('claimsProperty', options.claimsProperty);
  if (claimsProperty === requestProperty) throw new OptionsError('claimsProperty', 'must differ from requestProperty');
  const allowPreflight = options.allowPreflight ?? DEFAULTS.allowPreflight;
  if (typeof allowPreflight !== 'boolean') throw new OptionsError('allowPreflight', 'must be true or false');
  const allowQueryToken = options.allowQueryToken ?? false;
  if (typeof allowQueryToken !== 'boolean') throw new OptionsError('allowQueryToken', 'must be true or false');
  const realm = options.realm ?? DEFAULTS.realm;
  if (typeof realm !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/.test(realm)) {
    throw new OptionsError('realm', 'must be 1 to 100 printable characters without quotes or backslashes');
  }
  return {
    audience: [...new Set(trust.flatMap((t) => t.audience))],
    issuer: trust.flatMap((t) => t.issuer),
    jwksUri: trust.length === 1 && 'jwksUri' in trust[0]!.source ? trust[0]!.source.jwksUri : undefined,
    trust,
    subject: options.subject === undefined ? undefined : stringList('subject', options.subject),
    maxTokenAge: options.maxTokenAge === undefined ? undefined : seconds('maxTokenAge', options.maxTokenAge, 0),
    claims: parseClaimsOption(options.claims),
    claimsProperty,
    algorithms: parseAlgorithms(options.algorithms),
    clockTolerance: seconds('clockTolerance', options.clockTolerance, DEFAULTS.clockTolerance),
    maxTokenLifetime: seconds('maxTokenLifetime', options.maxTokenLifetime, DEFAULTS.maxTokenLifetime),
    typ: options.typ === undefined ? undefined : stringList('typ', options.typ).map(mediaType),
    requestProperty,
    realm,
    getToken: optionalFunction<GetToken>('getToken', options.getToken),
    allowQueryToken,
    wallet: optionalFunction<WalletOf>('wallet', options.wallet),
    isRevoked: optionalFunction<IsRevoked>('isRevoked', options.isRevoked),
    allowPreflight,
    cacheMaxEntries: parseCache(options.cache),
    jwks: parseKeySetOptions(options.jwks),
    logger: parseLogger(options.logger),
    revalidate: parseRevalidateOptions(options.revalidate),
  };
}
