// A client walking through incremental authorization against the community API: log in, hit a
// gated route, read the 403 challenge, upgrade the token at the issuer's /authz, retry. Then the
// vault, which checks the wallet's current holdings and so opens to the plain login token.
//   npm run example:client             starts the API and its test issuer itself
//   API=… ISSUER=… LOGIN=… npm run example:client   uses a running `npm start` (paste its exports)
'use strict';

const WALLET = '0xA548ac9c6f41B19175023B5f09c6E70f99cFeec8';

/** Starts the community API and its test issuer on free ports, as `npm start` does. */
async function startLocally() {
  const { createTestIssuer } = require('express-token-gate/testing');
  const { createApp, COMMUNITIES } = require('./app');
  const issuer = await createTestIssuer({ audience: 'example-project' });
  issuer.setBalances(WALLET, { [COMMUNITIES.apes.contractAddress]: '3', [COMMUNITIES.punks.contractAddress]: '1' });
  const server = createApp(issuer.options, { ownershipResolver: issuer.ownershipResolver() }).listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return {
    api: `http://127.0.0.1:${server.address().port}`,
    issuer: issuer.url,
    // Logging in at the test issuer: it signs a session token for the wallet, proving no holdings yet.
    login: () => issuer.sign({ walletAddress: WALLET }),
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await issuer.close();
    },
  };
}

const TARGET_VARIABLES = ['API', 'ISSUER', 'LOGIN'];

function fromEnvironment() {
  const { API, ISSUER, LOGIN } = process.env;
  if (!API || !ISSUER || !LOGIN) return undefined;
  return { api: API, issuer: ISSUER, login: async () => LOGIN, stop: async () => undefined };
}

/** Says which of API, ISSUER and LOGIN are missing, so a half-pasted export is not mistaken for a walk of `npm start`. */
function announceLocalStart() {
  const missing = TARGET_VARIABLES.filter((name) => !process.env[name]);
  const names = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing.at(-1)}`;
  console.log(
    `${names} ${missing.length === 1 ? 'is' : 'are'} not set: starting the example API and its test issuer on 127.0.0.1`,
  );
}

async function call(method, url, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: json };
}

function expectStatus(step, answer, status) {
  if (answer.status !== status)
    throw new Error(`${step}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
}

async function walkThrough(target) {
  const { api, issuer } = target;
  console.log(`API ${api}, issuer ${issuer}`);

  const login = await target.login();
  console.log(`1. Logged in at the issuer: an access token for the wallet that proves no holdings yet`);

  const denied = await call('GET', `${api}/communities/apes`, { token: login });
  expectStatus('2', denied, 403);
  const { requirements, reason } = denied.body;
  console.log(`2. GET /communities/apes -> ${denied.status} ${denied.body.error} (${reason})`);
  console.log(`   WWW-Authenticate: ${denied.headers.get('www-authenticate')}`);
  console.log(`   requirements: ${JSON.stringify(requirements)}`);

  const upgrade = await call('POST', `${issuer}/authz`, { body: { accessToken: login, requirements } });
  expectStatus('3', upgrade, 200);
  const upgraded = upgrade.body.accessToken;
  if (typeof upgraded !== 'string') throw new Error('3: /authz answered no accessToken');
  console.log(`3. POST ${issuer}/authz { accessToken, requirements } -> ${upgrade.status}: an upgraded access token`);

  const welcome = await call('GET', `${api}/communities/apes`, { token: upgraded });
  expectStatus('4', welcome, 200);
  console.log(`4. GET /communities/apes with the upgraded token -> ${welcome.status} ${JSON.stringify(welcome.body)}`);

  const vault = await call('GET', `${api}/communities/punks/vault`, { token: login });
  expectStatus('5', vault, 200);
  console.log(
    `5. GET /communities/punks/vault with the login token -> ${vault.status}: checked live, the wallet holds a punk now`,
  );
}

async function main() {
  let target = fromEnvironment();
  if (target === undefined) {
    announceLocalStart();
    target = await startLocally();
  }
  try {
    await walkThrough(target);
  } finally {
    await target.stop();
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
