/**
 * One bounded GET of a JWKS document. Every way the answer can be wrong (refused connection,
 * timeout, redirect, non-2xx, non-JSON type, oversized or invalid body) becomes a
 * `KeySetFetchError` with a short description; nothing here keeps state between calls.
 */
import { maxAgeFromHeaders } from './freshness';
import type { Schedule } from './schedule';
import { BodyTooLargeError, discardBody, readCapped } from '../net/capped-body';
import { isResponseLike, untilAborted, type FetchFunction } from '../net/fetch';

/** A fetch that produced no usable document. `message` is safe to log; it never holds the body. */
export class KeySetFetchError extends Error {
  override name = 'KeySetFetchError';
}

export interface FetchLimits {
  /** The whole exchange, body included, must finish within this. */
  timeoutMs: number;
  /** Larger bodies are refused, whether declared by Content-Length or discovered while reading. */
  maxBytes: number;
  /** Called instead of the global `fetch`; the limits above still hold for what it answers. */
  fetch?: FetchFunction;
}

export interface FetchedDocument {
  body: unknown;
  /** What `Cache-Control`/`Age` ask for, in ms; `undefined` when they say nothing. */
  maxAgeMs: number | undefined;
}

function isJsonMediaType(contentType: string): boolean {
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(media);
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${error instanceof Error ? error.message : 'fetch failed'}${code}`.slice(0, 200);
}

/** The body as UTF-8 text, at most `maxBytes` of it. */
async function readText(response: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readCapped(response, maxBytes, signal);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw new KeySetFetchError(error.message);
    throw error;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new KeySetFetchError('body is not valid UTF-8');
  }
}

/**
 * GETs `uri` once. Redirects are refused rather than followed: the configured URI is the trust
 * anchor, and following a redirect would let whoever controls a redirect pick our keys. No
 * credentials or cookies are sent. With `limits.fetch`, the deadline covers the whole exchange
 * whether or not the function honours the signal, and a redirect it followed is refused too.
 */
export async function fetchJwks(uri: string, limits: FetchLimits, schedule: Schedule): Promise<FetchedDocument> {
  const controller = new AbortController();
  const cancelTimeout = schedule(
    () => controller.abort(new KeySetFetchError(`no complete answer within ${limits.timeoutMs} ms`)),
    limits.timeoutMs,
  );
  const exchange = async (): Promise<FetchedDocument> => {
    const response: unknown = await (limits.fetch ?? fetch)(uri, {
      method: 'GET',
      redirect: 'manual',
      credentials: 'omit',
      headers: { accept: 'application/json, application/jwk-set+json' },
      signal: controller.signal,
    });
    if (!isResponseLike(response)) throw new KeySetFetchError('the fetch option did not return a Response');
    const { status } = response;
    if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
      await discardBody(response);
      throw new KeySetFetchError(`redirect refused (HTTP ${status})`);
    }
    if (response.redirected === true) {
      await discardBody(response);
      throw new KeySetFetchError('redirect refused (followed by the fetch option)');
    }
    if (status < 200 || status > 299) {
      await discardBody(response);
      throw new KeySetFetchError(`HTTP ${status}`);
    }
    const contentType = response.headers.get('content-type');
    if (contentType !== null && !isJsonMediaType(contentType)) {
      await discardBody(response);
      throw new KeySetFetchError(`content type "${contentType.slice(0, 60)}" is not JSON`);
    }
    const text = await readText(response, limits.maxBytes, controller.signal);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new KeySetFetchError('body is not valid JSON');
    }
    return { body, maxAgeMs: maxAgeFromHeaders(response.headers.get('cache-control'), response.headers.get('age')) };
  };
  try {
    return await untilAborted(exchange(), controller.signal);
  } catch (error) {
    if (error instanceof KeySetFetchError) throw error;
    if (controller.signal.aborted && controller.signal.reason instanceof KeySetFetchError)
      throw controller.signal.reason;
    throw new KeySetFetchError(describe(error));
  } finally {
    cancelTimeout();
  }
}
