'use strict';
// Drives a middleware in process, without HTTP: minimal request objects carrying the token the
// way Node's parser leaves it (`headers` and `rawHeaders`), many in flight at once.

/** In-flight requests, as many as the HTTP scenarios' connections. */
const CONCURRENCY = 32;
const res = {};

/** One request with `token`; resolves to what the middleware passed to `next` (undefined: accepted). */
function call(middleware, token) {
  const value = `Bearer ${token}`;
  const req = { headers: { authorization: value }, rawHeaders: ['Authorization', value] };
  return new Promise((resolve) => middleware(req, res, resolve));
}

/** Runs `list` through `middleware`, CONCURRENCY at a time; resolves to how many were accepted. */
async function drive(middleware, list) {
  let ok = 0;
  let next = 0;
  const worker = async () => {
    while (next < list.length) if ((await call(middleware, list[next++])) === undefined) ok += 1;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return ok;
}

module.exports = { CONCURRENCY, call, drive };
