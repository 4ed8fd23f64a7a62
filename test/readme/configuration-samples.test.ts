/**
 * The docs' configuration samples that hold values of the reader's own (a key's coordinates, an
 * environment id, node URLs): each is run as written once those are filled in, so an option it
 * shows that the code would refuse, or a shape it no longer takes, fails here. What the options do
 * is tested where each is specified (test/jwks, test/http/gate.wallet, test/ownership).
 */
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import * as lib from '../../lib';
import { block, section } from '../helpers/docs';

const jwk = () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
};

/** Runs `code` with `require('express-token-gate')` and `express` resolved here and `scope` as globals; answers `names`' values. */
function evaluate(code: string, scope: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const requireShim = (name: string) =>
    name === 'express-token-gate' ? lib : name === 'express' ? express : (require(name) as unknown);
  const keys = Object.keys(scope);
  return new Function('require', ...keys, `${code}\nreturn { ${names.join(', ')} };`)(
    requireShim,
    ...keys.map((key) => scope[key]),
  ) as Record<string, unknown>;
}

const env = {
  PICKET_PROJECT_ID: 'docs-project',
  RPC_URL: 'http://127.0.0.1:8545',
  SEPOLIA_RPC_URL: 'http://127.0.0.1:8546',
  POLYGON_RPC_URL: 'http://127.0.0.1:8547',
};

describe('docs/key-sets.md', () => {
  test('"Static keys": the key shown, with its coordinates filled in, is accepted and nothing is fetched', () => {
    const { x, y } = jwk();
    const code = block('docs/key-sets.md', 'Static keys');
    expect(code).toContain("x: '…', y: '…'");
    const { gate } = evaluate(
      code.replace("x: '…', y: '…'", `x: '${x}', y: '${y}'`),
      { audience: 'docs-project', createTokenGate: lib.createTokenGate },
      ['gate'],
    );
    expect((gate as lib.TokenGate).keySet.status()).toMatchObject({ state: 'fresh', source: 'static' });
  });

  test('"Several issuers": three issuers, one of them with static keys, each with its own key set', () => {
    const code = block('docs/key-sets.md', 'Several issuers');
    expect(code).toContain('keys: [/* … */]');
    const { gate } = evaluate(
      code.replace('keys: [/* … */]', `keys: [${JSON.stringify({ ...jwk(), kid: 'intranet-1', alg: 'ES256' })}]`),
      { createTokenGate: lib.createTokenGate, process: { env } },
      ['gate'],
    );
    expect([...(gate as lib.TokenGate).keySets.keys()]).toEqual(['picketapi.com', 'staging.example', 'intranet']);
    expect((gate as lib.TokenGate).keySets.get('intranet')!.status()).toMatchObject({ source: 'static' });
  });
});

describe('docs/other-issuers.md', () => {
  test('the opening Dynamic gate, with its environment id and the Dynamic recipe, builds its route', () => {
    const page = section('docs/other-issuers.md', 'Tokens of other wallet services');
    const opening = /```js\n([\s\S]*?)```/.exec(page)![1]!;
    expect(opening).toContain('<environment id>');
    const recipe = block('docs/other-issuers.md', 'Dynamic');
    const app = express();
    const { gate } = evaluate(
      `${recipe}\n${opening.replaceAll('<environment id>', 'env-1')}`,
      {
        app,
        createTokenGate: lib.createTokenGate,
        evmOwnershipResolver: lib.evmOwnershipResolver,
        process: { env },
      },
      ['gate'],
    );
    expect((gate as lib.TokenGate).options).toMatchObject({ algorithms: ['RS256'] });
    expect((gate as lib.TokenGate).keySet.status()).toMatchObject({
      uri: 'https://app.dynamic.xyz/api/v0/sdk/env-1/.well-known/jwks',
    });
  });
});

describe('docs/live-ownership.md', () => {
  test('the rpcUrls sample, with its URLs from the environment, is a resolver', () => {
    const code = block(
      'docs/live-ownership.md',
      '`evmOwnershipResolver({ rpcUrl, rpcUrls, timeoutMs, contractMaxAgeMs, fetch })`',
    );
    const { resolver } = evaluate(
      `const resolver = ${code.trim().replace(/;$/, '')};`,
      { evmOwnershipResolver: lib.evmOwnershipResolver, process: { env } },
      ['resolver'],
    );
    expect(resolver).toMatchObject({ name: 'evm' });
    expect(typeof (resolver as lib.OwnershipResolver).resolve).toBe('function');
  });
});
