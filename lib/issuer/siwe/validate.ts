/**
 * What an issuer checks in a well-formed message before it looks at the signature: the domain it
 * serves, the scheme, the wallet, the chain, its own nonce and statement, the request id, and the
 * times. Each disagreement is a `SiweError` of kind `refused` with its own reason.
 */
import { timingSafeEqual } from 'node:crypto';
import { OptionsError } from '../../errors';
import { refused, SiweError, type SiweField } from './errors';
import { asciiLowerCase, ipv6Groups, isIPv4, parseAuthority, parseDateTime, type Authority } from './grammar';
import { parseDomain, type AccountKind, type SiweMessage } from './message';

/** Whether a message's `domain` may log in. */
export type DomainPolicy = (domain: string) => boolean;

/**
 * How a host compares: reg-names in ASCII lower case (never `toLowerCase`, which folds U+212A
 * KELVIN SIGN to `k`), IPv6 literals by value (`[::1]` = `[0:0:0:0:0:0:0:1]`).
 */
function hostKey(authority: Authority): string {
  const { kind, text } = authority.host;
  if (kind === 'ipv6')
    return `[${ipv6Groups(text)!
      .map((g) => g.toString(16))
      .join(':')}]`;
  return asciiLowerCase(text);
}

function isLoopback(authority: Authority): boolean {
  const { kind, text } = authority.host;
  if (kind === 'ipv6') return ipv6Groups(text)!.every((g, i) => g === (i === 7 ? 1 : 0));
  if (kind === 'ipv4') return isIPv4(text) && text.split('.')[0] === '127';
  return asciiLowerCase(text) === 'localhost';
}

/**
 * The domains an issuer serves, as `host[:port]` (`app.example`, `localhost:5173`, `[::1]:5173`).
 * A message's domain matches an entry when its host is the same (ASCII case-insensitive; IPv6 by
 * value) and its port is the same (an entry without a port matches only a domain without one). A
 * domain with userinfo (`user@host`) matches no entry. Without a list: any loopback host
 * (`localhost`, `127.x.x.x`, `[::1]`) on any port.
 */
export function domainPolicy(domains?: readonly string[], option = 'domains'): DomainPolicy {
  if (domains === undefined) {
    return (domain) => {
      const authority = parseDomain(domain);
      return authority !== undefined && authority.userinfo === undefined && isLoopback(authority);
    };
  }
  if (!Array.isArray(domains)) throw new OptionsError(option, "must be a list of hosts such as 'app.example'");
  const allowed = new Set<string>();
  for (const entry of domains) {
    const authority = typeof entry === 'string' ? parseDomain(entry) : undefined;
    if (!authority || authority.userinfo !== undefined || authority.port === '')
      throw new OptionsError(option, `holds ${JSON.stringify(entry)}, which is not host[:port]`);
    allowed.add(`${hostKey(authority)}:${authority.port ?? ''}`);
  }
  return (domain) => {
    const authority = parseDomain(domain);
    if (!authority || authority.userinfo !== undefined) return false;
    return allowed.has(`${hostKey(authority)}:${authority.port ?? ''}`);
  };
}

export interface SiweExpectations {
  /** The domains this issuer serves (see `domainPolicy`). */
  domains: DomainPolicy;
  /** The nonce this issuer handed out for this login. */
  nonce: string;
  /** The instant to judge the times at, in ms since the epoch (a clock, never read here). */
  now: number;
  /** The wallet the request names; compared case-insensitively on Ethereum, exactly on Solana. */
  address?: string;
  /** The chain id the request's chain has. */
  chainId?: number;
  /** The statement this issuer asked for; the message must hold exactly it. */
  statement?: string;
  /** The scheme of the page that asked (e.g. from its Origin); a message's `scheme`, when present, must be it. */
  scheme?: string;
  /**
   * The browser `Origin` the login came with: the message's domain must be its host and port, and
   * its scheme (absent: `https`, or `http` on a loopback host) its scheme; else `origin_mismatch`
   * of kind `forbidden`.
   */
  origin?: string;
  /** The request id the issuer handed out, if it does. */
  requestId?: string;
  /** How old `issuedAt` may be. Default: no limit (the nonce's lifetime bounds a login). */
  maxAgeMs?: number;
  /** Clock difference tolerated for `issuedAt` and `notBefore` in the future. Default 60000. */
  clockSkewMs?: number;
  /** The account kind of the message (default `ethereum`). */
  account?: AccountKind;
}

export const DEFAULT_CLOCK_SKEW_MS = 60_000;

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function mismatch(field: SiweField, reason: string, message: string) {
  return refused(reason, message, field);
}

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/** Loopback names a browser page may be served on over http: localhost, *.localhost, 127.x, [::1]. */
function isLoopbackPage(authority: Authority): boolean {
  return (
    isLoopback(authority) ||
    (authority.host.kind === 'reg-name' && asciiLowerCase(authority.host.text).endsWith('.localhost'))
  );
}

