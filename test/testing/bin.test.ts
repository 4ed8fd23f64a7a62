/**
 * `express-token-gate issuer`, the standalone emulator for frontend developers: it prints where it
 * listens and ready client lines, serves the balances file, and stops cleanly on Ctrl-C (SIGINT).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Picket from '@picketapi/picket-node';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { verifyAccessToken } from '../../lib';
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

describe('express-token-gate issuer', () => {
  test('prints its URL, JWKS and client lines, serves the balances file, logs a wallet in, and exits 0 on SIGINT', async () => {
    const balances = writeBalances(JSON.stringify({ [WALLET]: { [APES_CONTRACT]: '3' } }));
    const { child, banner } = await start(['issuer', '--port', '0', '--audience', 'demo', '--balances', balances]);
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

  test('the README shows the banner it prints (with port 8787) and the command that starts it', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Frontend against the emulator'));
    const shown = /```console\n([\s\S]*?)```/.exec(section)![1]!;
    expect(/```sh\n([\s\S]*?)```/.exec(section)![1]).toBe(
      'npx express-token-gate issuer --port 8787 --balances balances.json\n',
    );
    const { child, banner } = await start(['issuer', '--port', '0', '--balances', writeBalances('{}')]);
    try {
      const port = /127\.0\.0\.1:(\d+)/.exec(banner)![1]!;
      expect(banner.split(`127.0.0.1:${port}`).join('127.0.0.1:8787')).toBe(shown);
    } finally {
      await interrupt(child);
    }
  });

  test.each([
    ['an unknown option', ['issuer', '--prot', '1'], 2, 'unknown option "--prot"'],
    ['an unknown command', ['serve'], 2, 'unknown command "serve"'],
    ['a bad port', ['issuer', '--port', 'http'], 2, '--port must be a port number'],
    [
      'a missing balances file',
      ['issuer', '--port', '0', '--balances', '/nonexistent/b.json'],
      1,
      'cannot read --balances',
    ],
    ['an unknown profile', ['issuer', '--port', '0', '--profile', 'picket'], 1, '"profile"'],
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
    const run = spawnSync(process.execPath, [BIN, 'issuer', '--port', '0', '--balances', file], {
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
