/** Optional JSON rendering of `TokenGateError`s; every other error goes on to the next handler. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InsufficientScopeError, TokenGateError } from '../errors';

type Next = (err?: unknown) => void;

/**
 * Error-handling middleware answering rejections with `{ error, error_description, reason,
 * requirements? }` and the RFC 6750 headers.
 *
 * @example app.use(authErrorHandler());
 */
export function authErrorHandler() {
  return function tokenGateErrorHandler(err: unknown, _req: IncomingMessage, res: ServerResponse, next: Next): void {
    if (!(err instanceof TokenGateError) || res.headersSent) return next(err);
    const body: Record<string, unknown> = { error: err.code, error_description: err.message, reason: err.reason };
    if (err instanceof InsufficientScopeError) body.requirements = err.requirements;
    res.statusCode = err.status;
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.end(JSON.stringify(body));
  };
}
