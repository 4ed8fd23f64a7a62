'use strict';
// This library, from the built package (dist/), with its defaults (verified-token cache on).
const { createTokenGate } = require('../..');
const { serve, jwksUri, issuer, audience } = require('./common');

const gate = createTokenGate({ audience, issuer, jwksUri });
serve([gate.requireAuth()], (req) => req.wallet?.address);
