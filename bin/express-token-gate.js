#!/usr/bin/env node
// `express-token-gate issuer`: the production issuer (express-token-gate/issuer) as a server, with
// your keys, chain and Redis. `express-token-gate emulator`: the test kit's issuer, a standalone
// emulator of the issuer's API for frontend development offline. Both run the built package (dist/).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const USAGE = `Usage: express-token-gate <command> [options]

Commands:
  issuer      The issuer, for production: your signing keys, your chain, your Redis
  emulator    The test kit's issuer emulator, for frontend development offline

Run \`express-token-gate <command> --help\` for its options.`;

const ISSUER_USAGE = `Usage: express-token-gate issuer --issuer <iss> --audience <id> --key-file <file> [options]

Runs the issuer (express-token-gate/issuer): wallet login, /authz, /auth/validate, /auth/logout and
the JWKS, under / and /api/v1. Without a signing key it refuses to start, unless --ephemeral.

Options:
  --issuer <iss>        iss of every token (required)
  --audience <id>       aud of every token: the project id (required)
  --key-file <file>     ES256 private key, PEM or JWK (JSON); repeat it: the first signs, all are published
  --ephemeral           A key generated for this process instead (tokens die with it): development only
  --rpc-url <url>       Ethereum mainnet JSON-RPC: logins and /authz prove holdings on chain through it
  --redis-url <url>     Redis for nonces, sessions and logouts, shared by every instance (redis:// or rediss://)
  --domain <host>       A host SIWE messages may name (e.g. app.example.com); repeatable (default: loopback hosts)
  --origin <origin>     A browser origin allowed to call it (e.g. https://app.example.com); repeatable (default: loopback origins)
  --serve <name>        A host name it answers (the Host header, e.g. auth.example.com) besides loopback names; repeatable
  --host <address>      Address to listen on (default 127.0.0.1)
  --port <n>            Port (default 8787; 0 picks a free one)
  --help                Show this text`;

const EMULATOR_USAGE = `Usage: express-token-gate emulator [options]

Starts the test issuer on 127.0.0.1: wallet login, /authz, /auth/validate, token ownership and the
JWKS, under / and /api/v1, with CORS for browser apps on loopback origins.

Options:
  --port <n>          Port on 127.0.0.1 (default 8787; 0 picks a free one)
  --audience <id>     Project id tokens are issued for (default test-project)
  --balances <file>   JSON { "<wallet>": { "<contract | collection | mint | contract:id>": "3" } }
  --chain <name>      Chain of the balance table (default ethereum)
  --profile <name>    Token shape: kit (default) or issuer
  --origins <list>    Allowed browser origins: loopback (default), * or a comma-separated list
  --help              Show this text`;

/** Each command's flags: `value` (last one wins), `list` (repeatable) or `switch` (no value). */
const COMMANDS = {
  issuer: {
    usage: ISSUER_USAGE,
    flags: {
      issuer: 'value',
      audience: 'value',
      'key-file': 'list',
      ephemeral: 'switch',
      'rpc-url': 'value',
      'redis-url': 'value',
      domain: 'list',
      origin: 'list',
      serve: 'list',
      host: 'value',
      port: 'value',
    },
  },
  emulator: {
    usage: EMULATOR_USAGE,
    flags: { port: 'value', audience: 'value', balances: 'value', chain: 'value', profile: 'value', origins: 'value' },
  },
};

function fail(message, code = 2) {
  process.stderr.write(`express-token-gate: ${message}\n`);
  process.exit(code);
}

function parse(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(command === undefined ? 2 : 0);
  }
  const spec = COMMANDS[command];
  if (!spec) fail(`unknown command "${command}"\n\n${USAGE}`);
  const options = {};
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${spec.usage}\n`);
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const kind = match && Object.hasOwn(spec.flags, match[1]) ? spec.flags[match[1]] : undefined;
    if (kind === undefined) {
      const hint =
        command === 'issuer' && match && Object.hasOwn(COMMANDS.emulator.flags, match[1])
          ? ` (--${match[1]} is the emulator's: express-token-gate emulator --${match[1]} …)`
          : '';
      fail(`unknown option "${arg}"${hint}\n\n${spec.usage}`);
    }
    if (kind === 'switch') {
      if (match[2] !== undefined) fail(`option --${match[1]} takes no value`);
      options[match[1]] = true;
      continue;
    }
    const value = match[2] ?? rest[++i];
    if (value === undefined) fail(`option --${match[1]} needs a value`);
    if (kind === 'list') (options[match[1]] ??= []).push(value);
    else options[match[1]] = value;
  }
  return { command, options };
}

function portOf(args) {
  const port = args.port === undefined ? 8787 : Number(args.port);
  if (args.port === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`--port must be a port number, not "${args.port}"`);
  }
  return port;
}

function load(entry) {
  try {
    return require(`../dist/cjs/${entry}`);
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cjs'))
      fail('the package is not built: run `npm run build` first', 1);
    throw error;
  }
}

