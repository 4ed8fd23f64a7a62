/**
 * One bounded GET of a JWKS document. Every way the answer can be wrong (refused connection,
 * timeout, redirect, non-2xx, non-JSON type, oversized or invalid body) becomes a
 * `KeySetFetchError` with a short description; nothing here keeps state between calls.
 */
import { maxAgeFromHeaders } from './freshness';
import type { Schedule } from './schedule';

/** A fetch that produced no usable document. `message` is safe to log; it never holds the body. */
export class KeySetFetchError extends Error {
  override name = 'KeySetFetchError';
}

export interface FetchLimits {
  /** The whole exchange, body included, must finish within this. */
  timeoutMs: number;
  /** Larger bodies are refused, whether declared by Content-Length or discovered while reading. */
  maxBytes: number;
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

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/** Reads at most `maxBytes`; stops reading (and drops the connection) as soon as more arrive. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new KeySetFetchError(`body is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, total));
  } catch {
    throw new KeySetFetchError('body is not valid UTF-8');
  }
}

/**
 * GETs `uri` once. Redirects are refused rather than followed: the configured URI is the trust
 * anchor, and following a redirect would let whoever controls a redirect pick our keys. No
 * credentials or cookies are sent.
 */
export async function fetchJwks(uri: string, limits: FetchLimits, schedule: Schedule): Promise<FetchedDocument> {
  const controller = new AbortController();
  const cancelTimeout = schedule(
    () => controller.abort(new KeySetFetchError(`no complete answer within ${limits.timeoutMs} ms`)),
    limits.timeoutMs,
  );
  try {
    const response = await fetch(uri, {
      method: 'GET',
      redirect: 'manual',
      credentials: 'omit',
      headers: { accept: 'application/json, application/jwk-set+json' },
      signal: controller.signal,
    });
    const { status } = response;
    if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
      await discard(response);
      throw new KeySetFetchError(`redirect refused (HTTP ${status})`);
    }
    if (status < 200 || status > 299) {
      await discard(response);
      throw new KeySetFetchError(`HTTP ${status}`);
    }
    const contentType = response.headers.get('content-type');
    if (contentType !== null && !isJsonMediaType(contentType)) {
      await discard(response);
      throw new KeySetFetchError(`content type "${contentType.slice(0, 60)}" is not JSON`);
    }
    const declared = response.headers.get('content-length');
    if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limits.maxBytes) {
      await discard(response);
      throw new KeySetFetchError(`declared body of ${declared.trim()} bytes is larger than ${limits.maxBytes}`);
    }
    const text = await readCapped(response, limits.maxBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new KeySetFetchError('body is not valid JSON');
    }
    return { body, maxAgeMs: maxAgeFromHeaders(response.headers.get('cache-control'), response.headers.get('age')) };
  } catch (error) {
    if (error instanceof KeySetFetchError) throw error;
    if (controller.signal.aborted && controller.signal.reason instanceof KeySetFetchError)
      throw controller.signal.reason;
    throw new KeySetFetchError(describe(error));
  } finally {
    cancelTimeout();
  }
}
