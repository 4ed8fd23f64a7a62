/** CORS: browser apps on loopback origins may call the emulator by default; `cors.origins` changes who may. */
import { createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { OptionsError } from '../../../lib';
import { AUDIENCE } from '../../helpers/fixtures';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
});
afterAll(() => issuer.close());

const preflight = (target: TestIssuer, origin: string, path = '/api/v1/authz') =>
  fetch(`${target.url}${path}`, {
    method: 'OPTIONS',
    headers: {
      Origin: origin,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type',
    },
  });

describe('by default any origin on a loopback host is allowed', () => {
  test.each(['http://localhost:5173', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'https://app.localhost'])(
    'preflight from %s: 204 with the grant',
    async (origin) => {
      const response = await preflight(issuer, origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
      expect(response.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type');
      expect(response.headers.get('access-control-max-age')).toBe('600');
      expect(response.headers.get('vary')).toBe('Origin');
    },
  );

  test('the answer itself names the origin, errors included', async () => {
    const ok = await fetch(`${issuer.apiUrl}/chains/ethereum`, { headers: { Origin: 'http://localhost:5173' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const refused = await fetch(`${issuer.apiUrl}/auth/validate`, {
      method: 'POST',
      headers: { Origin: 'http://localhost:5173', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  test('another origin gets no grant: the preflight is a 403 origin_not_allowed, answers carry no Allow-Origin', async () => {
    const response = await preflight(issuer, 'https://evil.example');
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.json()).toMatchObject({ code: 'origin_not_allowed', msg: expect.any(String) });
    const answer = await fetch(`${issuer.apiUrl}/chains/ethereum`, { headers: { Origin: 'https://evil.example' } });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('a look-alike of a loopback host is not loopback', async () => {
    for (const origin of ['http://localhost.evil.example', 'http://127.0.0.1.evil.example', 'null']) {
      expect((await preflight(issuer, origin)).status).toBe(403);
    }
  });
});

describe('cors.origins', () => {
  test('a list allows exactly those origins', async () => {
    const listed = await createTestIssuer({ audience: AUDIENCE, cors: { origins: ['https://app.example'] } });
    try {
      expect((await preflight(listed, 'https://app.example')).headers.get('access-control-allow-origin')).toBe(
        'https://app.example',
      );
      expect((await preflight(listed, 'http://localhost:5173')).status).toBe(403);
    } finally {
      await listed.close();
    }
  });

  test("'*' allows any origin", async () => {
    const open = await createTestIssuer({ audience: AUDIENCE, cors: { origins: '*' } });
    try {
      expect((await preflight(open, 'https://anywhere.example')).headers.get('access-control-allow-origin')).toBe(
        'https://anywhere.example',
      );
    } finally {
      await open.close();
    }
  });

  test('an unusable setting throws an OptionsError naming cors.origins at startup', async () => {
    for (const origins of ['https://app.example', ['app.example'], ['https://app.example/path'], [42]]) {
      await expect(createTestIssuer({ audience: AUDIENCE, cors: { origins: origins as never } })).rejects.toThrow(
        OptionsError,
      );
      await expect(createTestIssuer({ audience: AUDIENCE, cors: { origins: origins as never } })).rejects.toThrow(
        '"cors.origins"',
      );
    }
  });
});
