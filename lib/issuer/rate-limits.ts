/**
 * Rate limits on the routes a stranger can call without a token: `/auth/nonce`, `/auth` and
 * `/chains/{chain}/wallets/{wallet}/tokenOwnership` (each of its calls asks the chain). Each
 * is counted per client address and per wallet, in fixed windows kept in the issuer's store, so
 * every instance sharing the store shares the counts. Past a limit: 429 `rate_limited` with
 * `Retry-After` (the seconds left in the window).
 */
import type { IncomingMessage } from 'node:http';
import { addressKey } from '../chain/address';
import { OptionsError, rejectUnknownKeys } from '../errors';
import { ApiError } from './errors';
import type { IssuerStore } from './store/store';

export interface RateLimitOptions {
  /** Length of a counting window. Default 60. */
  windowSeconds?: number;
  /** Requests one client address may make to one route per window. Default 60. */
  perClient?: number;
  /** Requests naming one wallet one route may take per window. Default 20. */
  perWallet?: number;
}

/** The routes a stranger reaches without a token: `/auth/nonce`, `/auth`, and `tokenOwnership` (which asks the chain). */
export type LimitedRoute = 'nonce' | 'login' | 'ownership';

export interface RateLimits {
  /** Counts one request to `route`; throws the 429 when a limit is passed. */
  check(route: LimitedRoute, req: IncomingMessage, body: unknown): Promise<void>;
}

function count(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new OptionsError(name, `must be a whole number from 1 to ${max}`);
  }
  return value;
}

/** Validates `rateLimits` (`false` turns them off); throws an `OptionsError` naming the field. */
export function rateLimits(
  store: IssuerStore,
  options: RateLimitOptions | false | undefined,
  clientAddress: (req: IncomingMessage) => string | undefined,
): RateLimits {
  if (options === false) return { check: () => Promise.resolve() };
  if (typeof options !== 'object' && options !== undefined) {
    throw new OptionsError('rateLimits', 'must be false or { windowSeconds?, perClient?, perWallet? }');
  }
  const settings = options ?? {};
  rejectUnknownKeys(settings, ['windowSeconds', 'perClient', 'perWallet'], 'rateLimits');
  const windowMs = count('rateLimits.windowSeconds', settings.windowSeconds, 60, 86_400) * 1000;
  const perClient = count('rateLimits.perClient', settings.perClient, 60, 1_000_000);
  const perWallet = count('rateLimits.perWallet', settings.perWallet, 20, 1_000_000);

  const hit = async (key: string, limit: number, what: string) => {
    const { count: seen, resetAt } = await store.hit(key.slice(0, 256), windowMs);
    if (seen > limit) {
      const seconds = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      throw new ApiError(429, 'rate_limited', `Too many requests for this ${what}: try again in ${seconds} s`, {
        error: 'rate_limited',
        headers: { 'Retry-After': String(seconds) },
      });
    }
  };

  return {
    async check(route, req, body) {
      const client = clientAddress(req);
      if (client !== undefined) await hit(`rate:${route}:client:${client}`, perClient, 'client');
      const { chain = 'ethereum', walletAddress } = namedWallet(body);
      if (typeof walletAddress === 'string' && typeof chain === 'string' && walletAddress.length <= 128) {
        await hit(
          `rate:${route}:wallet:${chain.slice(0, 32)}:${addressKey(chain, walletAddress)}`,
          perWallet,
          'wallet',
        );
      }
    },
  };
}

/** The second line of an EIP-4361 message: its address, read without parsing the rest. */
const MESSAGE_ADDRESS = /^[^\n]{1,16384}\n(0x[0-9a-fA-F]{40})\n/;

/**
 * The wallet a request names: `walletAddress` (and `chain`) of picket's bodies, or the Address of
 * a whole SIWE `message` (counted under `ethereum`: EVM addresses are one key on every chain).
 */
function namedWallet(body: unknown): { chain?: unknown; walletAddress?: unknown } {
  if (typeof body !== 'object' || body === null) return {};
  const { chain, walletAddress, message } = body as Record<string, unknown>;
  if (walletAddress === undefined && typeof message === 'string') {
    const address = MESSAGE_ADDRESS.exec(message.slice(0, 20_000))?.[1];
    return address === undefined ? {} : { walletAddress: address };
  }
  return { chain, walletAddress };
}

/** The client's address as the socket sees it (behind a proxy, pass `clientAddress` to read your proxy's header). */
export function socketAddress(req: IncomingMessage): string | undefined {
  return req.socket.remoteAddress;
}
