/**
 * A bounded JSON request for resolvers: a deadline on the whole exchange (body included), a cap on
 * the answer's size (from `Content-Length` and while streaming), no redirects, and every failure a
 * `ResolverError` whose message names what went wrong.
 */
import { BodyTooLargeError, readCapped } from '../../net/capped-body';
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
}

/** Sends `request` and resolves to the status and the parsed JSON body (`undefined` for an empty one). */
export async function requestJson(request: JsonRequest): Promise<{ status: number; body: unknown }> {
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const where = new URL(request.url).host;
  try {
    const res = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      redirect: 'manual',
      signal,
    });
    const text = await readBounded(res, request.maxBytes);
    if (text === '') return { status: res.status, body: undefined };
    try {
      return { status: res.status, body: JSON.parse(text) };
    } catch {
      throw new ResolverError(`${where} answered ${res.status} with a body that is not JSON`);
    }
  } catch (error) {
    if (error instanceof ResolverError) throw error;
    if (timeout.aborted)
      throw new ResolverError(`${where} did not answer within ${request.timeoutMs} ms`, { cause: error });
    if (signal.aborted) throw new ResolverError(`The request to ${where} was abandoned`, { cause: error });
    throw new ResolverError(`${where} could not be reached`, { cause: error });
  }
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  try {
    return (await readCapped(res, maxBytes)).toString('utf8');
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw new ResolverError(`${new URL(res.url || 'http://unknown').host} answered more than ${maxBytes} bytes`);
  }
}
