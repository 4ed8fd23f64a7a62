'use strict';
/**
 * picket-js 0.0.102 in a real Chromium against the test kit's issuer (and, in the last case,
 * `createIssuer` configured as in production), offline: each case gets a fresh issuer, an app on http://localhost:<port> gated by this library, and a wallet injected as
 * `window.ethereum`. The requests the SDK sent to the issuer are printed after each case.
 *
 * Run: `npm run test:browser` (installs this folder's packages, builds dist/, runs this file).
 */
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { APES, PUNKS, UNOWNED, bundlePicket, launchBrowser, startSession } = require('./harness');

const CASE_TIMEOUT_MS = 120_000;

let browser;
let bundle;
before(async () => {
  [bundle, browser] = await Promise.all([bundlePicket(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
});

/** Runs `fn` with a fresh session, then prints what the page sent to the issuer. */
async function withSession(t, options, fn) {
  const session = await startSession(browser, bundle, options);
  try {
    await session.open();
    await fn(session);
    assert.deepEqual(session.wallet.unknown, [], 'the SDK called wallet methods the test wallet does not know');
  } finally {
    await session.settledRequests().catch(() => {});
    for (const line of report(session)) t.diagnostic(line);
    await session.close();
  }
}

/** One line per request to the issuer: method, path, headers that matter, exact body, answer. */
function report(session) {
  const lines = session.requests.map((r) => {
    const answer = r.answer === undefined ? 'no answer' : `${r.status} ${JSON.stringify(r.answer)}`;
    const body = r.body === undefined ? '' : ` ${JSON.stringify(r.body)}`;
    return `issuer ${r.method} ${r.path} [${r.headers}]${body} -> ${answer}`;
  });
  lines.push(`wallet calls: ${session.wallet.calls.join(', ') || 'none'}`);
  for (const message of session.wallet.signed) lines.push(`wallet signed: ${JSON.stringify(message)}`);
  if (session.blocked.length > 0) lines.push(`blocked (not loopback): ${[...new Set(session.blocked)].join(', ')}`);
  return lines;
}

/** The last request of `method path` the page sent to the issuer. */
async function sent(session, method, path) {
  const found = (await session.settledRequests()).filter((r) => r.method === method && r.path === path);
  assert.ok(found.length > 0, `the page sent no ${method} ${path}`);
  return found[found.length - 1];
}

/** `picket.login({ chain, walletAddress, signature, context, ...extra })`: the app gets the signature itself. */
function loginWithSignature(session, extra = {}) {
  return session.run(async (more) => {
    const { Picket, picket } = window.app;
    const walletAddress = await window.app.account();
    const { chainId, chainType } = await picket.chainInfo('ethereum');
    const context = {
      domain: window.location.host,
      uri: window.location.origin,
      issuedAt: new Date().toISOString(),
      chainId,
      chainType,
      locale: navigator.language,
    };
    const { nonce, statement, format } = await picket.nonce({
      walletAddress,
      chain: 'ethereum',
      locale: context.locale,
    });
    const message = Picket.createSigningMessage({ nonce, statement, format, walletAddress, ...context });
    const signature = await window.app.sign(message, walletAddress);
    return picket.login({ chain: 'ethereum', walletAddress, signature, context, ...more });
  }, extra);
}

/** Fails with what the issuer answered to the login when `outcome` is not a session. */
async function expectLoggedIn(session, outcome, how) {
  const login = outcome.login ?? outcome;
  if (login.value?.accessToken) return login.value;
  const auth = (await session.settledRequests()).filter((r) => r.method === 'POST' && r.path === '/auth').pop();
  const answer = auth
    ? `POST /auth ${JSON.stringify(auth.body)} answered ${auth.status} ${JSON.stringify(auth.answer)}`
    : 'no POST /auth';
  assert.fail(`${how} did not log in (${JSON.stringify(outcome.modalError ?? login.error)}); ${answer}`);
}

function callApi(session, path, accessToken) {
  return session.run((p, token) => window.app.callApi(p, token), path, accessToken).then(({ value }) => value);
}

function storedSession(session) {
  return session.run(() => JSON.parse(window.localStorage.getItem('_picketauth'))).then(({ value }) => value);
}

/** The SIWE message picket-js's modal and createSigningMessage build, spelled out (EIP-4361). */
function siweMessage({ origin, address, statement, nonce, issuedAt, chainId = 1 }) {
  const { host } = new URL(origin);
  return [
    `${host} wants you to sign in with your Ethereum account:`,
    address,
    '',
    statement,
    '',
    `URI: ${origin}`,
    'Version: 1',
    `Chain ID: ${chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${issuedAt}`,
  ].join('\n');
}

test(
  'login() through the wallet modal, without requirements, gives a token the gate accepts',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, {}, async (session) => {
      const outcome = await session.loginWithModal();
      const auth = await expectLoggedIn(session, outcome, 'login() through the modal');
      const me = await callApi(session, '/api/me', auth.accessToken);
      assert.deepEqual(me, { status: 200, body: { address: session.wallet.address.toLowerCase() } });
      assert.equal(auth.user.walletAddress, session.wallet.address);
      assert.deepEqual(await storedSession(session), auth);
    }),
);

test(
  'login({ contractAddress }) through the wallet modal proves the requirement at once and opens the gated route',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { balances: { [APES]: '1' } }, async (session) => {
      const outcome = await session.loginWithModal({ contractAddress: APES });
      const auth = await expectLoggedIn(session, outcome, 'login({ contractAddress }) through the modal');
      assert.deepEqual(auth.user.tokenBalances, { contractAddress: { [APES]: '1' } });
      assert.deepEqual(await callApi(session, '/api/apes', auth.accessToken), {
        status: 200,
        body: { welcome: 'ape' },
      });
      assert.deepEqual(await storedSession(session), auth);

      const { body } = await sent(session, 'POST', '/auth');
      assert.deepEqual(Object.keys(body), ['chain', 'walletAddress', 'signature', 'requirements', 'context']);
      assert.deepEqual(body.requirements, { contractAddress: APES });
      assert.deepEqual(Object.keys(body.context), ['domain', 'uri', 'issuedAt', 'chainId', 'chainType', 'locale']);
      const nonce = await sent(session, 'POST', '/auth/nonce');
      assert.deepEqual(nonce.body, {
        chain: 'ethereum',
        walletAddress: session.wallet.address,
        locale: body.context.locale,
      });
      assert.deepEqual(session.wallet.signed, [
        siweMessage({
          origin: session.origin,
          address: session.wallet.address,
          statement: nonce.answer.statement,
          nonce: nonce.answer.nonce,
          issuedAt: body.context.issuedAt,
        }),
      ]);
    }),
);

test(
  'login with a signature (walletAddress, signature, context), without requirements, gives a token the gate accepts',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, {}, async (session) => {
      const auth = await expectLoggedIn(session, await loginWithSignature(session), 'login with a signature');
      assert.deepEqual(await callApi(session, '/api/me', auth.accessToken), {
        status: 200,
        body: { address: session.wallet.address.toLowerCase() },
      });
      assert.deepEqual(await storedSession(session), auth);
    }),
);

