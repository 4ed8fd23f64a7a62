import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { commands, runPrintout, type Step } from './printed-script';
import { ROOT, assertBuilt, startExample, type RunningExample } from './start-example';
import { APES_CONTRACT, payloadOf, WALLET } from '../helpers/fixtures';

function listeningUrl(output: string): string {
  const found = /^Community API listening on (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(output);
  if (!found) throw new Error(`No URL in the printout:\n${output}`);
  return found[1]!;
}

function get(url: string, token?: string): Promise<Response> {
  return fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

describe('npm start with no configuration (embedded test issuer)', () => {
  let example: RunningExample;
  let steps: Step[];

  beforeAll(async () => {
    example = await startExample({ PORT: '0' });
    steps = await runPrintout(example.output);
  });
  afterAll(() => example?.stop());

  test('prints the URL it listens on, with the port the system picked for PORT=0', () => {
    const port = Number(new URL(listeningUrl(example.output)).port);
    expect(port).toBeGreaterThan(0);
    expect(example.output).toContain(`export API=http://127.0.0.1:${port}\n`);
  });

  test('prints a login token and an expired token ready to paste', () => {
    expect(example.output).toMatch(/^export LOGIN=[\w-]+\.[\w-]+\.[\w-]+$/m);
    expect(example.output).toMatch(/^export EXPIRED=[\w-]+\.[\w-]+\.[\w-]+$/m);
  });

  test('announces 401, 200, 401, 403, the upgrade, 200, 201 and 403, in that order', () => {
    const announced = commands(example.output)
      .filter((c) => !c.line.startsWith('export '))
      .map((c) => c.announced);
    expect(announced).toEqual([401, 200, 401, 403, 200, 200, 201, 403]);
  });

  test('every printed curl line answers with the status announced above it', () => {
    expect(steps.map((s) => s.status)).toEqual([401, 200, 401, 403, 200, 200, 201, 403]);
    for (const step of steps)
      expect({ line: step.line, status: step.status }).toEqual({ line: step.line, status: step.announced });
  });

  test('without a token the API challenges with a bare Bearer realm', () => {
    expect(steps[0]!.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test('the logged-in wallet reads /me', () => {
    expect(JSON.parse(steps[1]!.body)).toEqual({
      address: '0xa548ac9c6f41b19175023b5f09c6e70f99cfeec8',
      displayAddress: WALLET,
      chain: 'ethereum',
    });
  });

  test('the expired token is an invalid_token with reason token_expired', () => {
    expect(steps[2]!.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
    expect(JSON.parse(steps[2]!.body).reason).toBe('token_expired');
  });

  test('the 403 lists the requirements the issuer is then asked for', () => {
    expect(steps[3]!.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);
    expect(JSON.parse(steps[3]!.body).requirements).toEqual({
      chain: 'ethereum',
      contractAddress: APES_CONTRACT,
      minTokenBalance: '0',
    });
    expect(steps[4]!.line).toContain('\\"contractAddress\\":\\"0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d\\"');
  });

  test('the upgrade sets $APES to a new token that proves the three apes', () => {
    const { name, value } = steps[4]!.assigned!;
    expect(name).toBe('APES');
    const payload = payloadOf(value);
    expect(payload.tokenBalances).toEqual({ contractAddress: { [APES_CONTRACT]: '3' } });
  });

  test('the post is created by the upgraded wallet', () => {
    expect(JSON.parse(steps[6]!.body)).toEqual({ author: WALLET, text: 'gm' });
  });

  test('the issuer refuses to prove two punks for a wallet holding one', () => {
    expect(JSON.parse(steps[7]!.body)).toMatchObject({
      error: 'insufficient_scope',
      requirements: { minTokenBalance: '2' },
    });
  });

  test('stops cleanly on SIGTERM', async () => {
    await expect(example.stop()).resolves.toBe(0);
  });
});

describe('npm start with PICKET_PROJECT_ID (an external issuer)', () => {
  let issuer: TestIssuer;
  let example: RunningExample;

  beforeAll(async () => {
    // Stands in for the real issuer: the example must fetch its keys over HTTP like Picket's.
    issuer = await createTestIssuer({ audience: 'my-project', issuer: 'issuer.example' });
    example = await startExample({
      PORT: '0',
      PICKET_PROJECT_ID: 'my-project',
      PICKET_ISSUER: 'issuer.example',
      PICKET_JWKS_URI: issuer.jwksUri,
    });
  });
  afterAll(async () => {
    await example?.stop();
    await issuer?.close();
  });

  test('starts no issuer of its own and prints no tokens', () => {
    expect(example.output).not.toMatch(/Test issuer|export LOGIN/);
    expect(example.output).toContain('Trusting issuer.example for project my-project');
  });

  test('accepts tokens of the configured issuer and project, fetched through PICKET_JWKS_URI', async () => {
    const response = await get(`${listeningUrl(example.output)}/me`, await issuer.sign());
    expect(response.status).toBe(200);
    expect(issuer.jwksHits).toBe(1);
  });

  test('rejects a token for another project', async () => {
    const response = await get(`${listeningUrl(example.output)}/me`, await issuer.sign({ aud: 'other-project' }));
    expect(response.status).toBe(401);
    expect((await response.json()).reason).toBe('audience_mismatch');
  });
});

describe('PORT', () => {
  test('refuses a PORT that is not a number, before starting anything', () => {
    assertBuilt();
    const run = spawnSync(process.execPath, ['examples/server.js'], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('PORT must be a number from 0 to 65535');
  });

  test('names a busy PORT and suggests PORT=0', async () => {
    assertBuilt();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as { port: number }).port;
      const child = spawn(process.execPath, ['examples/server.js'], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port) },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      // 'close' comes after the output streams have ended.
      const code = await new Promise((resolve) => child.once('close', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(`Port ${port} is in use: try PORT=0`);
    } finally {
      busy.close();
    }
  });
});
