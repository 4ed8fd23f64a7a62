'use strict';
// @fastify/jwt + get-jwks as in fastify-jwt.js, tuned: get-jwks's getPublicKey converts the JWK to
// PEM with jwk-to-pem on every call (about 4.5 ms of CPU for a P-256 key here), so this target asks
// get-jwks for the JWK, converts it once with node:crypto and keeps the PEM per JWK object get-jwks
// returns (a new object after each refetch); fast-jwt's verified-token cache is on (`verify.cache`).
const crypto = require('node:crypto');
const fjwt = require('@fastify/jwt');
const buildGetJwks = require('get-jwks');
const { serve, jwksUri, issuer, audience } = require('./fastify-common');

const domain = jwksUri.slice(0, jwksUri.lastIndexOf('/') + 1);
const getJwks = buildGetJwks({ jwksPath: jwksUri.slice(domain.length), issuersWhitelist: [domain] });
const pems = new WeakMap();
async function publicKey(kid, alg) {
  const jwk = await getJwks.getJwk({ kid, alg, domain });
  let pem = pems.get(jwk);
  if (pem === undefined)
    pems.set(jwk, (pem = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })));
  return pem;
}

function unauthorized() {
  return Object.assign(new Error('Unauthorized'), { statusCode: 401, headers: { 'WWW-Authenticate': 'Bearer' } });
}

serve(
  async (app) => {
    await app.register(fjwt, {
      decode: { complete: true },
      verify: { algorithms: ['ES256'], allowedIss: issuer, allowedAud: audience, cache: true },
      secret: (request, token, callback) => {
        const { kid, alg } = token.header;
        publicKey(kid, alg).then((pem) => callback(null, pem), callback);
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
