'use strict';
// express-oauth2-jwt-bearer (Auth0) with an explicit issuer and JWKS URI, its defaults otherwise.
const { auth } = require('express-oauth2-jwt-bearer');
const { serve, jwksUri, issuer, audience } = require('./common');

serve([auth({ issuer, audience, jwksUri, tokenSigningAlg: 'ES256' })], (req) => req.auth?.payload?.walletAddress);