test(
  'login with a signature and requirements proves them at once; one the wallet does not meet is refused 403',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { balances: { [PUNKS]: '2' } }, async (session) => {
      const auth = await expectLoggedIn(
        session,
        await loginWithSignature(session, { contractAddress: PUNKS, minTokenBalance: 2 }),
        'login with a signature and requirements',
      );
      assert.deepEqual(auth.user.tokenBalances, { contractAddress: { [PUNKS]: '2' } });
      assert.deepEqual(await callApi(session, '/api/punks', auth.accessToken), {
        status: 200,
        body: { welcome: 'punk' },
      });
      assert.deepEqual((await sent(session, 'POST', '/auth')).body.requirements, {
        contractAddress: PUNKS,
        minTokenBalance: 2,
      });

      const refused = await loginWithSignature(session, { contractAddress: UNOWNED });
      assert.equal(refused.error?.code, 'insufficient_balance', JSON.stringify(refused));
      assert.equal((await sent(session, 'POST', '/auth')).status, 403);
      assert.deepEqual(await storedSession(session), auth, 'a refused login leaves the stored session alone');
    }),
);

test(
  "the simple message format: the modal signs the issuer's simple message and logs in",
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { issuerOptions: { login: { format: 'simple' } }, balances: { [APES]: '3' } }, async (session) => {
      const outcome = await session.loginWithModal({ contractAddress: APES, minTokenBalance: 3 });
      const auth = await expectLoggedIn(session, outcome, 'a simple-format login through the modal');
      assert.deepEqual(await callApi(session, '/api/apes', auth.accessToken), {
        status: 200,
        body: { welcome: 'ape' },
      });
      const nonce = await sent(session, 'POST', '/auth/nonce');
      assert.equal(nonce.answer.format, 'simple');
      assert.deepEqual(session.wallet.signed, [
        `${nonce.answer.statement}\n\nAddress: ${session.wallet.address}\nNonce: ${nonce.answer.nonce}`,
      ]);
    }),
);

