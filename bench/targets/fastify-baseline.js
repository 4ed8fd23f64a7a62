'use strict';
// Fastify hello-world without authentication: the yardstick of the Fastify group.
const { serve } = require('./fastify-common');

serve(
  async () => [],
  () => undefined,
);
