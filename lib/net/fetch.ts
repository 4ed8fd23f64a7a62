/**
 * The `fetch` option of key sets and resolvers: a WHATWG-fetch-compatible function the
 * application supplies (a proxy, mTLS, extra headers), called in place of the global `fetch`. The
 * caller's bounds do not depend on it: the deadline is raced against the whole exchange, so a
 * function that ignores `init.signal` still cannot hold a request past it; the body is read by
 * the caller through `readCapped`; a redirect it followed is seen on `Response.redirected`.
 */

/**
 * What a `fetch` option takes: `(url, init) => Promise<Response>`, the shape of the global
 * `fetch`, of jose's `customFetch` and of viem's `fetchFn`. `init.headers` is a plain object.
 *
 * @example
 * // Through an HTTP proxy, with undici's ProxyAgent as the dispatcher:
 * const dispatcher = new ProxyAgent(process.env.HTTPS_PROXY);
 * const viaProxy: FetchFunction = (url, init) => fetch(url, { ...init, dispatcher });
 */
export type FetchFunction = (url: string, init: RequestInit & { headers: Record<string, string> }) => Promise<Response>;

/** How an `OptionsError` describes a `fetch` option that is not a function. */
export const FETCH_OPTION_SHAPE =
  'must be a function (url, init) => Promise<Response>, like fetch; for a proxy: (url, init) => fetch(url, { ...init, dispatcher })';

/** True for a `fetch` option value: a function, or nothing (the global `fetch`). */
export function isFetchOption(value: unknown): value is FetchFunction | undefined {
  return value === undefined || typeof value === 'function';
}

/** Whether `value` can be read as a fetch `Response`: a status, headers with `get`, a body stream or none. */
export function isResponseLike(value: unknown): value is Response {
  if (typeof value !== 'object' || value === null) return false;
  const { status, headers, body } = value as Partial<Response>;
  return (
    typeof status === 'number' &&
    typeof headers?.get === 'function' &&
    (body === null || body === undefined || typeof body.getReader === 'function')
  );
}

/**
 * Settles as `work` does, or rejects with `signal.reason` as soon as `signal` aborts, whether or
 * not `work` listens to the signal.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
