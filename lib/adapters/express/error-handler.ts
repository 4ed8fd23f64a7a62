/** Optional JSON rendering of `TokenGateError`s; every other error goes on to the next handler. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TokenGateError } from '../../errors';
import { answerOf } from '../../http/answer';

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
    const answer = answerOf(err);
    res.statusCode = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    res.end(JSON.stringify(answer.body));
  };
}
