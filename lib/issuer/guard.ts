/**
 * What a request must be before any route of the issuer runs, whoever serves the routes:
 * - addressed (`Host`) to a name the issuer serves, so that a page whose own name was made to
 *   resolve to this machine (DNS rebinding) is not answered;
 * - when it changes state (any method but GET, HEAD, OPTIONS), from no origin or an allowed one:
 *   CORS only decides what a page may read, and a simple request runs without a preflight;
 * - with a body, a JSON one (`Content-Type: application/json`): the content types a page may send
 *   without a preflight (`text/plain`, forms) are not.
 */
import { OptionsError } from '../errors';
import { ApiError } from './errors';

/** The names served on any port whatever `hosts` adds: they cannot be made to point elsewhere. */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** A DNS name (letters, digits, hyphens, dots) or a bracketed IPv6 address. */
const NAME = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])$/i;
/** A Host header: a name and an optional port, ASCII only. */
const HOST_HEADER = /^([a-z0-9.-]+|\[[0-9a-f:.]+\])(?::([0-9]{0,5}))?$/i;

/** Methods that only read. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The name a `Host` header addresses, lower-cased (ASCII), without its port; undefined when it is no host. */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = HOST_HEADER.exec(header);
  return match ? match[1]!.toLowerCase() : undefined;
}

/** Which `Host` names the issuer answers. */
export class HostPolicy {
  private readonly names: ReadonlySet<string>;

  /**
   * `hosts`: names served besides the loopback ones (`'issuer.test'`, `'host.docker.internal'`),
   * without port. Throws an `OptionsError` naming `hosts` when the setting is not usable.
   */
  constructor(hosts: readonly string[] = []) {
    if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string' && NAME.test(h))) {
      throw new OptionsError('hosts', "must be a list of host names without port, such as ['issuer.test']");
    }
    const listed: readonly string[] = hosts;
    this.names = new Set([...LOOPBACK_NAMES, ...listed.map((h) => h.toLowerCase())]);
  }

  /** 400 `host_invalid` for a missing or malformed `Host`, 421 `host_not_allowed` for a name not served. */
  check(header: string | undefined): void {
    const name = hostName(header);
    if (name === undefined)
      throw new ApiError(400, 'host_invalid', 'The request needs one Host header naming the issuer');
    if (!this.names.has(name)) {
      throw new ApiError(421, 'host_not_allowed', 'This issuer does not serve that host name (see the hosts option)');
    }
  }
}

/** Whether `method` can change state, and so needs an allowed origin. */
export function changesState(method: string | undefined): boolean {
  return !SAFE_METHODS.has((method ?? '').toUpperCase());
}

/** 403 `origin_not_allowed` unless the request carries no `Origin` or an allowed one. */
export function checkOrigin(origin: string | undefined, allows: (origin: string) => boolean): void {
  if (origin !== undefined && !allows(origin)) {
    throw new ApiError(403, 'origin_not_allowed', 'This origin may not call the issuer (see the cors option)', {
      error: 'access_denied',
      headers: { Vary: 'Origin' },
    });
  }
}

/** Whether a `Content-Type` is JSON: `application/json`, any case, with no charset or UTF-8. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...parameters] = header.split(';');
  if (type!.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const [name, value = ''] = parameter.split('=');
    if (name!.trim().toLowerCase() !== 'charset') return true;
    return (
      value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase() === 'utf-8'
    );
  });
}

/** 415 `content_type_unsupported` unless the body is declared JSON. */
export function checkJsonBody(header: string | undefined): void {
  if (!isJsonContentType(header)) {
    throw new ApiError(415, 'content_type_unsupported', 'The body must be sent as Content-Type: application/json', {
      error: 'invalid_request',
    });
  }
}
