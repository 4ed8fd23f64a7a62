'use strict';
/**
 * The browser harness: picket-js bundled with esbuild, a page on a loopback origin that loads it,
 * an Express API gated by this library's built package, the test kit's issuer (or `createIssuer`
 * as in production, `production: true`), headless Chromium
 * (puppeteer-core) and an injected EIP-1193 wallet that signs in Node with a viem local account.
 *
 * The browser reaches loopback only: every request to another host (fonts, analytics, the wallet
 * modal's public RPCs) is aborted and listed in `session.blocked`.
 */
const path = require('node:path');
const { createRequire } = require('node:module');
const esbuild = require('esbuild');
const puppeteer = require('puppeteer-core');
const { privateKeyToAccount, generatePrivateKey } = require('viem/accounts');
const { hexToString, isHex } = require('viem');

const ROOT = path.resolve(__dirname, '../..');
// The library as a user loads it (its built dist/, through its exports), and the root's Express.
const rootRequire = createRequire(path.join(ROOT, 'package.json'));
const { createTokenGate, authErrorHandler, createRevocationList } = rootRequire('express-token-gate');
const { createTestIssuer } = rootRequire('express-token-gate/testing');
const { createIssuer, memoryIssuerStore } = rootRequire('express-token-gate/issuer');
const http = require('node:http');
const { generateKeyPairSync } = require('node:crypto');
const express = rootRequire('express');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const AUDIENCE = 'test-project';
const APES = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
const PUNKS = '0xb47e3cd837ddf8e4c57f05d70ab865de6e193bbb';
const UNOWNED = '0x1a92f7381b9f03921564a437210bb9396471050c';
/** Chains the wallet can switch to (the modal's EVM chains). */
const WALLET_CHAINS = new Set([1, 10, 137, 42161, 43114]);

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** picket-js 0.0.102 and its page script, bundled for the browser (stream/crypto/Buffer/process shimmed). */
async function bundlePicket() {
  const result = await esbuild.build({
    absWorkingDir: __dirname,
    entryPoints: ['page.js'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'error',
    define: { global: 'globalThis', 'process.env.NODE_ENV': '"production"' },
    alias: { stream: 'stream-browserify', crypto: 'crypto-browserify' },
    inject: [path.join(__dirname, 'shims.js')],
  });
  return Buffer.from(result.outputFiles[0].contents);
}

async function launchBrowser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    protocolTimeout: 120_000,
  });
}

/**
 * The wallet behind `window.ethereum`: answers the EIP-1193 calls picket-js's injected connector
 * makes, signs `personal_sign` with a viem local account, and logs every call (unknown methods get
 * 4200 Unsupported Method and land in `unknown`).
 */
class TestWallet {
  constructor(privateKey = generatePrivateKey()) {
    this.account = privateKeyToAccount(privateKey);
    this.address = this.account.address;
    this.chainId = 1;
    /** Every method called, in order. */
    this.calls = [];
    /** `{ method, params }` of methods this wallet does not know. */
    this.unknown = [];
    /** The messages signed, as text. */
    this.signed = [];
  }

  async handle(method, params = []) {
    this.calls.push(method);
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return { result: [this.address] };
      case 'eth_chainId':
        return { result: `0x${this.chainId.toString(16)}` };
      case 'net_version':
        return { result: String(this.chainId) };
      case 'wallet_switchEthereumChain': {
        const id = Number.parseInt(params[0]?.chainId, 16);
        if (!WALLET_CHAINS.has(id))
          return { error: { code: 4902, message: `Unrecognized chain ${params[0]?.chainId}` } };
        const changed = id !== this.chainId;
        this.chainId = id;
        return { result: null, events: changed ? [['chainChanged', `0x${id.toString(16)}`]] : [] };
      }
      case 'personal_sign': {
        const [data, address] = params;
        if (typeof address !== 'string' || address.toLowerCase() !== this.address.toLowerCase()) {
          return { error: { code: 4100, message: `personal_sign for another account: ${address}` } };
        }
        const message = isHex(data) ? { raw: data } : data;
        this.signed.push(isHex(data) ? hexToString(data) : data);
        return { result: await this.account.signMessage({ message }) };
      }
      default:
        this.unknown.push({ method, params });
        return { error: { code: 4200, message: `Unsupported method: ${method}` } };
    }
  }
}

