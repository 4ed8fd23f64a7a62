'use strict';
// One target = one Express app in its own process: GET /hello behind the target's authentication
// middleware, GET /whoami the same plus the wallet the middleware found (for the sanity check).
// Every target shares this skeleton and one error handler, so only the authentication differs.
const express = require('express');

const { BENCH_JWKS_URI: jwksUri, BENCH_ISSUER: issuer, BENCH_AUDIENCE: audience } = process.env;

/**
 * @param auth middleware list placed before the handlers ([] for the baseline)
 * @param identify reads the verified wallet address from the request
 */
function serve(auth, identify) {
  const app = express();
  app.get('/hello', ...auth, (req, res) => {
    res.send('hello');
  });
  app.get('/whoami', ...auth, (req, res) => {
    res.json({ wallet: identify(req) ?? null });
  });
  app.use((err, req, res, _next) => {
    res.statusCode = err.status || err.statusCode || 500;
    if (err.headers && typeof err.headers === 'object') res.set(err.headers);
    res.end();
  });
  const server = app.listen(0, '127.0.0.1', () => {
    process.send({ type: 'ready', port: server.address().port });
  });
  server.keepAliveTimeout = 60_000;
  process.on('disconnect', () => process.exit(0));
}

module.exports = { serve, jwksUri, issuer, audience };
