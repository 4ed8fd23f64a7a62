'use strict';
// jose used directly: createRemoteJWKSet + jwtVerify in a few lines of middleware.
const { serve, jwksUri, issuer, audience } = require('./common');

function unauthorized() {
  return Object.assign(new Error('Unauthorized'), { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
}

import('jose').then(({ createRemoteJWKSet, jwtVerify }) => {
  const keys = createRemoteJWKSet(new URL(jwksUri));
  const options = { issuer, audience, algorithms: ['ES256'] };
  const auth = (req, res, next) => {
    const match = /^Bearer ([^ ]+)$/i.exec(req.headers.authorization ?? '');
    if (!match) return next(unauthorized());
    jwtVerify(match[1], keys, options).then(
      ({ payload }) => {
        req.auth = payload;
        next();
      },
      () => next(unauthorized()),
    );
  };
  serve([auth], (req) => req.auth?.walletAddress);
});