/** The provider the page sees, a thin EIP-1193 shell around the exposed Node function. */
const PROVIDER_SCRIPT = `(() => {
  const listeners = {};
  const ethereum = {
    async request({ method, params }) {
      const answer = await window.__testWallet(method, params || []);
      for (const [event, value] of answer.events || []) for (const fn of listeners[event] || []) fn(value);
      if (answer.error) throw Object.assign(new Error(answer.error.message), { code: answer.error.code });
      return answer.result;
    },
    on(event, fn) { (listeners[event] = listeners[event] || []).push(fn); return ethereum; },
    removeListener(event, fn) { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); return ethereum; },
  };
  window.ethereum = ethereum;
})();`;

function page(config) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>picket-js against the test issuer</title></head>
<body>
<h1>App</h1>
<script>window.APP_CONFIG = ${JSON.stringify(config)};</script>
<script src="/picket.js"></script>
</body>
</html>`;
}

/**
 * One case's world: a fresh kit issuer, an app on http://localhost:<port> serving the page and an
 * API gated by this library, a fresh browser context with the wallet injected. Every request the
 * page sends to the issuer is recorded in `requests` with the issuer's answer.
 */
/**
 * `createIssuer` as in production, on its own loopback server: a PEM signing key, a store, rate
 * limits on (the defaults), CORS for the page's origin only, a revocation list the gate shares, and
 * ownership from a table (`setBalances`), through the resolver port.
 */
async function startProductionIssuer(origin) {
  const table = new Map();
  const revocations = createRevocationList();
  const store = memoryIssuerStore();
  const issuer = createIssuer({
    issuer: 'auth.example.com',
    audience: AUDIENCE,
    signingKeys: [
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    ],
    store,
    revocations,
    cors: { origins: [origin] },
    ownership: {
      name: 'table',
      async resolve({ walletAddress, requirements }) {
        const held = table.get(walletAddress.toLowerCase()) ?? {};
        return { balance: held[requirements.contractAddress] ?? '0' };
      },
    },
  });
  const server = http.createServer(issuer.handler);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    apiUrl: `http://127.0.0.1:${server.address().port}/api/v1`,
    gateOptions: { ...issuer.gateOptions, isRevoked: revocations.isRevoked },
    setBalances: (wallet, balances) => table.set(wallet.toLowerCase(), balances),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await issuer.close();
      await store.close();
    },
  };
}

