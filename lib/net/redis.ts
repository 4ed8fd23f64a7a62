/**
 * What both Redis stores (revocation, issuer) need to reach Redis: node-redis, loaded only when a
 * store is created from a URL (an optional peer dependency), and the rules of the connection options
 * they share (`url` or `client`, `keyPrefix`).
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

/** Throws an `OptionsError` unless a Redis store's `options` is a plain options object. */
export function checkRedisOptionsObject(options: unknown): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new OptionsError('options', 'must be an object with url or client');
  }
}

/**
 * The connection options every Redis store takes, checked at startup: exactly one of `url` and
 * `client`, a client being an object with the node-redis `methods` the store calls, and a
 * `keyPrefix` of at most 100 characters (`defaultPrefix` when absent), which it answers.
 */
export function checkRedisConnection(
  options: { url?: unknown; client?: unknown; keyPrefix?: unknown },
  methods: readonly string[],
  defaultPrefix: string,
): string {
  if ((options.url === undefined) === (options.client === undefined)) {
    throw new OptionsError('url', 'or client is required (one of them, not both)');
  }
  const { client } = options;
  if (
    client !== undefined &&
    (typeof client !== 'object' ||
      client === null ||
      methods.some((method) => typeof (client as Record<string, unknown>)[method] !== 'function'))
  ) {
    throw new OptionsError('client', 'must be a node-redis client (createClient from the redis package)');
  }
  const keyPrefix = options.keyPrefix ?? defaultPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix.length > 100) {
    throw new OptionsError('keyPrefix', 'must be a string of at most 100 characters');
  }
  return keyPrefix;
}
