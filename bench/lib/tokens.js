'use strict';
// ES256 keys and Picket-shaped access tokens for the benchmark, minted with node:crypto (fast,
// synchronous) so that large pools of distinct tokens can be made before a run.
const crypto = require('node:crypto');

const ISSUER = 'picketapi.com';
const AUDIENCE = '53e74bdf-6e6e-4f31-b0d1-ceda189a6a25';
const CONTRACT = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';

function b64json(value) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A P-256 key pair; `jwk` is the public half as a JWKS entry. */
function makeKey(kid = crypto.randomUUID()) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
}

/** The private key in a form that survives a trip through an environment variable. */
function exportKey(key) {
  return JSON.stringify({ kid: key.kid, pem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }), jwk: key.jwk });
}

function importKey(text) {
  const { kid, pem, jwk } = JSON.parse(text);
  return { kid, privateKey: crypto.createPrivateKey(pem), jwk };
}

function randomWallet() {
  return '0x' + crypto.randomBytes(20).toString('hex');
}

/** Claims shaped like the issuer's (see shared reference), valid for 12 hours. */
function claims(wallet = randomWallet(), now = Math.floor(Date.now() / 1000)) {
  return {
    walletAddress: wallet,
    displayAddress: wallet,
    chain: 'ethereum',
    sub: `ethereum:${wallet}`,
    tokenBalances: { contractAddress: { [CONTRACT]: '3' } },
    iat: now,
    exp: now + 12 * 3600,
    iss: ISSUER,
    aud: AUDIENCE,
    tid: crypto.randomUUID(),
    ver: 1,
  };
}

function signingInput(kid, payload) {
  return `${b64json({ alg: 'ES256', typ: 'JWT', kid })}.${b64json(payload)}`;
}

/** A compact JWS signed by `key` (raw r||s signature, as JWS requires). */
function sign(key, payload = claims()) {
  const input = signingInput(key.kid, payload);
  const signature = crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function validTokens(key, count) {
  const out = new Array(count);
  for (let i = 0; i < count; i++) out[i] = sign(key);
  return out;
}

/** A well-formed token for a published kid whose signature is random bytes. */
function badSignature(kid) {
  return `${signingInput(kid, claims())}.${crypto.randomBytes(64).toString('base64url')}`;
}

/** A well-formed token naming a kid the issuer never published. */
function unknownKid() {
  return `${signingInput(crypto.randomUUID(), claims())}.${crypto.randomBytes(64).toString('base64url')}`;
}

/** Random base64url junk in three dot-separated segments (passes the Bearer syntax, nothing else). */
function garbage() {
  const bytes = crypto.randomBytes(60 + crypto.randomInt(400));
  const text = bytes.toString('base64url');
  const a = 1 + crypto.randomInt(text.length - 2);
  const b = a + 1 + crypto.randomInt(text.length - a - 1);
  return `${text.slice(0, a)}.${text.slice(a, b)}.${text.slice(b)}`;
}

/**
 * A signed-looking token of about `chars` characters (well under the 8,192 cap) whose payload is
 * junk that is costly to parse: one object of many members with fresh names, and no claim of the
 * issuer's. The header names `kid` (omitted when undefined); the signature is random bytes.
 */
function largeJunk(kid, chars = 7 * 1024) {
  const header = b64json(kid === undefined ? { alg: 'ES256', typ: 'JWT' } : { alg: 'ES256', typ: 'JWT', kid });
  const room = Math.floor(((chars - header.length - 88) * 3) / 4) - 2;
  const prefix = `m${crypto.randomBytes(4).toString('hex')}`;
  const members = [];
  for (let i = 0, used = 0; used < room - 24; i++) {
    const member = `"${prefix}${i}":${i}`;
    members.push(member);
    used += member.length + 1;
  }
  const signature = crypto.randomBytes(64).toString('base64url');
  return `${header}.${Buffer.from(`{${members.join(',')}}`).toString('base64url')}.${signature}`;
}

/** Distinct invalid tokens cycling through bad signature, unknown kid and garbage. */
function hostileTokens(publishedKid, count) {
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    out[i] = kind === 0 ? badSignature(publishedKid) : kind === 1 ? unknownKid() : garbage();
  }
  return out;
}

module.exports = {
  ISSUER,
  AUDIENCE,
  makeKey,
  exportKey,
  importKey,
  claims,
  sign,
  validTokens,
  badSignature,
  unknownKid,
  garbage,
  largeJunk,
  hostileTokens,
};
