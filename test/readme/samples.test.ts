/** The sample answers of the README and of docs/incremental-authorization.md are what the middleware sends. */
import request from 'supertest';
import { blocks, readDoc, section } from '../helpers/docs';
import { APES_CONTRACT } from '../helpers/fixtures';
import { appWith, useTestIssuer } from '../helpers/harness';

const readme = readDoc('README.md');
const env = useTestIssuer();

describe('docs/incremental-authorization.md "The flow"', () => {
  test("the 403 body shown is requireTokens(contractAddress)'s, byte for byte in JSON", async () => {
    const flow = section('docs/incremental-authorization.md', 'The flow');
    const [shown] = blocks(flow, 'json');
    expect(flow).toContain(`\`requireTokens('${APES_CONTRACT}')\``);
    const res = await request(appWith(env.gate.requireTokens(APES_CONTRACT)))
      .get('/r')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(JSON.parse(shown!));
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
