/**
 * The issuer's HTTP API: every route picket-js and picket-node call, served under `/` and under
 * `/api/v1/` as the issuer's own API is, plus `POST /auth/logout`, with CORS for browser apps and
 * `{ code, msg }` errors.
 * Before any route: the request guard (`./guard`): served host names, allowed origins for what
 * changes state, JSON bodies.
 * Every request has one deadline (`requestTimeoutMs`), its body included.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JWKS_CACHE_CONTROL } from './keys';
import { MAX_BODY_BYTES, readJson, RequestBodyConsumedError, RequestBodyTooLargeError, sendJson } from './server';
import { authz } from './authz';
import { getChain, listChains } from './chains';
import type { Answer, EmulatorContext } from './context';
import type { LimitedRoute } from './rate-limits';
import type { CorsPolicy } from './cors';
import { TokenGateError } from '../errors';
import { ApiError, badRequest, fromGateError } from './errors';
import { changesState, checkJsonBody, checkOrigin, type HostPolicy } from './guard';
import { logout } from './logout';
import { auth, nonce } from './login';
import { tokenOwnership } from './ownership';
import { validate } from './validate';

export type { EmulatorContext } from './context';

/** The real API's path prefix, also accepted by the emulator. */
export const API_PREFIX = '/api/v1';

type Handler = (context: EmulatorContext, body: unknown, params: string[]) => Answer | Promise<Answer>;

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handle: Handler;
  /** Counted by the rate limits: the routes a stranger reaches without a token. */
  limited?: LimitedRoute;
}

const SEGMENT = '([^/]+)';
const ROUTES: readonly Route[] = [
  { method: 'GET', path: /^\/\.well-known\/jwks\.json$/, handle: (context) => ({ status: 200, body: context.jwks() }) },
  { method: 'POST', path: /^\/auth\/nonce$/, handle: (context, body) => nonce(context, body), limited: 'nonce' },
  { method: 'POST', path: /^\/auth$/, handle: (context, body) => auth(context, body), limited: 'login' },
  { method: 'POST', path: /^\/auth\/validate$/, handle: (context, body) => validate(context, body) },
  { method: 'POST', path: /^\/authz$/, handle: (context, body) => authz(context, body) },
  { method: 'POST', path: /^\/auth\/logout$/, handle: (context, body) => logout(context, body) },
  { method: 'GET', path: /^\/chains$/, handle: () => ({ status: 200, body: listChains() }) },
  {
    method: 'GET',
    path: new RegExp(`^/chains/${SEGMENT}$`),
    handle: (_context, _body, [chain]) => ({ status: 200, body: getChain(chain!) }),
  },
  {
    method: 'POST',
    path: new RegExp(`^/chains/${SEGMENT}/wallets/${SEGMENT}/tokenOwnership$`),
    handle: (context, body, [chain, wallet]) => tokenOwnership(context, body, chain!, wallet!),
    // It asks the ownership resolver (the chain) for anyone who calls it, without a token.
    limited: 'ownership',
  },
];

function decodeSegments(match: RegExpExecArray): string[] {
  try {
    return match.slice(1).map((segment) => decodeURIComponent(segment));
  } catch {
    throw badRequest('request_invalid', 'The path is not valid percent-encoding');
  }
}

async function answer(
  context: EmulatorContext,
  req: IncomingMessage,
  path: string,
  maxBodyBytes: number,
  bodyRead: () => void,
): Promise<Answer> {
  const candidates = ROUTES.filter((route) => route.path.test(path));
  if (candidates.length === 0) throw new ApiError(404, 'not_found', 'The issuer has no such route');
  const route = candidates.find((r) => r.method === req.method);
  if (!route) {
    throw new ApiError(405, 'method_not_allowed', `Use ${candidates.map((r) => r.method).join(' or ')}`, {
      headers: { Allow: [...candidates.map((r) => r.method), 'OPTIONS'].join(', ') },
    });
  }
  const params = decodeSegments(route.path.exec(path)!);
  let body: unknown;
  if (route.method === 'POST') {
    checkJsonBody(req.headers['content-type']);
    try {
      body = await readJson(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof RequestBodyTooLargeError) {
        // The rest of the body is never read: the connection cannot carry another request.
        throw new ApiError(413, 'body_too_large', `The body must be at most ${maxBodyBytes} bytes`, {
          error: 'invalid_request',
          headers: { Connection: 'close' },
        });
      }
      if (error instanceof RequestBodyConsumedError) {
        throw new ApiError(
          500,
          'body_consumed',
          'The request body was read before the issuer: mount issuer.router before any body parser (express.json())',
        );
      }
      throw badRequest('request_invalid', 'The body must be JSON');
    }
  }
  bodyRead();
  if (route.limited) {
    // The wallet of the ownership route is in its path.
    const named = route.limited === 'ownership' ? { chain: params[0], walletAddress: params[1] } : body;
    await context.rateLimits.check(route.limited, req, named);
  }
  return route.handle(context, body, params);
}

