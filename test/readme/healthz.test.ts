/**
 * The README's /healthz recipe, run as written against a real gate: ready with a reachable issuer,
 * 503 with the reason when the key set cannot be fetched.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { createTokenGate, type TokenGate } from '../../lib';
import { createTestIssuer } from '../../lib/testing';
import { AUDIENCE } from '../helpers/fixtures';

const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

function recipe(): string {
  const section = readme.slice(readme.indexOf('### Key-set health'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README has no js block under "Key-set health"');
  return match[1]!;
}

function appWithRecipe(gate: TokenGate): express.Express {
  const app = express();
  new Function('app', 'gate', recipe())(app, gate);
  return app;
}

describe('README /healthz recipe', () => {
  test('answers 200 with fresh keys once it fetched them', async () => {
    const issuer = await createTestIssuer({ audience: AUDIENCE });
    try {
      const res = await request(appWithRecipe(createTokenGate(issuer.options)))
        .get('/healthz')
        .expect(200);
      expect(res.body).toMatchObject({
        ready: true,
        keys: { state: 'fresh', source: 'jwks', keyIds: [issuer.kid], failures: 0 },
      });
      expect(issuer.jwksHits).toBe(1);
    } finally {
      await issuer.close();
    }
  });

  test('answers 503 with the error when the issuer cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const gate = createTokenGate({ audience: AUDIENCE, jwksUri: `http://127.0.0.1:${port}/jwks.json`, logger: false });
    const res = await request(appWithRecipe(gate)).get('/healthz').expect(503);
    expect(res.body).toMatchObject({
      ready: false,
      keys: { state: 'failing', failures: 1, lastError: { message: expect.stringMatching(/ECONNREFUSED/) } },
    });
  });
});
