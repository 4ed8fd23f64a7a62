'use strict';
// passport-jwt + jwks-rsa (passportJwtSecret), key cache and rate limit on, no sessions.
const passport = require('passport');
const { Strategy, ExtractJwt } = require('passport-jwt');
const jwksRsa = require('jwks-rsa');
const { serve, jwksUri, issuer, audience } = require('./common');

passport.use(
  new Strategy(
    {
      secretOrKeyProvider: jwksRsa.passportJwtSecret({
        jwksUri,
        cache: true,
        rateLimit: true,
        jwksRequestsPerMinute: 5,
      }),
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      issuer,
      audience,
      algorithms: ['ES256'],
    },
    (payload, done) => done(null, payload),
  ),
);
serve([passport.initialize(), passport.authenticate('jwt', { session: false })], (req) => req.user?.walletAddress);
