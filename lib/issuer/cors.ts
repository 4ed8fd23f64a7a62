/**
 * CORS for browser apps: the emulator answers preflights and names the allowed origin on every
 * answer. By default any origin on a loopback host is allowed (`http://localhost:5173`,
 * `http://127.0.0.1:3000`, …), since that is where a frontend under development runs.
 */
import { OptionsError, rejectUnknownKeys } from '../errors';
import { checkOrigin } from './guard';

export interface CorsOptions {
  /** `'loopback'` (default): origins on localhost, 127.0.0.1, [::1] or *.localhost; `'*'`: any; or a list of exact origins. */
  origins?: 'loopback' | '*' | string[];
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** What picket-js and picket-node send besides the simple headers. */
const ALLOWED_HEADERS = 'Authorization, Content-Type';
const PREFLIGHT_MAX_AGE = '600';

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || hostname.endsWith('.localhost');
}

function parseOrigin(origin: string): URL | undefined {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === origin ? url : undefined;
  } catch {
    return undefined;
  }
}

export class CorsPolicy {
  private readonly allow: (origin: string) => boolean;

  /** Throws an `OptionsError` naming `cors.origins` when the setting is not usable. */
  constructor(options: CorsOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new OptionsError('cors', 'must be an object');
    rejectUnknownKeys(options, ['origins'], 'cors');
    const origins = options.origins ?? 'loopback';
    if (origins === '*') {
      this.allow = () => true;
    } else if (origins === 'loopback') {
      this.allow = (origin) => {
        const url = parseOrigin(origin);
        return url !== undefined && isLoopbackHost(url.hostname);
      };
    } else if (Array.isArray(origins) && origins.every((o) => typeof o === 'string' && parseOrigin(o) !== undefined)) {
      const list = new Set(origins);
      this.allow = (origin) => list.has(origin);
    } else {
      throw new OptionsError(
        'cors.origins',
        "must be 'loopback', '*' or a list of origins such as 'https://app.example'",
      );
    }
  }

  /** Whether a page on `origin` may call the issuer. */
  allows(origin: string): boolean {
    return this.allow(origin);
  }

  /** Headers for an answer to a request from `origin` (none when it is not allowed or absent). */
  headersFor(origin: string | undefined): Record<string, string> {
    if (origin === undefined || !this.allow(origin)) return { Vary: 'Origin' };
    return { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
  }

  /** The answer to `OPTIONS`: 204 with the CORS grant, or 403 for an origin that is not allowed. */
  preflight(origin: string | undefined): { status: number; headers: Record<string, string> } {
    checkOrigin(origin, this.allow);
    return {
      status: 204,
      headers: {
        ...this.headersFor(origin),
        Allow: ALLOWED_METHODS,
        'Access-Control-Allow-Methods': ALLOWED_METHODS,
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': PREFLIGHT_MAX_AGE,
      },
    };
  }
}
