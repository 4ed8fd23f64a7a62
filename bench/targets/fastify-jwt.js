'use strict';
// @fastify/jwt with get-jwks, as get-jwks's README pairs them (decode complete, the key looked up
// by kid and alg, get-jwks's key cache), with the issuer, audience and algorithm pinned. The key
// set's address is fixed rather than derived from the token's `iss`. Any failure of
// request.jwtVerify() answers 401 with `WWW-Authenticate: Bearer`, as the jose target does.
const fjwt = require('@fastify/jwt');
const buildGetJwks = require('get-jwks');
const { serve, jwksUri, issuer, audience } = require('./fastify-common');

const domain = jwksUri.slice(0, jwksUri.lastIndexOf('/') + 1);
const getJwks = buildGetJwks({ jwksPath: jwksUri.slice(domain.length), issuersWhitelist: [domain] });

function unauthorized() {
  return Object.assign(new Error('Unauthorized'), { statusCode: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
}

serve(
  async (app) => {
    await app.register(fjwt, {
      decode: { complete: true },
      verify: { algorithms: ['ES256'], allowedIss: issuer, allowedAud: audience },
      secret: (request, token, callback) => {
        const { kid, alg } = token.header;
        getJwks.getPublicKey({ kid, alg, domain }).then((publicKey) => callback(null, publicKey), callback);
      },
    });
    return [
      async (request) => {
        try {
          await request.jwtVerify();
        } catch {
          throw unauthorized();
        }
      },
    ];
  },
  (request) => request.user?.walletAddress,
);