/** Stops on the first SIGINT or SIGTERM: `close()`, then exit 0. */
function stopOnSignal(close) {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

// ---- express-token-gate emulator ----

function readBalances(file) {
  let table;
  try {
    table = JSON.parse(fs.readFileSync(path.resolve(file), 'utf8'));
  } catch (error) {
    fail(`cannot read --balances ${file}: ${error.message}`, 1);
  }
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    fail(`--balances ${file} must hold a JSON object of wallets`, 1);
  return table;
}

async function emulator(args) {
  const port = portOf(args);
  const origins =
    args.origins === undefined || args.origins === 'loopback' || args.origins === '*'
      ? args.origins
      : args.origins.split(',');
  const audience = args.audience ?? 'test-project';

  const kit = load('testing');
  let issuer;
  try {
    issuer = await kit.createTestIssuer({
      audience,
      port,
      chain: args.chain,
      profile: args.profile,
      cors: origins && { origins },
    });
    const balances = args.balances === undefined ? {} : readBalances(args.balances);
    for (const [wallet, held] of Object.entries(balances)) {
      try {
        issuer.setBalances(wallet, held);
      } catch (error) {
        throw new Error(`--balances ${args.balances}: ${error.message.replace(/^setBalances: /, '')}`);
      }
    }
  } catch (error) {
    if (issuer) await issuer.close();
    fail(error.message, 1);
  }

  const { url, apiUrl } = issuer;
  const gate = { audience, issuer: issuer.options.issuer, jwksUri: `${apiUrl}/.well-known/jwks.json` };
  process.stdout.write(
    [
      `Issuer emulator on ${url} (project ${audience})`,
      `  API:          ${apiUrl}`,
      `  JWKS:         ${apiUrl}/.well-known/jwks.json`,
      `  picket-js:    new Picket('${audience}', { baseURL: '${apiUrl}' })`,
      `  picket-node:  picket.baseURL = '${apiUrl}'`,
      `  your API:     createTokenGate({ audience: '${gate.audience}', issuer: '${gate.issuer}', jwksUri: '${gate.jwksUri}' })`,
      `  as JSON:      ${JSON.stringify(gate)}`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  stopOnSignal(() => issuer.close());
}

// ---- express-token-gate issuer ----

/** A --key-file's key: a JWK when the file holds a JSON object, else its text (PEM). */
function readKey(file) {
  let text;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (error) {
    fail(`cannot read --key-file ${file}: ${error.message}`, 1);
  }
  if (!text.trimStart().startsWith('{')) return text;
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(`--key-file ${file} starts like a JWK but is not JSON: ${error.message}`, 1);
  }
}

async function issuerCommand(args) {
  const keyFiles = args['key-file'] ?? [];
  if (keyFiles.length === 0 && !args.ephemeral) {
    fail(
      'no signing key: pass --key-file <file> (an ES256 private key, PEM or JWK), or --ephemeral for a key ' +
        'that lives as long as this process (development only). The emulator for frontend development is ' +
        '`express-token-gate emulator`.',
    );
  }
  if (keyFiles.length > 0 && args.ephemeral) fail('--ephemeral cannot be combined with --key-file');
  if (args.issuer === undefined) fail('--issuer is required: the iss of every token (e.g. auth.example.com)');
  if (args.audience === undefined) fail('--audience is required: the project id tokens are issued for');
  const port = portOf(args);
  const host = args.host ?? '127.0.0.1';
  const signingKeys = keyFiles.map(readKey);

  const { createIssuer } = load('issuer');
  const { createRevocationList, evmOwnershipResolver } = load('index');
  const closing = [];
  const closeAll = async () => {
    for (const close of closing.reverse()) await close().catch(() => {});
  };
  let issuer;
  try {
    const options = { issuer: args.issuer, audience: args.audience };
    if (args.ephemeral) options.ephemeralKey = true;
    else options.signingKeys = signingKeys;
    if (args['rpc-url'] !== undefined) options.ownership = evmOwnershipResolver({ rpcUrl: args['rpc-url'] });
    if (args.domain) options.login = { domains: args.domain };
    if (args.origin) options.cors = { origins: args.origin };
    if (args.serve) options.hosts = args.serve;
    if (args['redis-url'] !== undefined) {
      const { redisIssuerStore, redisRevocationStore } = load('redis');
      const store = redisIssuerStore({ url: args['redis-url'] });
      closing.push(() => store.close());
      const revocations = createRevocationList({ store: redisRevocationStore({ url: args['redis-url'] }) });
      closing.push(() => revocations.close());
      options.store = store;
      options.revocations = revocations;
    }
    issuer = createIssuer(options);
    closing.push(() => issuer.close());
  } catch (error) {
    await closeAll();
    const key = /option "signingKeys\[(\d+)\]" (.*)$/s.exec(error.message);
    fail(key ? `--key-file ${keyFiles[Number(key[1])]} ${key[2]}` : error.message, 1);
  }

  const server = http.createServer(issuer.handler);
  server.keepAliveTimeout = 5000;
  await new Promise((resolve) => {
    server.once('error', async (error) => {
      await closeAll();
      fail(`cannot listen on ${host}:${port}: ${error.message}`, 1);
    });
    server.listen(port, host, resolve);
  });
  closing.push(
    () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const address = server.address();
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const apiUrl = `http://${shown}:${address.port}/api/v1`;
  const { issuer: iss, audience } = issuer.gateOptions;
  process.stdout.write(
    [
      `Issuer on http://${shown}:${address.port} (iss ${iss}, project ${audience})`,
      `  API:          ${apiUrl}`,
      `  JWKS:         ${apiUrl}/.well-known/jwks.json`,
      `  keys:         ${args.ephemeral ? 'one ephemeral key (development only: tokens stop verifying when this process ends)' : keyFiles.join(', ')}`,
      `  ownership:    ${args['rpc-url'] === undefined ? 'none (requirements are refused)' : 'on chain, through --rpc-url'}`,
      `  store:        ${args['redis-url'] === undefined ? 'memory (this process only)' : 'Redis, shared with every instance on it'}`,
      `  your API:     createTokenGate({ audience: '${audience}', issuer: '${iss}', jwksUri: '<public URL>/api/v1/.well-known/jwks.json' })`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  stopOnSignal(closeAll);
}

const { command, options } = parse(process.argv.slice(2));
(command === 'issuer' ? issuerCommand : emulator)(options);
