/**
 * RFC 6750 §2.1: reading the bearer token from a request of any framework. Only the Authorization
 * header (and a user-supplied `getToken`) is read; query-string and form tokens never are.
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
 * credentials; returns undefined when the request carries none.
 */
export function extractToken(req: IncomingMessage, getToken: GetToken | undefined): string | undefined {
  return tokenOf(authorizationHeaders(req), getToken, req);
}

/**
 * The token of a request of any framework: `authorization` holds its Authorization lines,
 * `request` is what `getToken` receives (the framework's own request object).
 */
export function tokenOf(
  authorization: readonly string[],
  getToken: GetToken | undefined,
  request: unknown,
): string | undefined {
  const header = fromHeader(authorization);
  if (!getToken) return header;
  let custom: unknown;
  try {
    custom = getToken(request);
  } catch {
    throw new InvalidRequestError('header_malformed', 'The token could not be read from the request');
  }
  if (custom === undefined || custom === null || custom === '') return header;
  if (typeof custom !== 'string') throw new InvalidRequestError('header_malformed', 'The token is not a string');
  if (header !== undefined) {
    throw new InvalidRequestError('token_location_conflict', 'The request carries a token in more than one place');
  }
  return custom;
}