test(
  'authz upgrades the session with a requirement the wallet meets (requireTokens accepts it) and surfaces the 403 of one it does not',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { balances: { [APES]: '1', [PUNKS]: '5' } }, async (session) => {
      const login = await expectLoggedIn(
        session,
        await loginWithSignature(session, { contractAddress: APES }),
        'the login',
      );
      const denied = await callApi(session, '/api/punks', login.accessToken);
      assert.equal(denied.status, 403);
      assert.deepEqual(denied.body.requirements, { chain: 'ethereum', contractAddress: PUNKS, minTokenBalance: '2' });

      const upgraded = await session.run(
        (accessToken, requirements) => window.app.picket.authz({ accessToken, requirements }),
        login.accessToken,
        denied.body.requirements,
      );
      assert.ok(upgraded.value?.accessToken, `authz did not upgrade: ${JSON.stringify(upgraded)}`);
      assert.notEqual(upgraded.value.accessToken, login.accessToken);
      assert.deepEqual((await sent(session, 'POST', '/authz')).body, {
        accessToken: login.accessToken,
        requirements: denied.body.requirements,
        revalidate: false,
      });
      assert.deepEqual(await callApi(session, '/api/punks', upgraded.value.accessToken), {
        status: 200,
        body: { welcome: 'punk' },
      });
      assert.deepEqual(await storedSession(session), upgraded.value, 'authz stores the upgraded session');

      const refused = await session.run(
        (accessToken, requirements) => window.app.picket.authz({ accessToken, requirements }),
        upgraded.value.accessToken,
        { contractAddress: UNOWNED },
      );
      assert.equal((await sent(session, 'POST', '/authz')).status, 403);
      assert.equal(refused.error?.code, 'insufficient_balance', JSON.stringify(refused));
      assert.deepEqual(refused.error.requirements, {
        chain: 'ethereum',
        contractAddress: UNOWNED,
        minTokenBalance: '0',
      });
      assert.deepEqual(await storedSession(session), upgraded.value, 'a refused authz leaves the stored session alone');

      // isCurrentUserAuthorized asks /authz when the stored balances fall short, and says no.
      const authorized = await session.run(
        (contractAddress) => window.app.picket.isCurrentUserAuthorized({ requirements: { contractAddress } }),
        UNOWNED,
      );
      assert.deepEqual(authorized, { value: false });
      assert.equal((await sent(session, 'POST', '/authz')).body.requirements.contractAddress, UNOWNED);
    }),
);

test(
  'validate answers the payload of a good token and refuses an unmet requirement, an expired token and junk',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { balances: { [APES]: '2' } }, async (session) => {
      const { issuer, wallet } = session;
      const token = await issuer.sign({
        walletAddress: wallet.address,
        tokenBalances: { contractAddress: { [APES]: '2' } },
      });
      const validate = (accessToken, requirements) =>
        session.run((a, r) => window.app.picket.validate(a, r ?? undefined), accessToken, requirements ?? null);

      const good = await validate(token);
      assert.equal(good.value?.walletAddress, wallet.address, JSON.stringify(good));
      assert.equal(good.value.aud, 'test-project');
      assert.deepEqual((await sent(session, 'POST', '/auth/validate')).body, { accessToken: token });

      const proven = await validate(token, { contractAddress: APES, minTokenBalance: 2 });
      assert.equal(proven.value?.walletAddress, wallet.address, JSON.stringify(proven));
      assert.deepEqual((await sent(session, 'POST', '/auth/validate')).body, {
        accessToken: token,
        requirements: { contractAddress: APES, minTokenBalance: 2 },
      });

      const cases = [
        {
          name: 'an unmet requirement',
          token,
          requirements: { contractAddress: UNOWNED },
          status: 403,
          code: 'insufficient_balance',
        },
        {
          name: 'an expired token',
          token: await issuer.sign({ walletAddress: wallet.address }, { expiresIn: -60 }),
          status: 401,
          code: 'token_expired',
        },
        { name: 'junk', token: 'not-a-token', status: 401, code: 'token_malformed' },
      ];
      for (const c of cases) {
        const refused = await validate(c.token, c.requirements);
        assert.equal((await sent(session, 'POST', '/auth/validate')).status, c.status, c.name);
        assert.equal(refused.error?.code, c.code, `${c.name}: ${JSON.stringify(refused)}`);
      }

      const before = session.requests.length;
      assert.deepEqual(await validate(''), { error: { msg: 'access token is empty' } });
      assert.equal(session.requests.length, before, 'an empty token is refused without a request');
    }),
);

