/**
 * docs/issuer.md: every ```js sample runs, as a script of its own against the built package, on a
 * local chain (ganache, chain id 1, an ERC-721 minted to a wallet) and a real redis-server: a
 * wallet logs in, the gated route answers 403, /authz proves the token on chain, the route opens,
 * and a logout closes it. The README's table of pages links it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { compileContracts, startChain, type LocalChain } from '../helpers/chain';
import { startRedisServer, type RedisServer } from '../helpers/redis-server';
import { eventually, loginToken, postJson } from '../helpers/wallet-login';
import { assertBuilt } from '../example/start-example';
import { section } from '../helpers/docs';

const ROOT = path.resolve(__dirname, '../..');
const doc = fs.readFileSync(path.join(ROOT, 'docs/issuer.md'), 'utf8');
const samples = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);

let chain: LocalChain;
let redis: RedisServer;
let nft: Address;
const holder = privateKeyToAccount(generatePrivateKey());
const children: ChildProcess[] = [];

beforeAll(async () => {
  assertBuilt();
  const { Nft721 } = compileContracts();
  [chain, redis] = await Promise.all([startChain({ chainId: 1 }), startRedisServer()]);
  nft = await chain.deploy(Nft721!);
  await chain.send(chain.accounts[0]!, nft, Nft721!, 'mint', [holder.address, 1n]);
}, 60_000);
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all([chain?.close(), redis?.close()]);
});

/** Runs `code` with `node -e` in the repository (so it loads the built package); resolves to its URL. */
function run(code: string): Promise<string> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
  const child = spawn(process.execPath, ['-e', code], {
    cwd: ROOT,
    env: {
      ...process.env,
      ISSUER_KEY: key as string,
      ETH_RPC_URL: chain.rpcUrl,
      REDIS_URL: redis.url,
      MEMBERS_CONTRACT: nft,
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on": ${output}`)), 20_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const found = /listening on (\d+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${found[1]}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${output}`));
    });
  });
}

describe('docs/issuer.md', () => {
  test('has its two samples, and the README links it from its table of pages', () => {
    expect(samples).toHaveLength(2);
    expect(section('README.md', 'Documentation')).toContain('| [Run your own issuer](docs/issuer.md) |');
  });

  test.each(samples.map((code, i) => [i + 1, code]))(
    'sample %i runs: login, 403, /authz proves the ERC-721 on chain, 200, logout, 401',
    async (_n, code) => {
      const url = await run(code as string);
      const members = (token: string) => fetch(`${url}/members`, { headers: { Authorization: `Bearer ${token}` } });
      const token = await loginToken(`${url}/api/v1`, holder);
      const denied = await members(token);
      expect(denied.status).toBe(403);
      const { requirements } = (await denied.json()) as { requirements: unknown };
      const upgraded = await postJson(`${url}/api/v1`, '/authz', { accessToken: token, requirements });
      expect(upgraded.status).toBe(200);
      const member = upgraded.body.accessToken as string;
      expect((await members(member)).status).toBe(200);
      expect((await postJson(`${url}/api/v1`, '/auth/logout', { accessToken: member })).status).toBe(204);
      expect(await eventually(async () => (await members(member)).status === 401)).toBe(true);
    },
  );
});
