'use strict';
// express-jwt + jwks-rsa, configured as their READMEs recommend (key cache and rate limit on).
const { expressjwt } = require('express-jwt');
const jwksRsa = require('jwks-rsa');
const { serve, jwksUri, issuer, audience } = require('./common');

const auth = expressjwt({
  secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 5 }),
  algorithms: ['ES256'],
  issuer,
  audience,
});
serve([auth], (req) => req.auth?.walletAddress);
