// A small NFT-community API: any logged-in wallet may read /me; each community is open to the
// holders of its collection, and posting there takes at least two of its tokens. POST /logout
// revokes the caller's token until it expires. With an ownership resolver, each community also has
// a vault that checks what the wallet holds right now.
'use strict';
const express = require('express');
const { createTokenGate, createRevocationList, authErrorHandler } = require('express-token-gate');

const COMMUNITIES = {
  apes: { name: 'Bored Ape Yacht Club', contractAddress: '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d' },
  punks: { name: 'CryptoPunks', contractAddress: '0xb47e3cd837ddf8e4c57f05d70ab865de6e193bbb' },
};

/**
 * Builds the app; `gateOptions` go to createTokenGate (audience, issuer, jwksUri, …). Logouts go to
 * `revocations`: in this process's memory by default; several instances share one on Redis
 * (`createRevocationList({ store: redisRevocationStore({ url }) })`). With `ownershipResolver`,
 * GET /communities/:id/vault decides on the wallet's current holdings.
 */
function createApp(gateOptions, { revocations = createRevocationList(), ownershipResolver } = {}) {
  const gate = createTokenGate({ ...gateOptions, isRevoked: revocations.isRevoked });
  const app = express();
  app.use(express.json());

  // The gates are built once, here, not on every request.
  const communities = new Map();
  for (const [id, { name, contractAddress }] of Object.entries(COMMUNITIES)) {
    communities.set(id, {
      name,
      contractAddress,
      posts: [],
      members: gate.requireTokens({ contractAddress }),
      posters: gate.requireTokens({ contractAddress, minTokenBalance: '2' }),
      // Live: a plain login token is enough while the wallet holds; a sold NFT stops counting
      // within maxAgeMs, whatever the token proved when it was signed.
      vault:
        ownershipResolver &&
        gate.requireTokens({ contractAddress }, { revalidate: { resolver: ownershipResolver, maxAgeMs: 10_000 } }),
    });
  }
  const community = (req) => communities.get(req.params.id);
  const notFound = (res) => res.status(404).json({ error: 'not_found' });

  app.get('/me', gate.requireAuth(), (req, res) => {
    const { address, displayAddress, chain } = req.wallet;
    res.json({ address, displayAddress, chain });
  });

  // The token is refused everywhere the revocation list reaches, until it expires.
  app.post('/logout', gate.requireAuth(), async (req, res, next) => {
    try {
      await revocations.revoke(req.wallet.claims);
      res.sendStatus(204);
    } catch (error) {
      next(error); // 503 revocation_unavailable when the store cannot record it
    }
  });

  app.get(
    '/communities/:id',
    (req, res, next) => (community(req) ? community(req).members(req, res, next) : notFound(res)),
    (req, res) => {
      const { name, posts } = community(req);
      res.json({ name, posts });
    },
  );

  if (ownershipResolver) {
    app.get(
      '/communities/:id/vault',
      (req, res, next) => (community(req) ? community(req).vault(req, res, next) : notFound(res)),
      (req, res) => res.json({ name: community(req).name, vault: 'for current holders only' }),
    );
  }

  app.post(
    '/communities/:id/posts',
    (req, res, next) => (community(req) ? community(req).posters(req, res, next) : notFound(res)),
    (req, res) => {
      const text = typeof req.body?.text === 'string' ? req.body.text.slice(0, 280) : '';
      if (!text) return res.status(400).json({ error: 'invalid_request', error_description: 'Send { "text": "…" }' });
      const post = { author: req.wallet.displayAddress, text };
      community(req).posts.push(post);
      res.status(201).json(post);
    },
  );

  // 401/403 become JSON; a 403 body lists the requirements to take to the issuer's /authz.
  app.use(authErrorHandler());
  return app;
}

module.exports = { createApp, COMMUNITIES };
