/** The emulator's options are checked at startup; a missing optional peer (viem) is a clear answer, not a crash. */
import { OptionsError } from '../../../lib';
import { createTestIssuer } from '../../../lib/testing';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, assertBuilt } from '../../example/start-example';
import { AUDIENCE } from '../../helpers/fixtures';

describe('login options are checked when the issuer starts', () => {
  test.each([
    ['login.format', { format: 'eip191' }],
    ['login.statement', { statement: 'two\nlines' }],
    ['login.statement', { statement: '' }],
    ['login.nonceTtlSeconds', { nonceTtlSeconds: -1 }],
    ['login.nonceTtlSeconds', { nonceTtlSeconds: Number.NaN }],
    ['login.domains', { domains: ['https://app.example'] }],
    ['login.domains', { domains: 'app.example' }],
  ])('%s: %p', async (option, login) => {
    const start = createTestIssuer({ audience: AUDIENCE, login: login as never });
    await expect(start).rejects.toThrow(OptionsError);
    await expect(createTestIssuer({ audience: AUDIENCE, login: login as never })).rejects.toThrow(`"${option}"`);
  });
});

describe('viem is loaded only for a login, and its absence is a 501 naming it', () => {
  test('without viem, the built kit serves validate and nonce; /auth answers 501 viem_missing', () => {
    assertBuilt();
    const script = `
      const { createTestIssuer } = require('./dist/cjs/testing');
      const WALLET = '0x7777777777777777777777777777777777777777';
      (async () => {
        const issuer = await createTestIssuer({ audience: '${AUDIENCE}' });
        const post = (path, body) =>
          fetch(issuer.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const validate = await post('/auth/validate', { accessToken: await issuer.sign() });
        const nonce = await post('/auth/nonce', { walletAddress: WALLET });
        const auth = await post('/auth', { walletAddress: WALLET, signature: '0x00' });
        console.log(JSON.stringify([validate.status, nonce.status, auth.status, await auth.json()]));
        await issuer.close();
      })();
    `;
    const hook = path.join(__dirname, 'fixtures/hide-viem.mjs');
    const out = execFileSync(process.execPath, ['--import', hook, '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(JSON.parse(out)).toEqual([
      200,
      200,
      501,
      expect.objectContaining({
        code: 'viem_missing',
        msg: 'Wallet login needs the optional peer dependency viem: npm install --save-dev viem',
      }),
    ]);
  });
});