test(
  'a reload restores the stored session through /auth/validate; a stored token the issuer refuses logs the user out',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { balances: { [APES]: '1' } }, async (session) => {
      const login = await expectLoggedIn(
        session,
        await loginWithSignature(session, { contractAddress: APES }),
        'the login',
      );

      await session.reload();
      const from = session.requests.length;
      const restored = await session.run(() => window.app.picket.authState());
      assert.deepEqual(restored, { value: login });
      const [validate] = (await session.settledRequests(from)).filter((r) => r.method === 'POST');
      assert.deepEqual(validate.body, { accessToken: login.accessToken });
      assert.equal(validate.path, '/auth/validate');
      assert.equal(validate.status, 200);
      assert.deepEqual(await callApi(session, '/api/apes', restored.value.accessToken), {
        status: 200,
        body: { welcome: 'ape' },
      });

      const expired = await session.issuer.sign({ walletAddress: session.wallet.address }, { expiresIn: -60 });
      await session.run(
        (accessToken, user) => {
          window.localStorage.setItem('_picketauth', JSON.stringify({ accessToken, user }));
        },
        expired,
        login.user,
      );
      await session.reload();
      assert.deepEqual(await session.run(() => window.app.picket.authState()), { value: null });
      assert.equal((await sent(session, 'POST', '/auth/validate')).status, 401);
      assert.equal(await storedSession(session), null, 'the refused session is removed');
    }),
);

test(
  'logout clears the session without a request; after a reload the user stays logged out',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { balances: { [APES]: '1' } }, async (session) => {
      const login = await expectLoggedIn(
        session,
        await loginWithSignature(session, { contractAddress: APES }),
        'the login',
      );
      assert.deepEqual(await session.run(() => window.app.picket.authState()), { value: login });

      const from = session.requests.length;
      await session.run(() => window.app.picket.logout());
      assert.deepEqual(await session.run(() => window.app.picket.authState()), { value: null });
      assert.equal(await storedSession(session), null);
      await session.reload();
      assert.deepEqual(await session.run(() => window.app.picket.authState()), { value: null });
      assert.deepEqual(session.requests.slice(from), [], 'logout and a logged-out reload send nothing to the issuer');
    }),
);

test(
  'against createIssuer as in production (a PEM key, rate limits, CORS for this page only, a revocation list): the modal logs in, authz upgrades, a logout ends the session at /authz and the gate',
  { timeout: CASE_TIMEOUT_MS },
  (t) =>
    withSession(t, { production: true, balances: { [APES]: '1' } }, async (session) => {
      const outcome = await session.loginWithModal();
      const login = await expectLoggedIn(session, outcome, 'login() through the modal, production issuer');
      const [, payload] = login.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      assert.equal(claims.iss, 'auth.example.com');
      assert.equal(typeof claims.sid, 'string', 'a production login starts a session');
      const auth = await sent(session, 'POST', '/auth');
      assert.ok(auth.headers.includes(`origin: ${session.origin}`), auth.headers);

      const denied = await callApi(session, '/api/apes', login.accessToken);
      assert.equal(denied.status, 403);
      const upgraded = await session.run(
        (accessToken, requirements) => window.app.picket.authz({ accessToken, requirements }),
        login.accessToken,
        denied.body.requirements,
      );
      assert.ok(upgraded.value?.accessToken, `authz did not upgrade: ${JSON.stringify(upgraded)}`);
      assert.deepEqual(await callApi(session, '/api/apes', upgraded.value.accessToken), {
        status: 200,
        body: { welcome: 'ape' },
      });

      // picket-js's logout sends nothing: the app ends the session at the issuer, then clears it.
      const ended = await session.run(
        async (base, accessToken) => {
          const res = await fetch(`${base}/auth/logout`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ accessToken }),
          });
          await window.app.picket.logout();
          return res.status;
        },
        session.issuer.apiUrl,
        upgraded.value.accessToken,
      );
      assert.deepEqual(ended, { value: 204 });
      const refused = await session.run(
        (accessToken) => window.app.picket.authz({ accessToken, requirements: {} }),
        login.accessToken,
      );
      assert.equal(refused.error?.code, 'session_ended', JSON.stringify(refused));
      assert.equal((await callApi(session, '/api/apes', upgraded.value.accessToken)).status, 401);
    }),
);
