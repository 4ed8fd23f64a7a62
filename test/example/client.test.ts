/**
 * The example client (`npm run example:client`) walks the incremental flow end to end, on its own
 * and against a running `npm start`; the example app's vault route decides on live balances.
 */
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { ROOT, assertBuilt, startExample, type RunningExample } from './start-example';
import { AUDIENCE } from '../helpers/fixtures';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createApp, COMMUNITIES } = require('../../examples/app') as {
  createApp(options: object, extra?: object): Parameters<typeof request>[0];
  COMMUNITIES: Record<string, { contractAddress: string }>;
};

const STEPS = [
  /^1\. Logged in at the issuer: an access token for the wallet that proves no holdings yet$/m,
  /^2\. GET \/communities\/apes -> 403 insufficient_scope \(insufficient_balance\)$/m,
  /^ {3}WWW-Authenticate: Bearer realm="api", error="insufficient_scope", error_description="[^"]+"$/m,
  /^ {3}requirements: \{"chain":"ethereum",.*"contractAddress":"0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d"\}$/m,
  /^3\. POST http:\/\/127\.0\.0\.1:\d+\/authz \{ accessToken, requirements \} -> 200: an upgraded access token$/m,
  /^4\. GET \/communities\/apes with the upgraded token -> 200 \{"name":"Bored Ape Yacht Club","posts":\[\]\}$/m,
  /^5\. GET \/communities\/punks\/vault with the login token -> 200: checked live, the wallet holds a punk now$/m,
];

function runClient(env: Record<string, string> = {}) {
  assertBuilt();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !['API', 'ISSUER', 'LOGIN'].includes(name)),
  );
  return spawnSync(npm, ['run', '--silent', 'example:client'], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

function expectWalkthrough(out: ReturnType<typeof runClient>): void {
  expect({ status: out.status, stderr: out.stderr }).toEqual({ status: 0, stderr: '' });
  let from = 0;
  for (const step of STEPS) {
    const found = step.exec(out.stdout.slice(from));
    expect({ step: String(step), found: found !== null }).toEqual({ step: String(step), found: true });
    from += found!.index + found![0].length;
  }
}

const STARTS_ITS_OWN = 'starting the example API and its test issuer on 127.0.0.1';

describe('npm run example:client', () => {
  test('on its own: logs in, meets the 403 challenge, upgrades at /authz, retries and gets in, then opens the vault live', () => {
    expectWalkthrough(runClient());
  });

  test.each([
    [{}, `API, ISSUER and LOGIN are not set: ${STARTS_ITS_OWN}`],
    [{ API: 'http://127.0.0.1:9', ISSUER: 'http://127.0.0.1:9' }, `LOGIN is not set: ${STARTS_ITS_OWN}`],
    [{ LOGIN: 'x.y.z' }, `API and ISSUER are not set: ${STARTS_ITS_OWN}`],
  ])('with %j set, its first line says which are missing and that it starts its own servers', (env, first) => {
    const out = runClient(env);
    expect(out.stdout.split('\n')[0]).toBe(first);
    expectWalkthrough(out);
  });

  describe('against a running npm start (its printed API, ISSUER and LOGIN)', () => {
    let example: RunningExample;
    beforeAll(async () => {
      example = await startExample({ PORT: '0' });
    });
    afterAll(() => example?.stop());

    test('walks the same flow', () => {
      const exported = (name: string) => new RegExp(`^export ${name}=(.+)$`, 'm').exec(example.output)![1]!;
      const out = runClient({ API: exported('API'), ISSUER: exported('ISSUER'), LOGIN: exported('LOGIN') });
      expectWalkthrough(out);
      expect(out.stdout).not.toContain(STARTS_ITS_OWN);
      expect(out.stdout.split('\n')[0]).toBe(`API ${exported('API')}, issuer ${exported('ISSUER')}`);
    });
  });

  test('a step that goes wrong ends the client with exit code 1 and says which', () => {
    const out = runClient({ API: 'http://127.0.0.1:9', ISSUER: 'http://127.0.0.1:9', LOGIN: 'x.y.z' });
    expect(out.status).toBe(1);
    expect(out.stderr).not.toBe('');
  });
});

describe("the example app's vault", () => {
  const WALLET = '0x4444444444444444444444444444444444444444';
  const LATER = '0x5555555555555555555555555555555555555555';
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: AUDIENCE });
  });
  afterAll(() => issuer.close());

  test("decides on the test issuer's current balances, not on what the token proves", async () => {
    const { apes } = COMMUNITIES;
    const app = createApp(issuer.options, { ownershipResolver: issuer.ownershipResolver() });
    issuer.setBalances(WALLET, { [apes!.contractAddress]: '1' });
    const login = await issuer.sign({ walletAddress: WALLET });
    await request(app).get('/communities/apes/vault').set('Authorization', `Bearer ${login}`).expect(200);
    await request(app).get('/communities/apes').set('Authorization', `Bearer ${login}`).expect(403); // the snapshot route

    const proof = await issuer.sign({
      walletAddress: LATER,
      tokenBalances: { contractAddress: { [apes!.contractAddress]: '1' } },
    });
    issuer.setBalances(LATER, {});
    const sold = await request(app).get('/communities/apes/vault').set('Authorization', `Bearer ${proof}`).expect(403);
    expect(sold.body.requirements).toEqual({
      chain: 'ethereum',
      minTokenBalance: '0',
      contractAddress: apes!.contractAddress,
    });
  });

  test('exists only when the app is given an ownership resolver', async () => {
    const app = createApp(issuer.options);
    await request(app).get('/communities/apes/vault').expect(404);
  });
});
