/**
 * A bounded JSON request for resolvers: a deadline on the whole exchange (body included), a cap on
 * the answer's size (from `Content-Length` and while streaming), no redirects, and every failure a
 * `ResolverError` whose message names what went wrong.
 */
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
  const declared = Number(res.headers.get('content-length'));
  const tooLarge = () =>
    new ResolverError(`${new URL(res.url || 'http://unknown').host} answered more than ${maxBytes} bytes`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** https anywhere, plain http only on loopback: for URLs that carry secrets. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