const quoted = (text: string) => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);

/**
 * EIP-4361: the wallet must check that the message's domain and scheme are the page's. The
 * issuer holds the browser's word for the page (`Origin`) and checks the same: the host (as
 * domains compare), the port (defaults filled in from the scheme) and the scheme, where a message
 * without one means `https`, and the loopback pages of development (`http://localhost:5173`) may
 * sign without one too.
 */
function checkOrigin(message: SiweMessage, origin: string): void {
  const forbid = (field: SiweField, what: string) =>
    new SiweError(
      'origin_mismatch',
      `The message's ${what} is not the page's: the message names ${quoted(`${message.scheme ? `${message.scheme}://` : ''}${message.domain}`)}, the request comes from Origin ${quoted(origin)}`,
      field,
      'forbidden',
    );
  let page: URL;
  try {
    page = new URL(origin);
  } catch {
    throw forbid('domain', 'domain');
  }
  const pageScheme = page.protocol.slice(0, -1);
  const pageAuthority = parseAuthority(page.host);
  if (page.origin !== origin || pageAuthority === undefined || DEFAULT_PORTS[pageScheme] === undefined)
    throw forbid('domain', 'domain');
  const scheme =
    message.scheme !== undefined
      ? asciiLowerCase(message.scheme)
      : pageScheme === 'http' && isLoopbackPage(pageAuthority)
        ? 'http'
        : 'https';
  if (scheme !== pageScheme) throw forbid('scheme', 'scheme');
  const authority = parseDomain(message.domain);
  if (!authority || authority.userinfo !== undefined || hostKey(authority) !== hostKey(pageAuthority))
    throw forbid('domain', 'domain');
  const port = authority.port || DEFAULT_PORTS[scheme];
  const pagePort = pageAuthority.port || DEFAULT_PORTS[pageScheme];
  if (port !== pagePort) throw forbid('domain', 'domain');
}

/** The instant of a date-time `checkSiweFields` accepted (Date.parse would read more than RFC 3339). */
function instant(value: string): number {
  return parseDateTime(value)!;
}

/**
 * Checks a message (from `parseSiweMessage` or `checkSiweFields`) against what this issuer
 * expects; throws the first disagreement as a `SiweError` of kind `refused`.
 */
export function validateSiweMessage(message: SiweMessage, expect: SiweExpectations): void {
  if (!expect.domains(message.domain))
    throw mismatch('domain', 'domain_not_allowed', 'The message was signed for a domain this issuer does not serve');
  if (
    message.scheme !== undefined &&
    expect.scheme !== undefined &&
    asciiLowerCase(message.scheme) !== asciiLowerCase(expect.scheme)
  )
    throw mismatch('scheme', 'scheme_mismatch', `The message's scheme is not the scheme of the page that asked`);
  if (expect.origin !== undefined) checkOrigin(message, expect.origin);
  if (expect.address !== undefined) {
    const same =
      (expect.account ?? 'ethereum') === 'ethereum'
        ? asciiLowerCase(message.address) === asciiLowerCase(expect.address)
        : message.address === expect.address;
    if (!same) throw mismatch('address', 'address_mismatch', 'The message names another wallet than the request');
  }
  if (expect.chainId !== undefined && message.chainId !== expect.chainId)
    throw mismatch('chainId', 'chain_id_mismatch', `The message's chain id is not ${expect.chainId}`);
  if (!sameSecret(message.nonce, expect.nonce))
    throw mismatch('nonce', 'nonce_mismatch', 'The message holds another nonce than the one issued for this login');
  if (expect.statement !== undefined && message.statement !== expect.statement)
    throw mismatch('statement', 'statement_mismatch', 'The message holds another statement than the one asked for');
  if (expect.requestId !== undefined && message.requestId !== expect.requestId)
    throw mismatch('requestId', 'request_id_mismatch', 'The message holds another request id than the one issued');

  const skew = expect.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const issuedAt = instant(message.issuedAt);
  if (issuedAt > expect.now + skew)
    throw mismatch('issuedAt', 'issued_at_in_future', 'The message was issued in the future: check the clock');
  if (expect.maxAgeMs !== undefined && expect.now - issuedAt > expect.maxAgeMs + skew)
    throw mismatch('issuedAt', 'issued_at_too_old', 'The message was issued too long ago: sign in again');
  if (message.expirationTime !== undefined && expect.now >= instant(message.expirationTime))
    throw mismatch('expirationTime', 'expired', 'The message has expired (Expiration Time): sign in again');
  if (message.notBefore !== undefined && expect.now + skew < instant(message.notBefore))
    throw mismatch('notBefore', 'not_yet_valid', 'The message is not valid yet (Not Before)');
}
