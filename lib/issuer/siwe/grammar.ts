/**
 * The ABNF rules EIP-4361 borrows: RFC 3986 (URI, authority, scheme, pchar), RFC 3339
 * (date-time) and its own (statement, nonce). Every check is ASCII-only by construction: the
 * character classes name ASCII ranges, and names are compared after `asciiLowerCase`, never
 * `toLowerCase` (U+212A KELVIN SIGN would fold to `k`).
 */

const UNRESERVED = 'A-Za-z0-9\\-._~';
const SUB_DELIMS = "!$&'()*+,;=";
const PCT = '%[0-9A-Fa-f]{2}';
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`;

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const USERINFO = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*$`);
const REG_NAME = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*$`);
const PORT = /^[0-9]*$/;
const IPV_FUTURE = new RegExp(`^[vV][0-9A-Fa-f]+\\.[${UNRESERVED}${SUB_DELIMS}:]+$`);
const PATH = new RegExp(`^(?:${PCHAR}|/)*$`);
const QUERY_OR_FRAGMENT = new RegExp(`^(?:${PCHAR}|[/?])*$`);
const H16 = /^[0-9A-Fa-f]{1,4}$/;
const DEC_OCTET = /^(?:[0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])$/;

/** `reserved / unreserved / " "` (RFC 3986 section 2): what a statement may hold. */
export const STATEMENT_CHAR = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]$/;
const STATEMENT = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]*$/;
/** `8*( ALPHA / DIGIT )`. */
const NONCE = /^[A-Za-z0-9]{8,}$/;
/** `*pchar`. */
const REQUEST_ID = new RegExp(`^${PCHAR}*$`);

/** Lower case for ASCII letters only. */
export function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

export function isScheme(text: string): boolean {
  return SCHEME.test(text);
}

export function isStatement(text: string): boolean {
  return STATEMENT.test(text);
}

export function isNonce(text: string): boolean {
  return NONCE.test(text);
}

export function isRequestId(text: string): boolean {
  return REQUEST_ID.test(text);
}

export function isIPv4(text: string): boolean {
  const octets = text.split('.');
  return octets.length === 4 && octets.every((octet) => DEC_OCTET.test(octet));
}

/** The eight 16-bit groups of an RFC 3986 `IPv6address`, or undefined when it is not one. */
export function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const pieces = (half: string): string[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    return parts.every((part) => part !== '') ? parts : undefined;
  };
  const left = pieces(halves[0]!);
  const right = halves.length === 2 ? pieces(halves[1]!) : [];
  if (!left || !right) return undefined;
  const all = [...left, ...right];
  const groups: number[] = [];
  for (const [i, part] of all.entries()) {
    if (H16.test(part)) groups.push(parseInt(part, 16));
    // ls32 may end the address as a dotted IPv4 address, worth two groups.
    else if (i === all.length - 1 && isIPv4(part)) {
      const [a, b, c, d] = part.split('.').map(Number) as [number, number, number, number];
      groups.push((a << 8) | b, (c << 8) | d);
    } else return undefined;
  }
  if (halves.length === 1) return groups.length === 8 ? groups : undefined;
  // "::" stands for at least one group of zeros.
  if (groups.length > 7) return undefined;
  const leftCount = left.length;
  const zeros = Array<number>(8 - groups.length).fill(0);
  return [...groups.slice(0, leftCount), ...zeros, ...groups.slice(leftCount)];
}

/** `host` of RFC 3986, split into its kind and its text (an IP literal without brackets). */
export interface Host {
  kind: 'ipv6' | 'ipvfuture' | 'ipv4' | 'reg-name';
  text: string;
}

export interface Authority {
  userinfo?: string;
  host: Host;
  /** Digits as written; `''` for a `:` with no port after it. */
  port?: string;
}

/** Parses an RFC 3986 `authority` (`[ userinfo "@" ] host [ ":" port ]`); undefined if it is not one. */
export function parseAuthority(text: string): Authority | undefined {
  const at = text.indexOf('@');
  const userinfo = at === -1 ? undefined : text.slice(0, at);
  if (userinfo !== undefined && !USERINFO.test(userinfo)) return undefined;
  const hostPort = at === -1 ? text : text.slice(at + 1);
  let host: Host;
  let rest: string;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) return undefined;
    const literal = hostPort.slice(1, close);
    if (ipv6Groups(literal)) host = { kind: 'ipv6', text: literal };
    else if (IPV_FUTURE.test(literal)) host = { kind: 'ipvfuture', text: literal };
    else return undefined;
    rest = hostPort.slice(close + 1);
  } else {
    const colon = hostPort.indexOf(':');
    const name = colon === -1 ? hostPort : hostPort.slice(0, colon);
    if (!REG_NAME.test(name)) return undefined;
    host = { kind: isIPv4(name) ? 'ipv4' : 'reg-name', text: name };
    rest = colon === -1 ? '' : hostPort.slice(colon);
  }
  if (rest === '') return { ...(userinfo !== undefined && { userinfo }), host };
  if (!rest.startsWith(':') || !PORT.test(rest.slice(1))) return undefined;
  return { ...(userinfo !== undefined && { userinfo }), host, port: rest.slice(1) };
}

/** The parts of an RFC 3986 `URI` (absolute, with a scheme; a fragment is allowed). */
export interface UriParts {
  scheme: string;
  authority?: Authority;
  path: string;
  query?: string;
  fragment?: string;
}

/** Parses `scheme ":" hier-part [ "?" query ] [ "#" fragment ]`; undefined if `text` is not a URI. */
export function parseUri(text: string): UriParts | undefined {
  const colon = text.indexOf(':');
  if (colon === -1) return undefined;
  const scheme = text.slice(0, colon);
  if (!SCHEME.test(scheme)) return undefined;
  let rest = text.slice(colon + 1);
  let fragment: string | undefined;
  let query: string | undefined;
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    if (!QUERY_OR_FRAGMENT.test(fragment)) return undefined;
  }
  const question = rest.indexOf('?');
  if (question !== -1) {
    query = rest.slice(question + 1);
    rest = rest.slice(0, question);
    if (!QUERY_OR_FRAGMENT.test(query)) return undefined;
  }
  let authority: Authority | undefined;
  let path = rest;
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const end = slash === -1 ? rest.length : slash;
    authority = parseAuthority(rest.slice(2, end));
    if (!authority) return undefined;
    path = rest.slice(end);
  }
  // path-abempty after an authority; path-absolute, path-rootless or path-empty without one (a
  // path starting with "//" was read as an authority above).
  if (!PATH.test(path)) return undefined;
  return {
    scheme,
    ...(authority && { authority }),
    path,
    ...(query !== undefined && { query }),
    ...(fragment !== undefined && { fragment }),
  };
}

export function isUri(text: string): boolean {
  return parseUri(text) !== undefined;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The instant (ms since the epoch) of an RFC 3339 `date-time`, or undefined when `text` is not
 * one or names no real time (February 30, hour 24, offset +24:00). Any offset is accepted, with or
 * without fractional seconds; `T` and `Z` may be lower case (RFC 3339 section 5.6). A leap second
 * (`23:59:60` UTC) reads as the next second. Fractions below the millisecond are truncated.
 */
export function parseDateTime(text: string): number | undefined {
  const match = DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  let offsetMinutes = 0;
  if (match[8] === undefined) {
    const offsetHours = Number(match[10]);
    const offsetMins = Number(match[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, Math.min(second, 59), 0);
  let ms = date.getTime() - offsetMinutes * 60_000;
  if (second === 60) {
    const utc = new Date(ms);
    if (utc.getUTCHours() !== 23 || utc.getUTCMinutes() !== 59) return undefined;
    ms += 1000;
  }
  const fraction = match[7];
  if (fraction !== undefined) ms += Number(fraction.slice(1, 4).padEnd(3, '0'));
  return ms;
}
