#!/usr/bin/env node
// `express-token-gate issuer`: the test kit's issuer as a standalone emulator of the issuer's API,
// for frontend development offline. Runs the built kit (dist/).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const USAGE = `Usage: express-token-gate issuer [options]

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

const FLAGS = new Set(['port', 'audience', 'balances', 'chain', 'profile', 'origins']);

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
  if (command !== 'issuer') fail(`unknown command "${command}"\n\n${USAGE}`);
  const options = {};
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (!match || !FLAGS.has(match[1])) fail(`unknown option "${arg}"\n\n${USAGE}`);
    const value = match[2] ?? rest[++i];
    if (value === undefined) fail(`option --${match[1]} needs a value`);
    options[match[1]] = value;
  }
  return options;
}

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

async function main() {
  const args = parse(process.argv.slice(2));
  const port = args.port === undefined ? 8787 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, not "${args.port}"`);
  const origins =
    args.origins === undefined || args.origins === 'loopback' || args.origins === '*'
      ? args.origins
      : args.origins.split(',');
  const audience = args.audience ?? 'test-project';

  let kit;
  try {
    kit = require('../dist/cjs/testing');
  } catch {
    fail('the package is not built: run `npm run build` first', 1);
  }
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

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    issuer.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
