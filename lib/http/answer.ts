/**
 * The HTTP answer to a rejection, the same for every framework: the status, the RFC 6750 headers
 * and the JSON body `{ error, error_description, reason, requirements? }`.
 */
import { InsufficientScopeError, type TokenGateError } from '../errors';

/** What a framework's adapter sends for a `TokenGateError`. */
export interface RejectionAnswer {
  status: number;
  /** `WWW-Authenticate` (or `Retry-After`), `Content-Type` and `Cache-Control: no-store`. */
  headers: Record<string, string>;
  body: RejectionBody;
}

/** The JSON body of a rejection. */
export interface RejectionBody {
  error: string;
  error_description: string;
  reason: string;
  requirements?: unknown;
}

export function answerOf(err: TokenGateError): RejectionAnswer {
  const body: RejectionBody = { error: err.code, error_description: err.message, reason: err.reason };
  if (err instanceof InsufficientScopeError) body.requirements = err.requirements;
  return {
    status: err.status,
    headers: { ...err.headers, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body,
  };
}