async function startSession(browser, bundle, { issuerOptions = {}, balances = {}, production = false } = {}) {
  // The page's origin is known once the app listens; its routes are added after, to `api`.
  const app = express();
  const api = express.Router();
  app.use(api);
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const origin = `http://localhost:${server.address().port}`;
  const issuer = production
    ? await startProductionIssuer(origin)
    : await createTestIssuer({ audience: AUDIENCE, ...issuerOptions });
  const wallet = new TestWallet();
  issuer.setBalances(wallet.address, balances);

  const gate = createTokenGate(production ? issuer.gateOptions : issuer.options);
  api.get('/', (_req, res) => res.type('html').send(page({ apiKey: AUDIENCE, baseURL: issuer.apiUrl })));
  api.get('/picket.js', (_req, res) => res.type('js').send(bundle));
  api.get('/favicon.ico', (_req, res) => res.status(204).end());
  api.get('/api/me', gate.requireAuth(), (req, res) => res.json({ address: req.wallet.address }));
  api.get('/api/apes', gate.requireTokens({ contractAddress: APES }), (_req, res) => res.json({ welcome: 'ape' }));
  api.get('/api/punks', gate.requireTokens({ contractAddress: PUNKS, minTokenBalance: 2 }), (_req, res) =>
    res.json({ welcome: 'punk' }),
  );
  api.use(authErrorHandler());

  const context = await browser.createBrowserContext();
  const tab = await context.newPage();
  const requests = [];
  const blocked = [];
  const consoleLines = [];
  const apiPrefix = issuer.apiUrl;
  const pending = new Map();

  await tab.setRequestInterception(true);
  tab.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || LOOPBACK.test(url.hostname)) {
      if (request.url().startsWith(apiPrefix)) {
        const post = request.postData();
        let body;
        try {
          body = post === undefined ? undefined : JSON.parse(post);
        } catch {
          body = post;
        }
        const h = request.headers();
        const named =
          request.method() === 'OPTIONS'
            ? ['origin', 'access-control-request-method', 'access-control-request-headers']
            : ['origin', 'authorization', 'content-type'];
        const headers = named
          .filter((name) => h[name] !== undefined)
          .map((name) => `${name}: ${h[name]}`)
          .join('; ');
        const entry = { method: request.method(), path: request.url().slice(apiPrefix.length), headers, body };
        requests.push(entry);
        pending.set(request, entry);
      }
      void request.continue();
      return;
    }
    blocked.push(`${request.method()} ${url.origin}${url.pathname}`);
    void request.abort('blockedbyclient');
  });
  tab.on('response', async (response) => {
    const entry = pending.get(response.request());
    if (!entry) return;
    pending.delete(response.request());
    // The status is set last: a request counts as answered once its body is read too.
    let answer = null;
    try {
      answer = JSON.parse(await response.text());
    } catch {
      // a preflight, or a body that is not JSON
    }
    entry.answer = answer;
    entry.status = response.status();
  });
  tab.on('requestfailed', (request) => {
    const entry = pending.get(request);
    if (!entry) return;
    pending.delete(request);
    entry.status = 'failed';
    entry.answer = request.failure()?.errorText ?? null;
  });
  tab.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  tab.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));

  await tab.exposeFunction('__testWallet', (method, params) => wallet.handle(method, params));
  await tab.evaluateOnNewDocument(PROVIDER_SCRIPT);

  const session = {
    issuer,
    wallet,
    origin,
    page: tab,
    requests,
    blocked,
    console: consoleLines,
    /** Loads (or reloads) the app and waits for picket-js to be ready. */
    async open() {
      await tab.goto(`${origin}/`, { waitUntil: 'load' });
      await tab.waitForFunction(() => window.picket !== undefined && window.app !== undefined);
    },
    async reload() {
      await tab.reload({ waitUntil: 'load' });
      await tab.waitForFunction(() => window.picket !== undefined && window.app !== undefined);
    },
    /** Runs `fn` in the page; resolves to `{ value }` or `{ error }` (what the SDK rejected with). */
    run(fn, ...args) {
      return tab.evaluate(
        async (source, fnArgs) => {
          try {
            // eslint-disable-next-line no-new-func
            const value = await new Function(`return (${source})`)()(...fnArgs);
            return { value };
          } catch (error) {
            return { error: error instanceof Error ? { message: error.message } : error };
          }
        },
        fn.toString(),
        args,
      );
    },
    /** Issuer requests since `from`, waiting until each has its answer. */
    async settledRequests(from = 0) {
      await waitFor(() => requests.slice(from).every((r) => 'status' in r));
      return requests.slice(from);
    },
    /** `picket.login(args)` through the connect modal: clicks the injected wallet, waits for the outcome. */
    async loginWithModal(args) {
      await tab.evaluate((loginArgs) => {
        window.__login = { done: false };
        window.picket.login(loginArgs).then(
          (value) => Object.assign(window.__login, { done: true, value }),
          (error) => Object.assign(window.__login, { done: true, error }),
        );
      }, args);
      const wallets = await tab.waitForFunction(
        () => {
          const buttons = [...document.querySelectorAll('#_picketWallets button')];
          return buttons.length > 0 && buttons.map((b) => b.textContent.trim());
        },
        { timeout: 60_000 },
      );
      const names = await wallets.jsonValue();
      const index = names.indexOf('Injected');
      if (index === -1) throw new Error(`the modal lists no injected wallet: ${names.join(', ')}`);
      await tab.evaluate((i) => document.querySelectorAll('#_picketWallets button')[i].click(), index);
      // The modal either resolves login() or shows its error and waits for another try.
      const outcome = await tab.waitForFunction(
        () => {
          if (window.__login.done) return { login: window.__login };
          const error = document.querySelector('#_picket_connect_modal [class*="text-red-700"]');
          return error ? { modalError: error.textContent.trim() } : false;
        },
        { timeout: 60_000 },
      );
      return outcome.jsonValue();
    },
    async close() {
      await context.close().catch(() => {});
      await new Promise((resolve) => server.close(resolve));
      server.closeAllConnections?.();
      await issuer.close();
    },
  };
  return session;
}

/** Polls a condition on the Node side (the page's answers arrive as events). */
async function waitFor(condition, { timeoutMs = 30_000, stepMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

module.exports = {
  AUDIENCE,
  APES,
  PUNKS,
  UNOWNED,
  bundlePicket,
  launchBrowser,
  startSession,
  TestWallet,
};
