/**
 * What both Redis stores (revocation, issuer) need to reach Redis: node-redis, loaded only when a
 * store is created from a URL (an optional peer dependency), and the URL rule.
 */
import { OptionsError } from '../errors';

/** node-redis, or an error saying what to install. */
export function loadRedis<Client>(): { createClient(options: Record<string, unknown>): Client } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('redis') as { createClient(options: Record<string, unknown>): Client };
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') {
      throw new Error(
        'express-token-gate/redis needs the `redis` package (node-redis), an optional peer dependency: npm install redis',
      );
    }
    throw error;
  }
}

/** A `redis://` or `rediss://` URL; throws an `OptionsError` naming `url` otherwise. */
export function parseRedisUrl(value: unknown): string {
  if (typeof value !== 'string') throw new OptionsError('url', 'must be a redis:// or rediss:// URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError('url', 'is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new OptionsError('url', 'must use redis:// or rediss://');
  }
  return value;
}
