/**
 * A bounded JSON request for resolvers: a deadline on the whole exchange (body included), a cap on
 * the answer's size (from `Content-Length` and while streaming), no redirects, and every failure a
 * `ResolverError` whose message names what went wrong. A resolver's `fetch` option replaces only
 * the transport: the deadline is raced against it, the body is read here under the cap, and a
 * redirect it followed is refused.
 */
import { BodyTooLargeError, discardBody, readCapped } from '../../net/capped-body';
import { isResponseLike, untilAborted, type FetchFunction } from '../../net/fetch';
import { ResolverError } from './types';

export interface JsonRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
  maxBytes: number;
  /** The caller's signal (the gate's deadline); aborts the request too. */
  signal?: AbortSignal;
  /** Called instead of the global `fetch`. */
  fetch?: FetchFunction;
}

/** Sends `request` and resolves to the status and the parsed JSON body (`undefined` for an empty one). */
export async function requestJson(request: JsonRequest): Promise<{ status: number; body: unknown }> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const where = new URL(request.url).host;
  const exchange = async (): Promise<{ status: number; body: unknown }> => {
    const res: unknown = await (request.fetch ?? fetch)(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      redirect: 'manual',
      signal,
    });
    if (!isResponseLike(res)) throw new ResolverError(`The fetch option did not return a Response for ${where}`);
    if (res.redirected === true) {
      await discardBody(res);
      throw new ResolverError(`${where} redirected, and the fetch option followed: redirects are refused`);
    }
    const text = await readBounded(res, request.maxBytes, where, signal);
    if (text === '') return { status: res.status, body: undefined };
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      throw new ResolverError(`${where} answered ${res.status} with a body that is not JSON`);
    }
  };
  try {
    return await untilAborted(exchange(), signal);
  } catch (error) {
    if (error instanceof ResolverError) throw error;
    if (timeout.aborted)
      throw new ResolverError(`${where} did not answer within ${request.timeoutMs} ms`, { cause: error });
    if (signal.aborted) throw new ResolverError(`The request to ${where} was abandoned`, { cause: error });
    throw new ResolverError(`${where} could not be reached`, { cause: error });
  }
}

async function readBounded(res: Response, maxBytes: number, where: string, signal: AbortSignal): Promise<string> {
  try {
    return (await readCapped(res, maxBytes, signal)).toString('utf8');
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw new ResolverError(`${where} answered more than ${maxBytes} bytes`);
  }
}
