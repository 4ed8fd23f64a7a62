/**
 * The bin. `express-token-gate emulator`, the standalone emulator for frontend developers: it
 * prints where it listens and ready client lines, serves the balances file, and stops cleanly on
 * Ctrl-C (SIGINT). `express-token-gate issuer`, the production issuer: each flag, the refusal to
 * start without a key, and a wallet login served by the process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Picket from '@picketapi/picket-node';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from 'jose';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { verifyAccessToken } from '../../lib';
import { compileContracts, startChain, type LocalChain } from '../helpers/chain';
import { startRedisServer } from '../helpers/redis-server';
import { section as sectionOf } from '../helpers/docs';
import { revocationIdOf } from '../helpers/revocation';
import { loginToken, postJson, walletLogin } from '../helpers/wallet-login';
import { ROOT, assertBuilt } from '../example/start-example';
import { createSigningMessage } from './emulator/picket-js';
import { APES_CONTRACT, WALLET } from '../helpers/fixtures';

const BIN = path.join(ROOT, 'bin/express-token-gate.js');

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etg-bin-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeBalances(content: string): string {
  const file = path.join(dir, `balances-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, content);
  return file;
}

/** Starts the bin and resolves once it has printed its banner. */
function start(args: string[]): Promise<{ child: ChildProcess; banner: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner: ${out}`));
    }, 15_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ctrl-C stops it.')) {
        clearTimeout(guard);
        resolve({ child, banner: out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(guard);
      reject(new Error(`exited ${code} before its banner: ${out}`));
    });
  });
}

/** Sends SIGINT and resolves with how the process ended (killed after a generous guard). */
function interrupt(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal });
    });
    child.kill('SIGINT');
  });
}

describe('express-token-gate emulator', () => {
  test('prints its URL, JWKS and client lines, serves the balances file, logs a wallet in, and exits 0 on SIGINT', async () => {
    const balances = writeBalances(JSON.stringify({ [WALLET]: { [APES_CONTRACT]: '3' } }));
    const { child, banner } = await start(['emulator', '--port', '0', '--audience', 'demo', '--balances', balances]);
    try {
      const apiUrl = /API: +(http:\/\/127\.0\.0\.1:\d+\/api\/v1)$/m.exec(banner)![1]!;
      expect(banner).toContain(`JWKS:         ${apiUrl}/.well-known/jwks.json`);
      expect(banner).toContain(`new Picket('demo', { baseURL: '${apiUrl}' })`);
      expect(banner).toContain(
        `createTokenGate({ audience: 'demo', issuer: 'picketapi.com', jwksUri: '${apiUrl}/.well-known/jwks.json' })`,
      );
      const gateOptions = JSON.parse(/^ {2}as JSON: +(\{.*\})$/m.exec(banner)![1]!) as Record<string, string>;
      expect(gateOptions).toEqual({
        audience: 'demo',
        issuer: 'picketapi.com',
        jwksUri: `${apiUrl}/.well-known/jwks.json`,
      });

      const picket = new Picket('demo-secret');
      picket.baseURL = apiUrl;
      expect(await picket.tokenOwnership({ walletAddress: WALLET, contractAddress: APES_CONTRACT })).toEqual({
        allowed: true,
        walletAddress: WALLET,
        tokenBalance: '3',
      });

      const account = privateKeyToAccount(generatePrivateKey());
      const { nonce, statement, format } = await picket.nonce({ chain: 'ethereum', walletAddress: account.address });
      const context = {
        domain: 'localhost:5173',
        uri: 'http://localhost:5173',
        chainId: 1,
        issuedAt: new Date().toISOString(),
        chainType: 'ethereum' as const,
      };
      const message = createSigningMessage({ format, nonce, statement, walletAddress: account.address, ...context });
      const { accessToken } = await picket.auth({
        chain: 'ethereum',
        walletAddress: account.address,
        signature: await account.signMessage({ message }),
        context,
      });
      const claims = await verifyAccessToken(accessToken, gateOptions);
      expect(claims.walletAddress).toBe(account.address);
    } finally {
      expect(await interrupt(child)).toEqual({ code: 0, signal: null });
    }
  });

  test('docs/testing.md shows the banner it prints (with port 8787) and the command that starts it', async () => {
    const section = sectionOf('docs/testing.md', 'Frontend against the emulator');
    const shown = /```console\n([\s\S]*?)```/.exec(section)![1]!;
    expect(/```sh\n([\s\S]*?)```/.exec(section)![1]).toBe(
      'npx express-token-gate emulator --port 8787 --balances balances.json\n',
    );
    const { child, banner } = await start(['emulator', '--port', '0', '--balances', writeBalances('{}')]);
    try {
      const port = /127\.0\.0\.1:(\d+)/.exec(banner)![1]!;
      expect(banner.split(`127.0.0.1:${port}`).join('127.0.0.1:8787')).toBe(shown);
    } finally {
      await interrupt(child);
    }
  });

  test.each([
    ['an unknown option', ['emulator', '--prot', '1'], 2, 'unknown option "--prot"'],
    ['an unknown command', ['serve'], 2, 'unknown command "serve"'],
    ['a bad port', ['emulator', '--port', 'http'], 2, '--port must be a port number'],
    [
      'a missing balances file',
      ['emulator', '--port', '0', '--balances', '/nonexistent/b.json'],
      1,
      'cannot read --balances',
    ],
    ['an unknown profile', ['emulator', '--port', '0', '--profile', 'picket'], 1, '"profile"'],
  ])('%s ends with a message and a non-zero exit', (_name, args, status, message) => {
    const run = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(status);
    expect(run.stderr).toContain(message);
  });

  const SHORT = APES_CONTRACT.slice(0, 41);
  const HEX = 'is not a 0x-prefixed 40-digit hex address (chain ethereum)';
  test.each<[string, unknown, string]>([
    ['not JSON', '{ "0x": ', 'cannot read --balances FILE: '],
    ['a list', [WALLET], '--balances FILE must hold a JSON object of wallets'],
    ['a malformed wallet', { [SHORT]: { [APES_CONTRACT]: '3' } }, `--balances FILE: wallet "${SHORT}" ${HEX}`],
    [
      'a wallet whose holdings are not an object',
      { [WALLET]: '3' },
      `--balances FILE: what wallet "${WALLET}" holds must be an object such as { "0x…": "3" }`,
    ],
    [
      'a malformed contract',
      { [WALLET]: { [SHORT]: '3' } },
      `--balances FILE: item "${SHORT}" of wallet "${WALLET}" ${HEX}`,
    ],
    [
      'a token id of a malformed contract',
      { [WALLET]: { [`${SHORT}:1`]: '1' } },
      `--balances FILE: item "${SHORT}:1" of wallet "${WALLET}" names a contract that ${HEX}`,
    ],
    [
      'a balance that is not a decimal string',
      { [WALLET]: { [APES_CONTRACT]: 3 } },
      `--balances FILE: the balance of ${APES_CONTRACT} held by wallet "${WALLET}" must be a decimal string such as "3"`,
    ],
  ])('a balances file with %s ends with exit code 1 and names what is wrong', (_name, content, message) => {
    const file = writeBalances(typeof content === 'string' ? content : JSON.stringify(content));
    const run = spawnSync(process.execPath, [BIN, 'emulator', '--port', '0', '--balances', file], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect({ status: run.status, stdout: run.stdout }).toEqual({ status: 1, stdout: '' });
    const expected = `express-token-gate: ${message.replace('FILE', file)}`;
    if (message.endsWith(': ')) expect(run.stderr.startsWith(expected)).toBe(true);
    else expect(run.stderr).toBe(`${expected}\n`);
  });
});

/** A fresh P-256 key pair: the private key as PKCS#8 PEM and as a JWK, and its public JWK. */
function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    jwk: privateKey.export({ format: 'jwk' }),
    publicJwk: publicKey.export({ format: 'jwk' }),
  };
}

function writeFile(name: string, content: string): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}-${name}`);
  fs.writeFileSync(file, content);
  return file;
}

