import { bearerChallenge, DEFAULT_REALM } from './challenge';
import type { ErrorCode, Reason } from './reasons';
import { restoreStackTraceLimit, stackless } from './stackless';

/**
 * Base class of every rejection: an HTTP-shaped error (RFC 6750 §3) that Express's and Connect's
 * default handlers already render correctly through `status` and `headers`. `expose` lets them
 * show `message` to the client.
 */
export class TokenGateError extends Error {
  override name = 'TokenGateError';
  readonly status: number;
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly reason: Reason;
  readonly expose = true;
  /** The protection space named in `WWW-Authenticate`; the HTTP layer sets it from its options. */
  realm = DEFAULT_REALM;

  constructor(status: number, code: ErrorCode, reason: Reason, description: string) {
    super(stackless(description));
    restoreStackTraceLimit();
    this.status = status;
    this.statusCode = status;
    this.code = code;
    this.reason = reason;
  }

  /** Response headers: Express's and Connect's default handlers copy `err.headers` onto the answer. */
  get headers(): Record<string, string> {
    if (this.code === 'temporarily_unavailable') return {};
    return { 'WWW-Authenticate': bearerChallenge(this.realm, this.code, this.message) };
  }
}
