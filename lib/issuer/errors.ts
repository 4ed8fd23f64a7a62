/**
 * Error answers in the issuer's shape, `{ code, msg }` (what picket-js and picket-node read), with
 * the RFC 6750-style fields this library's own errors carry: `error`, `error_description`,
 * `reason` and, for 403, `requirements`.
 */
import { InsufficientScopeError, TokenGateError, type RequirementsDescription } from '../errors';

/** The `error` field for each status. */
const ERROR_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'insufficient_scope',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'invalid_request',
  413: 'invalid_request',
  415: 'invalid_request',
  421: 'invalid_request',
  500: 'server_error',
  501: 'not_implemented',
  503: 'temporarily_unavailable',
};

/** A refusal of the emulated API: `status`, a stable `code` and a short `msg`. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly requirements: RequirementsDescription | undefined;
  readonly headers: Record<string, string>;
  private readonly error: string;

  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
    extra: { requirements?: RequirementsDescription; error?: string; headers?: Record<string, string> } = {},
  ) {
    super(msg);
    this.requirements = extra.requirements;
    this.headers = extra.headers ?? {};
    this.error = extra.error ?? ERROR_BY_STATUS[status] ?? 'server_error';
  }

  get body(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      code: this.code,
      msg: this.message,
      error: this.error,
      error_description: this.message,
      reason: this.code,
    };
    if (this.requirements) body.requirements = this.requirements;
    return body;
  }
}

/** 400 for a request body or field the route cannot use. */
export function badRequest(code: string, msg: string): ApiError {
  return new ApiError(400, code, msg);
}

/** 401 for a login the issuer refuses (signature, nonce, domain, expiry). */
export function loginRefused(code: string, msg: string): ApiError {
  return new ApiError(401, code, msg, { error: 'access_denied' });
}

/** The same refusal a gate would send (401 invalid token, 403 with the requirements), as an ApiError. */
export function fromGateError(error: unknown): ApiError {
  if (error instanceof InsufficientScopeError)
    return new ApiError(403, error.reason, error.message, { requirements: error.requirements });
  if (error instanceof TokenGateError && error.status === 503)
    return new ApiError(503, error.reason, error.message, { headers: error.headers, error: 'temporarily_unavailable' });
  if (error instanceof TokenGateError)
    return new ApiError(error.status === 403 ? 403 : 401, error.reason, error.message);
  throw error;
}
