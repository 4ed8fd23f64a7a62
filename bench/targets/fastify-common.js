'use strict';
// The Fastify skeleton: one Fastify 5 app in its own process, GET /hello behind the target's
// preHandler hook, GET /whoami the same plus the wallet the hook found (for the sanity check).
// Every Fastify target shares this skeleton and one error handler (status and headers from the
// error, empty body, as in common.js), so only the authentication differs.
const Fastify = require('fastify');

const { BENCH_JWKS_URI: jwksUri, BENCH_ISSUER: issuer, BENCH_AUDIENCE: audience } = process.env;

/**
 * @param register async (app) => preHandler hooks placed before the handlers ([] for the baseline)
 * @param identify reads the verified wallet address from the request
 */
async function serve(register, identify) {
  const app = Fastify({ keepAliveTimeout: 60_000 });
  const preHandler = await register(app);
  app.setErrorHandler((err, request, reply) => {
    reply.code(err.statusCode || err.status || 500);
    if (err.headers && typeof err.headers === 'object') reply.headers(err.headers);
    reply.send();
  });
  app.get('/hello', { preHandler }, async () => 'hello');
  app.get('/whoami', { preHandler }, async (request) => ({ wallet: identify(request) ?? null }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.send({ type: 'ready', port: app.server.address().port });
  process.on('disconnect', () => process.exit(0));
}

module.exports = { serve, jwksUri, issuer, audience };
