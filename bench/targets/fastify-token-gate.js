'use strict';
// This library's Fastify plugin, from the built package (dist/), with its defaults (verified-token
// cache on), registered as docs/frameworks/fastify.md shows.
const { default: tokenGate } = require('express-token-gate/fastify');
const { serve, jwksUri, issuer, audience } = require('./fastify-common');

serve(
  async (app) => {
    await app.register(tokenGate, { audience, issuer, jwksUri });
    return [app.tokenGate.requireAuth()];
  },
  (request) => request.wallet?.address,
);
