/**
 * The first ```js block of each page in docs/frameworks, run as written in a child process against
 * the built package (`require('express-token-gate')` resolves to this package), with a test issuer
 * in the environment: a token with the balance gets 200, none 401, one without the balance 403.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createTestIssuer, TEST_WALLET, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT } from '../helpers/fixtures';
import { closedPort } from '../helpers/net';

const root = path.resolve(__dirname, '../..');

function firstJsBlock(page: string): string {
  const text = fs.readFileSync(path.join(root, 'docs/frameworks', page), 'utf8');
  const match = /```js\n([\s\S]*?)```/.exec(text);
  if (!match) throw new Error(`${page} has no js block`);
  return match[1]!;
}

/** Resolves once something accepts connections on `port`, or rejects when the child exits first. */
function listening(port: number, child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    child.once('exit', (code) => {
      if (!done) reject(new Error(`the example exited with ${code}`));
    });
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        done = true;
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (!done) setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

let issuer: TestIssuer;
beforeAll(async () => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/index.js'))) throw new Error('dist/ is missing: run `npm run build`');
  issuer = await createTestIssuer({ audience: 'docs-project' });
});
afterAll(() => issuer.close());

describe.each(['fastify.md', 'koa.md', 'fetch.md'])('docs/frameworks/%s', (page) => {
  test('its example answers 200 for an owner, 401 without a token and 403 without the balance', async () => {
    const port = await closedPort();
    const child = spawn(process.execPath, ['-e', firstJsBlock(page)], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        PICKET_PROJECT_ID: issuer.options.audience,
        PICKET_ISSUER: issuer.options.issuer,
        PICKET_JWKS_URI: issuer.jwksUri,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await listening(port, child);
      const url = `http://127.0.0.1:${port}`;
      const owner = await issuer.sign({ tokenBalances: { contractAddress: { [APES_CONTRACT]: '1' } } });
      const poor = await issuer.sign();
      const ok = await fetch(`${url}/apes`, { headers: { authorization: `Bearer ${owner}` } });
      const none = await fetch(`${url}/apes`);
      const refused = await fetch(`${url}/apes`, { headers: { authorization: `Bearer ${poor}` } });
      expect({
        ok: [ok.status, await ok.json()],
        none: [none.status, none.headers.get('www-authenticate'), ((await none.json()) as { reason: string }).reason],
        refused: [refused.status, ((await refused.json()) as { reason: string }).reason],
        stderr,
      }).toEqual({
        ok: [200, { address: TEST_WALLET.toLowerCase() }],
        none: [401, 'Bearer realm="api"', 'token_missing'],
        refused: [403, 'insufficient_balance'],
        stderr: '',
      });
    } finally {
      child.kill();
    }
  }, 30_000);
});
