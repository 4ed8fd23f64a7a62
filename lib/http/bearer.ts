/**
 * RFC 6750 §2.1: reading the bearer token from a request of any framework: the Authorization
 * header, a user-supplied `getToken`, and the `access_token` query parameter (§2.3) only where the
 * gate allows it. Form-encoded body tokens never are.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from '../errors';
import type { GetToken } from './options';

/** `Bearer` SP b64token, scheme case-insensitive (RFC 6750 §2.1, RFC 7235 §2.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SCHEME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?: |$)/;

/** Every `Authorization` line of a Node request: Node keeps only the first of duplicates in `req.headers`. */
export function authorizationHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) {
    const single = req.headers?.authorization;
    return typeof single === 'string' ? [single] : [];
  }
  const found: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') found.push(raw[i + 1] ?? '');
  }
  return found;
}

/** A comma followed by what can only start another credential: `<scheme> <something>`. */
const NEXT_CREDENTIAL = /, *(?=[!#$%&'*+\-.^_`|~0-9A-Za-z]+ +[^ ,])/;

/**
 * The `Authorization` lines behind one Fetch `Headers` value: `Headers` joins repeated lines with
 * ", ", so "Bearer a, Bearer b" is two lines, as Node's `rawHeaders` would show them. A comma inside
 * one credential (Digest's `a="x", b="y"`) is not followed by `<scheme> <value>` and splits nothing.
 */
export function authorizationValues(joined: string | null | undefined): string[] {
  if (joined === null || joined === undefined) return [];
  return joined.includes(',') ? joined.split(NEXT_CREDENTIAL) : [joined];
}

/**
 * What follows `Bearer ` (any case, one space) in a single Authorization line, unchecked: the
 * key a verified-token cache is asked for before the line's syntax is read. Only a cache hit may
 * use it (every cached token passed `fromHeader`'s checks when it was first seen); anything else
 * goes through `tokenOf`. Undefined for any other shape.
 */
export function bearerCandidate(values: readonly string[]): string | undefined {
  if (values.length !== 1) return undefined;
  const value = values[0]!;
  if (
    value.length < 8 ||
    value.charCodeAt(6) !== 32 ||
    (value.charCodeAt(0) | 32) !== 98 ||
    (value.charCodeAt(1) | 32) !== 101 ||
    (value.charCodeAt(2) | 32) !== 97 ||
    (value.charCodeAt(3) | 32) !== 114 ||
    (value.charCodeAt(4) | 32) !== 101 ||
    (value.charCodeAt(5) | 32) !== 114
  )
    return undefined;
  return value.slice(7);
}

/** The bearer token in the Authorization header; undefined when there is none (or another scheme). */
function fromHeader(values: readonly string[]): string | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1)
    throw new InvalidRequestError('header_duplicated', 'The request has more than one Authorization header');
  const value = values[0]!;
  const scheme = SCHEME.exec(value)?.[1];
  if (scheme === undefined) throw new InvalidRequestError('header_malformed', 'The Authorization header is malformed');
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  const match = BEARER.exec(value);
  if (!match)
    throw new InvalidRequestError('header_malformed', 'The Authorization header is not of the form Bearer <token>');
  return match[1];
}

/**
 * Extracts the request's token. Throws `InvalidRequestError` for malformed or duplicated
 * credentials; returns undefined when the request carries none (a Promise when `getToken` answers
 * with one).
 */
export function extractToken(req: IncomingMessage, getToken?: undefined): string | undefined;
export function extractToken(
  req: IncomingMessage,
  getToken: GetToken,
): string | undefined | Promise<string | undefined>;
export function extractToken(
  req: IncomingMessage,
  getToken: GetToken | undefined,
): string | undefined | Promise<string | undefined> {
  return tokenOf(authorizationHeaders(req), getToken, req);
}

/** The query of a request target (path and query, or an absolute URL), without a fragment. */
function queryOf(url: string): string | undefined {
  const mark = url.indexOf('?');
  if (mark === -1) return undefined;
  const end = url.indexOf('#', mark);
  return end === -1 ? url.slice(mark + 1) : url.slice(mark + 1, end);
}

/**
 * RFC 6750 §2.3: the `access_token` query parameter, read only where the gate allows it. Names and
 * values are URL-decoded (`%61ccess_token` is `access_token`, as the application's query parser
 * reads it). Given twice, empty or not a b64token, it is a 400: a value we cannot read is refused,
 * never skipped.
 */
export function fromQuery(url: string): string | undefined {
  const query = queryOf(url);
  if (query === undefined || query.length === 0) return undefined;
  const values = new URLSearchParams(query).getAll('access_token');
  if (values.length === 0) return undefined;
  if (values.length > 1)
    throw new InvalidRequestError('query_malformed', 'The access_token query parameter is given more than once');
  const value = values[0]!;
  if (!B64TOKEN.test(value))
    throw new InvalidRequestError('query_malformed', 'The access_token query parameter is not a token');
  return value;
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function conflict(): InvalidRequestError {
  return new InvalidRequestError('token_location_conflict', 'The request carries a token in more than one place');
}

function unreadable(): InvalidRequestError {
  return new InvalidRequestError('header_malformed', 'The token could not be read from the request');
}

/** What `getToken` answered, checked against the token found in the request itself. */
function settle(custom: unknown, found: string | undefined): string | undefined {
  if (custom === undefined || custom === null || custom === '') return found;
  if (typeof custom !== 'string') throw new InvalidRequestError('header_malformed', 'The token is not a string');
  if (found !== undefined) throw conflict();
  return custom;
}

/**
 * The token of a request of any framework: `authorization` holds its Authorization lines,
 * `request` is what `getToken` receives (the framework's own request object), `url` the request
 * target whose `access_token` is read when `allowQueryToken`. Synchronous unless `getToken`
 * answers with a Promise; a token in two places is a 400 `token_location_conflict`.
 */
export function tokenOf(
  authorization: readonly string[],
  getToken: GetToken | undefined,
  request: unknown,
  url?: string,
): string | undefined | Promise<string | undefined> {
  const header = fromHeader(authorization);
  let found = header;
  if (url !== undefined) {
    const query = fromQuery(url);
    if (query !== undefined) {
      if (header !== undefined) throw conflict();
      found = query;
    }
  }
  if (!getToken) return found;
  let custom: unknown;
  try {
    custom = getToken(request);
  } catch {
    throw unreadable();
  }
  if (isThenable(custom))
    return Promise.resolve(custom).then(
      (answer) => settle(answer, found),
      () => {
        throw unreadable();
      },
    );
  return settle(custom, found);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
