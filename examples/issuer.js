// Your own issuer: wallet login, /authz proving on chain what a wallet holds, and logout, mounted
// on /api/v1 of an Express app, beside a route gated on an ERC-721 collection.
//   ISSUER_KEY_FILE=issuer-key.pem ETH_RPC_URL=https://… REDIS_URL=redis://127.0.0.1:6379 \
//   MEMBERS_CONTRACT=0x… node examples/issuer.js
// Optional: APP_DOMAIN (the host SIWE messages name, default localhost:5173), APP_ORIGIN (the
// browser origin allowed to call it, default http://localhost:5173), PORT (default 3000; 0: free).
'use strict';
const fs = require('node:fs');
const express = require('express');
const { createIssuer } = require('express-token-gate/issuer');
const { authErrorHandler, createRevocationList, createTokenGate, evmOwnershipResolver } = require('express-token-gate');
const { redisIssuerStore, redisRevocationStore } = require('express-token-gate/redis');

/** The app and how to close it: the issuer on /api/v1, GET /members for holders of `membersContract`. */
function createIssuerApp({ signingKeys, rpcUrl, redisUrl, membersContract, domain, origin }) {
  const store = redisIssuerStore({ url: redisUrl });
  const revocations = createRevocationList({ store: redisRevocationStore({ url: redisUrl }) });
  const issuer = createIssuer({
    issuer: 'auth.example.com',
    audience: 'my-project',
    signingKeys,
    login: { domains: [domain] },
    ownership: evmOwnershipResolver({ rpcUrl }),
    store,
    revocations,
    cors: { origins: [origin] },
  });
  const gate = createTokenGate({ ...issuer.gateOptions, isRevoked: revocations.isRevoked });

  const app = express();
  app.use('/api/v1', issuer.router);
  app.get('/members', gate.requireTokens(membersContract), (req, res) => {
    res.json({ welcome: req.wallet.address });
  });
  app.use(authErrorHandler());
  return {
    app,
    async close() {
      await issuer.close();
      await revocations.close();
      await store.close();
    },
  };
}

module.exports = { createIssuerApp };

if (require.main === module) {
  const env = process.env;
  for (const name of ['ISSUER_KEY_FILE', 'ETH_RPC_URL', 'REDIS_URL', 'MEMBERS_CONTRACT']) {
    if (!env[name]) {
      console.error(`${name} is required (see the top of examples/issuer.js)`);
      process.exit(1);
    }
  }
  const { app, close } = createIssuerApp({
    signingKeys: [fs.readFileSync(env.ISSUER_KEY_FILE, 'utf8')],
    rpcUrl: env.ETH_RPC_URL,
    redisUrl: env.REDIS_URL,
    membersContract: env.MEMBERS_CONTRACT,
    domain: env.APP_DOMAIN ?? 'localhost:5173',
    origin: env.APP_ORIGIN ?? 'http://localhost:5173',
  });
  const server = app.listen(Number(env.PORT ?? 3000), '127.0.0.1', () => {
    console.log(`issuer on http://127.0.0.1:${server.address().port}/api/v1, members at /members`);
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => close().then(() => process.exit(0)));
  });
}
