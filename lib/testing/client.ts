/** The kit's own client for the issuer's `/authz`, for tests that upgrade a token in one line. */
import { request } from 'node:http';
import { readJson } from '../issuer/server';

/** The issuer's `/authz` refused (403), or the request was bad (400, 401). */
export class AuthzError extends Error {
  override name = 'AuthzError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`The test issuer's /authz answered ${status}`);
  }
}

/** POSTs JSON on a connection of its own, so nothing is left open after the call. */
export function postJson(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        readJson(res).then((json) => resolve({ status: res.statusCode ?? 0, body: json }), reject);
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
