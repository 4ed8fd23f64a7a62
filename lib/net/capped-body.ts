/**
 * Reading an answer from a service without trusting its size: a body larger than the cap is
 * refused from its `Content-Length` before a byte is read, and while streaming as soon as the cap
 * is passed (the connection is dropped, the rest never read). Key sets and ownership resolvers
 * both read this way; each turns `BodyTooLargeError` into its own failure.
 */

/** The answer is larger than the reader accepts. */
export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
  constructor(
    readonly maxBytes: number,
    /** The size the answer declared, when its `Content-Length` gave it away. */
    readonly declared?: number,
  ) {
    super(
      declared === undefined
        ? `body is larger than ${maxBytes} bytes`
        : `declared body of ${declared} bytes is larger than ${maxBytes}`,
    );
  }
}

/** Drops the rest of a body nobody will read. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

/**
 * The bytes of `response`'s body, at most `maxBytes` of them; throws `BodyTooLargeError` past that.
 * When `signal` aborts, the stream is cancelled (a body that never ends is let go) and the read
 * throws the signal's reason.
 */
export async function readCapped(response: Response, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const declared = response.headers.get('content-length')?.trim();
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    await discardBody(response);
    throw new BodyTooLargeError(maxBytes, Number(declared));
  }
  if (signal?.aborted) {
    await discardBody(response);
    throw signal.reason as Error;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    const reader = response.body.getReader();
    const cancel = () => void reader.cancel().catch(() => undefined);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (signal?.aborted) throw signal.reason as Error;
        if (done) break;
        // A stream from a custom fetch may yield anything: only bytes can be counted against the cap.
        if (!(value instanceof Uint8Array)) {
          await reader.cancel().catch(() => undefined);
          throw new TypeError('body stream yielded something other than bytes');
        }
        total += value.byteLength;
        if (total > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new BodyTooLargeError(maxBytes);
        }
        chunks.push(value);
      }
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }
  return Buffer.concat(chunks, total);
}
