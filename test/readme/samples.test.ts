/** The README's sample answers are what the middleware sends. */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { APES_CONTRACT } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
const env = useTestIssuer();

describe('README "Incremental authorization"', () => {
  test("the 403 body shown is requireTokens(contractAddress)'s, byte for byte in JSON", async () => {
    const section = readme.slice(readme.indexOf('\n## Incremental authorization\n'));
    const shown = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    expect(section).toContain(`\`requireTokens('${APES_CONTRACT}')\``);
    const res = await request(appWith(env.gate.requireTokens(APES_CONTRACT)))
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(JSON.parse(shown));
  });
});

describe('README "What each answer means"', () => {
  test('the 401 for no credentials: a bare challenge, and the body it names', async () => {
    expect(readme).toContain('**401 with a bare `WWW-Authenticate: Bearer realm="api"`**');
    expect(readme).toContain('the JSON\n  body says `"error":"unauthorized"`, `"reason":"token_missing"`');
    const res = await request(appWith(env.gate.requireAuth())).get('/r');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.body).toMatchObject({ error: 'unauthorized', reason: 'token_missing' });
  });
});