/** Whether `url` (as a router sees it, below its mount point) names one of the issuer's routes. */
export function servesPath(url: string): boolean {
  const path = routePath(url);
  return ROUTES.some((route) => route.path.test(path));
}

function routePath(url: string): string {
  let path = url.split('?')[0]!;
  if (path === API_PREFIX || path.startsWith(`${API_PREFIX}/`)) path = path.slice(API_PREFIX.length) || '/';
  return path;
}

/** The request handler of the issuer's API. */
export function issuerHandler(
  context: EmulatorContext,
  {
    cors,
    hosts,
    requestTimeoutMs,
    maxBodyBytes = MAX_BODY_BYTES,
  }: { cors: CorsPolicy; hosts: HostPolicy; requestTimeoutMs: number; maxBodyBytes?: number },
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const path = routePath(req.url ?? '/');
    const fail = (error: unknown) => {
      const refusal =
        error instanceof ApiError
          ? error
          : error instanceof TokenGateError
            ? fromGateError(error)
            : new ApiError(500, 'server_error', 'The issuer failed to answer');
      if (refusal.headers.Connection === 'close') res.once('finish', () => req.socket.destroy());
      sendJson(res, refusal.status, refusal.body, { ...cors.headersFor(origin), ...refusal.headers });
    };

    try {
      // A page on a name that is not the issuer's gets no answer to read, nor a CORS grant.
      hosts.check(req.headers.host);
    } catch (error) {
      sendJson(res, (error as ApiError).status, (error as ApiError).body, { Vary: 'Origin' });
      return;
    }
    if (req.method === 'OPTIONS') {
      try {
        const { status, headers } = cors.preflight(origin);
        res.writeHead(status, headers).end();
      } catch (error) {
        fail(error);
      }
      return;
    }
    try {
      // Before the route is looked up: a refused page learns nothing, and nothing runs.
      if (changesState(req.method)) checkOrigin(origin, (o) => cors.allows(o));
    } catch (error) {
      fail(error);
      return;
    }
    // One deadline for the whole request, its body included. Reached while the body is still
    // arriving (a client trickling it, or never finishing it): 408 and the connection is dropped.
    // Reached after: 503 with Retry-After, and the route's work is abandoned (`stillAnswering`):
    // nothing is signed, started or taken for an answer already sent.
    const controller = new AbortController();
    let readingBody = true;
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      controller.abort();
      if (readingBody) {
        const refusal = new ApiError(
          408,
          'request_timeout',
          `The request body did not arrive within ${requestTimeoutMs} ms`,
        );
        res.once('finish', () => req.socket.destroy());
        sendJson(res, 408, refusal.body, { ...cors.headersFor(origin), Connection: 'close' });
      } else {
        const refusal = new ApiError(
          503,
          'timeout',
          `The issuer could not answer within ${requestTimeoutMs} ms: try again`,
          {
            headers: { 'Retry-After': '1' },
          },
        );
        sendJson(res, 503, refusal.body, { ...cors.headersFor(origin), ...refusal.headers });
      }
    }, requestTimeoutMs);
    timer.unref?.();
    const scoped: EmulatorContext = {
      ...context,
      request: { signal: controller.signal, ...(origin !== undefined && { origin }) },
    };
    answer(scoped, req, path, maxBodyBytes, () => {
      readingBody = false;
    }).then(
      (result) => {
        clearTimeout(timer);
        if (controller.signal.aborted || res.headersSent) return;
        const headers = cors.headersFor(origin);
        // The key set may be cached; everything else is an answer about one session.
        if (path === '/.well-known/jwks.json') headers['Cache-Control'] = JWKS_CACHE_CONTROL;
        sendJson(res, result.status, result.body, headers);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (controller.signal.aborted || res.headersSent) return;
        fail(error);
      },
    );
  };
}
