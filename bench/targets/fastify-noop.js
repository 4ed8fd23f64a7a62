'use strict';
// Fastify with one preHandler hook that only calls its callback: what any authentication hook
// costs Fastify before it does any work, the floor of the hot scenario.
const { serve } = require('./fastify-common');

serve(
  async () => [(request, reply, next) => next()],
  () => undefined,
);