const apiOf = (banner: string) => /API: +(http:\/\/127\.0\.0\.1:\d+\/api\/v1)$/m.exec(banner)![1]!;
const IDENTITY = ['--issuer', 'auth.example.com', '--audience', 'my-project'];

describe('express-token-gate issuer (the production issuer)', () => {
  test('without a key it refuses to start, naming --key-file and --ephemeral, and exits 2', () => {
    const run = spawnSync(process.execPath, [BIN, 'issuer', ...IDENTITY, '--port', '0'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('no signing key: pass --key-file <file>');
    expect(run.stderr).toContain('--ephemeral');
  });

  test.each([
    ['no --issuer', ['issuer', '--audience', 'p', '--ephemeral'], 2, '--issuer is required'],
    ['no --audience', ['issuer', '--issuer', 'i', '--ephemeral'], 2, '--audience is required'],
    [
      '--ephemeral with --key-file',
      ['issuer', ...IDENTITY, '--ephemeral', '--key-file', 'PEM'],
      2,
      'cannot be combined',
    ],
    ['a missing key file', ['issuer', ...IDENTITY, '--key-file', '/nonexistent/k.pem'], 1, 'cannot read --key-file'],
    ['a public key', ['issuer', ...IDENTITY, '--port', '0', '--key-file', 'PUBLIC'], 1, 'public JWK'],
    [
      'a file that is no key',
      ['issuer', ...IDENTITY, '--port', '0', '--key-file', 'JUNK'],
      1,
      'not a readable private key',
    ],
    ['a JWK file that is not JSON', ['issuer', ...IDENTITY, '--port', '0', '--key-file', 'BADJSON'], 1, 'is not JSON'],
    [
      'an emulator flag',
      ['issuer', ...IDENTITY, '--ephemeral', '--balances', 'b.json'],
      2,
      'express-token-gate emulator --balances',
    ],
    [
      'a bad origin',
      ['issuer', ...IDENTITY, '--ephemeral', '--port', '0', '--origin', 'app.example'],
      1,
      '"cors.origins"',
    ],
    [
      'a bad domain',
      ['issuer', ...IDENTITY, '--ephemeral', '--port', '0', '--domain', 'https://app'],
      1,
      '"login.domains"',
    ],
  ])('%s ends with a message and a non-zero exit', (_name, args, status, message) => {
    const files: Record<string, () => string> = {
      PEM: () => writeFile('k.pem', keyPair().pem),
      PUBLIC: () => writeFile('pub.json', JSON.stringify(keyPair().publicJwk)),
      JUNK: () => writeFile('junk.pem', 'not a key\n'),
      BADJSON: () => writeFile('bad.json', '{ "kty": "EC", '),
    };
    const resolved = args.map((a) => files[a]?.() ?? a);
    const run = spawnSync(process.execPath, [BIN, ...resolved], { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(status);
    expect(run.stderr).toContain(message);
    if (message === 'public JWK') expect(run.stderr).toContain(`--key-file ${resolved[resolved.length - 1]}`);
  });

  test('--key-file (PEM, then a JWK with its kid): the first signs, both are published; --issuer and --audience are iss and aud; a wallet logs in', async () => {
    const first = keyPair();
    const next = keyPair();
    const pemFile = writeFile('first.pem', first.pem);
    const jwkFile = writeFile('next.json', JSON.stringify({ ...next.jwk, kid: 'next-key' }));
    const { child, banner } = await start([
      'issuer',
      ...IDENTITY,
      '--port',
      '0',
      '--key-file',
      pemFile,
      '--key-file',
      jwkFile,
    ]);
    try {
      const api = apiOf(banner);
      const jwks = (await (await fetch(`${api}/.well-known/jwks.json`)).json()) as {
        keys: Array<{ kid: string; x: string }>;
      };
      const firstKid = await calculateJwkThumbprint({
        kty: 'EC',
        crv: 'P-256',
        x: first.publicJwk.x!,
        y: first.publicJwk.y!,
      });
      expect(jwks.keys.map((k) => [k.kid, k.x])).toEqual([
        [firstKid, first.publicJwk.x],
        ['next-key', next.publicJwk.x],
      ]);
      const account = privateKeyToAccount(generatePrivateKey());
      const token = await loginToken(api, account);
      expect(decodeProtectedHeader(token).kid).toBe(firstKid);
      expect(decodeJwt(token)).toMatchObject({
        iss: 'auth.example.com',
        aud: 'my-project',
        walletAddress: account.address,
      });
      const claims = await verifyAccessToken(token, {
        issuer: 'auth.example.com',
        audience: 'my-project',
        jwksUri: `${api}/.well-known/jwks.json`,
      });
      expect(claims.walletAddress).toBe(account.address);
      // The process serves the whole session: /auth/validate, then logout ends it.
      expect((await postJson(api, '/auth/validate', { accessToken: token })).status).toBe(200);
      expect((await postJson(api, '/auth/logout', { accessToken: token })).status).toBe(204);
      expect((await postJson(api, '/auth/validate', { accessToken: token })).body.reason).toBe('session_ended');
    } finally {
      expect(await interrupt(child)).toEqual({ code: 0, signal: null });
    }
  });

  test('--ephemeral starts with one generated key and says so', async () => {
    const { child, banner } = await start(['issuer', ...IDENTITY, '--port', '0', '--ephemeral']);
    try {
      expect(banner).toContain('one ephemeral key (development only');
      const jwks = (await (await fetch(`${apiOf(banner)}/.well-known/jwks.json`)).json()) as { keys: unknown[] };
      expect(jwks.keys).toHaveLength(1);
    } finally {
      expect(await interrupt(child)).toEqual({ code: 0, signal: null });
    }
  });

  test('--domain: SIWE messages naming it log in, loopback ones no longer; --origin: only it gets a CORS grant', async () => {
    const { child, banner } = await start([
      'issuer',
      ...IDENTITY,
      '--port',
      '0',
      '--ephemeral',
      '--domain',
      'app.example.com',
      '--domain',
      'admin.example.com',
      '--origin',
      'https://app.example.com',
    ]);
    try {
      const api = apiOf(banner);
      const account = privateKeyToAccount(generatePrivateKey());
      const table: Array<[string, number, string | undefined]> = [
        ['app.example.com', 200, undefined],
        ['admin.example.com', 200, undefined],
        ['localhost:5173', 401, 'domain_not_allowed'],
        ['evil.example.com', 401, 'domain_not_allowed'],
      ];
      for (const [domain, status, reason] of table) {
        const answer = await walletLogin(api, account, { domain });
        expect([domain, answer.status, answer.body.reason]).toEqual([domain, status, reason]);
      }
      const preflight = (origin: string) =>
        fetch(`${api}/auth/nonce`, {
          method: 'OPTIONS',
          headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
        });
      const allowed = await preflight('https://app.example.com');
      expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([
        204,
        'https://app.example.com',
      ]);
      for (const origin of ['http://localhost:5173', 'https://admin.example.com'])
        expect([origin, (await preflight(origin)).status]).toEqual([origin, 403]);
    } finally {
      expect(await interrupt(child)).toEqual({ code: 0, signal: null });
    }
  });

  test('--serve: the host names it answers besides loopback ones; any other Host gets 421', async () => {
    const { child, banner } = await start([
      'issuer',
      ...IDENTITY,
      '--port',
      '0',
      '--ephemeral',
      '--serve',
      'auth.example.com',
    ]);
    try {
      const { port } = new URL(apiOf(banner));
      const statusWithHost = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port: Number(port), path: '/api/v1/.well-known/jwks.json', headers: { Host: host } },
            (res) => {
              res.resume();
              resolve(res.statusCode!);
            },
          );
          req.on('error', reject);
          req.end();
        });
      const table: Array<[string, number]> = [
        [`auth.example.com:${port}`, 200],
        ['auth.example.com', 200],
        [`127.0.0.1:${port}`, 200],
        ['evil.example.com', 421],
        ['auth.example.com.evil.example', 421],
      ];
      for (const [host, status] of table) expect([host, await statusWithHost(host)]).toEqual([host, status]);
    } finally {
      expect(await interrupt(child)).toEqual({ code: 0, signal: null });
    }
  });

  test('--redis-url keeps sessions and logouts in Redis: the session key appears at login, the revocation at logout', async () => {
    const redis = await startRedisServer();
    const { child, banner } = await start([
      'issuer',
      ...IDENTITY,
      '--port',
      '0',
      '--ephemeral',
      '--redis-url',
      redis.url,
    ]);
    try {
      expect(banner).toContain('store:        Redis');
      const api = apiOf(banner);
      const token = await loginToken(api, privateKeyToAccount(generatePrivateKey()));
      const { sid } = decodeJwt(token) as { sid: string };
      expect(await redis.cli('KEYS', `*${sid}*`)).not.toBe('');
      const revoked = `token-gate:revoked:${revocationIdOf(token)}`;
      expect(await redis.cli('EXISTS', revoked)).toBe('0');
      expect((await postJson(api, '/auth/logout', { accessToken: token })).status).toBe(204);
      expect(await redis.cli('EXISTS', revoked)).toBe('1');
    } finally {
      expect(await interrupt(child)).toEqual({ code: 0, signal: null });
      await redis.close();
    }
  });

  describe('--rpc-url: /authz proves what the chain says', () => {
    let chain: LocalChain;
    let nft: Address;
    const holder = privateKeyToAccount(generatePrivateKey());
    const stranger = privateKeyToAccount(generatePrivateKey());
    beforeAll(async () => {
      const { Nft721 } = compileContracts();
      chain = await startChain({ chainId: 1 });
      nft = await chain.deploy(Nft721!);
      await chain.send(chain.accounts[0]!, nft, Nft721!, 'mint', [holder.address, 7n]);
    }, 60_000);
    afterAll(() => chain?.close());

    test.each([
      ['with --rpc-url, the holder: 200', true, 'holder', 200, undefined],
      ['with --rpc-url, a wallet without the token: 403', true, 'stranger', 403, 'insufficient_balance'],
      ['without --rpc-url, the holder: 503', false, 'holder', 503, 'ownership_unavailable'],
    ])('/authz %s', async (_name, withRpc, who, status, reason) => {
      const args = [
        'issuer',
        ...IDENTITY,
        '--port',
        '0',
        '--ephemeral',
        ...(withRpc ? ['--rpc-url', chain.rpcUrl] : []),
      ];
      const { child, banner } = await start(args);
      try {
        const api = apiOf(banner);
        const token = await loginToken(api, who === 'holder' ? holder : stranger);
        const answer = await postJson(api, '/authz', {
          accessToken: token,
          requirements: { chain: 'ethereum', contractAddress: nft, minTokenBalance: '0' },
        });
        expect([answer.status, answer.body.reason]).toEqual([status, reason]);
      } finally {
        expect(await interrupt(child)).toEqual({ code: 0, signal: null });
      }
    });
  });
});
