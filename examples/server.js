// Runs the community API. Without configuration it brings its own test issuer on 127.0.0.1 and
// prints tokens and curl lines to try; with PICKET_PROJECT_ID set it trusts the real issuer.
//   npm start                       PORT=0 npm start (any free port)
//   PICKET_PROJECT_ID=<your project id> npm start
'use strict';
const { createApp, COMMUNITIES } = require('./app');

function portFromEnv() {
  const text = process.env.PORT ?? '3000';
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port > 65535) {
    console.error(`PORT must be a number from 0 to 65535 (0 picks a free port), not "${text}"`);
    process.exit(1);
  }
  return port;
}

function listen(app, port) {
  return new Promise((resolve, reject) => {
    // Express 5 hands a listen error to the callback, Express 4 only emits it.
    const server = app.listen(port, '127.0.0.1', (error) => (error ? reject(error) : resolve(server)));
    server.once('error', reject);
  });
}

function stopOn(signals, stop) {
  for (const signal of signals) process.once(signal, () => stop().then(() => process.exit(0)));
}

/** JSON as one double-quoted shell word, so a `$TOKEN` inside is expanded by the shell. */
function jsonArg(value) {
  return `"${JSON.stringify(value).replace(/["\\`]/g, '\\$&')}"`;
}

async function withTestIssuer(port) {
  const { createTestIssuer } = require('express-token-gate/testing');
  const issuer = await createTestIssuer({ audience: 'example-project' });
  const wallet = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';
  const { apes, punks } = COMMUNITIES;
  issuer.setBalances(wallet, { [apes.contractAddress]: '3', [punks.contractAddress]: '1' });

  const server = await listen(createApp(issuer.options, { ownershipResolver: issuer.ownershipResolver() }), port);
  const api = `http://127.0.0.1:${server.address().port}`;
  const login = await issuer.sign({ walletAddress: wallet });
  const expired = await issuer.sign({ walletAddress: wallet }, { expiresIn: -3600 });
  const bearer = (name) => `-H "Authorization: Bearer $${name}"`;
  const authz = (token, requirements) =>
    `$ISSUER/authz -H 'Content-Type: application/json' -d ${jsonArg({ accessToken: `$${token}`, requirements })}`;
  const readToken = `node -p 'JSON.parse(require("fs").readFileSync(0)).accessToken'`;

  console.log(`Community API listening on ${api}
Test issuer on ${issuer.url} (keys: ${issuer.jwksUri}, upgrades: ${issuer.authzUrl})
Wallet ${wallet} holds 3 apes and 1 punk; its login token proves none of them yet.

Paste into a shell:

export API=${api}
export ISSUER=${issuer.url}
export LOGIN=${login}
export EXPIRED=${expired}

# 401  no token: WWW-Authenticate: Bearer realm="api"
curl -i $API/me
# 200  a logged-in wallet
curl -i $API/me ${bearer('LOGIN')}
# 401  an expired token: error="invalid_token", reason token_expired
curl -i $API/me ${bearer('EXPIRED')}
# 403  the apes community needs an ape: error="insufficient_scope"; the body lists the requirements
curl -i $API/communities/apes ${bearer('LOGIN')}
# 200  take those requirements to the issuer's /authz: it checks the balances and signs an upgraded token
APES=$(curl -s ${authz('LOGIN', { contractAddress: apes.contractAddress })} | ${readToken})
# 200  the upgraded token opens the community
curl -i $API/communities/apes ${bearer('APES')}
# 201  posting takes two apes; the wallet holds three
curl -i $API/communities/apes/posts ${bearer('APES')} -H 'Content-Type: application/json' -d '{"text":"gm"}'
# 403  posting among the punks takes two punks; the issuer refuses the upgrade (the wallet holds one)
curl -i ${authz('APES', { contractAddress: punks.contractAddress, minTokenBalance: '2' })}
`);
  stopOn(['SIGINT', 'SIGTERM'], async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await issuer.close();
  });
}

async function withPicket(port) {
  // createTokenGate reads PICKET_PROJECT_ID, PICKET_ISSUER and PICKET_JWKS_URI itself.
  const server = await listen(createApp(), port);
  const api = `http://127.0.0.1:${server.address().port}`;
  console.log(`Community API listening on ${api}
Trusting ${process.env.PICKET_ISSUER || 'picketapi.com'} for project ${process.env.PICKET_PROJECT_ID} (keys: ${
    process.env.PICKET_JWKS_URI || 'https://picketapi.com/api/v1/.well-known/jwks.json'
  })

Log in with Picket in your front end, then paste into a shell:

export API=${api}
export TOKEN=<the accessToken from picket.login()>

curl -i $API/me -H "Authorization: Bearer $TOKEN"
curl -i $API/communities/apes -H "Authorization: Bearer $TOKEN"
`);
  stopOn(['SIGINT', 'SIGTERM'], async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
}

const port = portFromEnv();
(process.env.PICKET_PROJECT_ID ? withPicket(port) : withTestIssuer(port)).catch((error) => {
  console.error(
    error.code === 'EADDRINUSE' ? `Port ${port} is in use: try PORT=0 npm start for a free one` : error.message,
  );
  process.exit(1);
});
