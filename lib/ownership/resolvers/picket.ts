/**
 * `picketOwnershipResolver`: asks the issuer's server API for a wallet's current holdings, the way
 * its Node SDK (`@picketapi/picket-node`, `picket.tokenOwnership`) does:
 * `POST {baseUrl}/chains/{chain}/wallets/{walletAddress}/tokenOwnership` with
 * `Authorization: Basic base64(secretKey)` and `{ contractAddress, minTokenBalance, tokenIds }`,
 * answered by `{ allowed, walletAddress, tokenBalance }`. The API takes a chain and no network: it
 * is asked about mainnet requirements only.
 */
import { OptionsError, rejectUnknownKeys } from '../../errors';
import { addressKey, DEFAULT_NETWORK } from '../../chain/address';
import { isDecimalString } from '../../chain/decimal';
import { FETCH_OPTION_SHAPE, isFetchOption, type FetchFunction } from '../../net/fetch';
import { isLoopbackHost } from '../../net/loopback';
import { requestJson } from './http';
import { ResolverError, UnsupportedRequirementError, type OwnershipResolver } from './types';

export interface PicketOwnershipResolverOptions {
  /** Your project's secret key (server side only; never the publishable key). */
  apiKey: string;
  /** The issuer's API. Default `https://picketapi.com/api/v1`; plain http only on loopback. */
  baseUrl?: string;
  /** Give up on one call (body included) after this long. Default 5000. */
  timeoutMs?: number;
  /**
   * Called instead of the global `fetch`: `(url, init) => Promise<Response>` (a proxy, mTLS,
   * extra headers). The timeout, the answer's size cap and the redirect refusal still apply.
   */
  fetch?: FetchFunction;
}

const DEFAULT_BASE_URL = 'https://picketapi.com/api/v1';
/** An answer is three short fields; anything this large is not one. */
const MAX_ANSWER_BYTES = 65_536;

function parseBaseUrl(value: unknown): string {
  if (typeof value !== 'string') throw new OptionsError('baseUrl', 'must be a URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionsError('baseUrl', 'is not a valid URL');
  }
  if (url.username || url.password || url.search || url.hash)
    throw new OptionsError('baseUrl', 'must not carry credentials, a query or a fragment');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new OptionsError(
      'baseUrl',
      'must use https (plain http is allowed only on loopback): the secret key travels with every call',
    );
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * An `OwnershipResolver` backed by the issuer's `tokenOwnership` API. It answers mainnet requirements
 * on a `contractAddress` (with or without `tokenIds`); another network, `collection` and
 * `creatorAddress` are not part of that API and count as a resolver failure.
 *
 * @example
 * createTokenGate({ audience, revalidate: { resolver: picketOwnershipResolver({ apiKey: process.env.PICKET_SECRET_KEY }) } });
 */
export function picketOwnershipResolver(options: PicketOwnershipResolverOptions): OwnershipResolver {
  if (typeof options !== 'object' || options === null)
    throw new OptionsError('options', 'must be { apiKey, baseUrl?, timeoutMs?, fetch? }');
  rejectUnknownKeys(
    options,
    ['apiKey', 'baseUrl', 'timeoutMs', 'fetch'],
    undefined,
    'is not a known picketOwnershipResolver option',
  );
  const { apiKey, timeoutMs = 5000 } = options;
  if (typeof apiKey !== 'string' || apiKey === '')
    throw new OptionsError('apiKey', "is required: your project's secret key");
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000) {
    throw new OptionsError('timeoutMs', 'must be a number of milliseconds from 1 to 120000');
  }
  const baseUrl = parseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const customFetch: unknown = options.fetch;
  if (!isFetchOption(customFetch)) throw new OptionsError('fetch', FETCH_OPTION_SHAPE);
  const headers = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    Authorization: `Basic ${Buffer.from(apiKey).toString('base64')}`,
  };

  return {
    name: 'picket',
    async resolve({ chain, walletAddress, requirements, signal }) {
      const { contractAddress, tokenIds, minTokenBalance } = requirements;
      const network = requirements.network ?? DEFAULT_NETWORK;
      if (network !== DEFAULT_NETWORK) {
        // Asked anyway, the API would answer the chain's mainnet holdings for a testnet route.
        throw new UnsupportedRequirementError(
          `picketOwnershipResolver answers mainnet requirements only: the issuer's tokenOwnership API takes no network (this one is on ${chain}/${network})`,
        );
      }
      if (
        contractAddress === undefined ||
        requirements.collection !== undefined ||
        requirements.creatorAddress !== undefined
      ) {
        throw new UnsupportedRequirementError('picketOwnershipResolver answers contractAddress requirements only');
      }
      const url = `${baseUrl}/chains/${encodeURIComponent(chain)}/wallets/${encodeURIComponent(walletAddress)}/tokenOwnership`;
      const { status, body } = await requestJson({
        url,
        method: 'POST',
        headers,
        body: { contractAddress, minTokenBalance, tokenIds },
        timeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
        signal,
        fetch: customFetch,
      });
      if (status < 200 || status > 299) throw new ResolverError(`The issuer's tokenOwnership API answered ${status}`);
      const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      if (typeof answer.allowed !== 'boolean' || !isDecimalString(answer.tokenBalance)) {
        throw new ResolverError("The issuer's tokenOwnership answer is not { allowed, walletAddress, tokenBalance }");
      }
      if (
        typeof answer.walletAddress !== 'string' ||
        addressKey(chain, answer.walletAddress) !== addressKey(chain, walletAddress)
      ) {
        throw new ResolverError("The issuer's tokenOwnership answer is about another wallet");
      }
      return { balance: answer.tokenBalance, allowed: answer.allowed };
    },
  };
}
