/**
 * A key set that cannot be fetched says why: the 503 carries the failure as `err.cause`, and the
 * first failure is written through the `logger` option (default `console.warn`) without any wiring.
 */
import express from 'express';
import request from 'supertest';
import {
  authErrorHandler,
  createTokenGate,
  KeySetUnavailableError,
  OptionsError,
  type TokenGateOptions,
} from '../../lib';
import { keySetWarner, WARN_EVERY_MS } from '../../lib/jwks/warn';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { AUDIENCE } from '../helpers/fixtures';
import { startJwksServer } from '../helpers/jwks-server';
import { closedPort } from '../helpers/net';

let issuer: TestIssuer;
let token: string;
let port: number;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  token = await issuer.sign();
  port = await closedPort();
});
afterAll(() => issuer.close());

let unique = 0;
/** Options whose JWKS URI refuses connections; a new path each time, so no key set is shared by accident. */
function downOptions(extra: Partial<TokenGateOptions> = {}): TokenGateOptions {
  unique += 1;
  return { ...issuer.options, jwksUri: `http://127.0.0.1:${port}/jwks-${unique}.json`, ...extra };
}

/** GET /me through a gate built from `options`; resolves to the error the gate passed on. */
async function errorOf(options: TokenGateOptions): Promise<unknown> {
  let caught: unknown;
  const app = express();
  app.get('/me', createTokenGate(options).requireAuth(), (_req, res) => res.send('ok'));
  app.use((err: unknown, _req: express.Request, _res: express.Response, next: express.NextFunction) => {
    caught = err;
    next(err);
  });
  app.use(authErrorHandler());
  const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
  expect(res.status).toBe(503);
  return caught;
}

describe('the 503 carries why the key set could not be fetched', () => {
  test('err.cause names the connection failure', async () => {
    const err = await errorOf(downOptions({ logger: false }));
    expect(err).toBeInstanceOf(KeySetUnavailableError);
    expect((err as KeySetUnavailableError).cause).toBeInstanceOf(Error);
    expect(((err as KeySetUnavailableError).cause as Error).message).toMatch(/^fetch failed \(ECONNREFUSED\)/);
  });

  test('err.cause names an HTTP failure of the issuer', async () => {
    const server = await startJwksServer();
    server.answer = 'error';
    try {
      const err = (await errorOf({ ...issuer.options, jwksUri: server.uri, logger: false })) as KeySetUnavailableError;
      expect((err.cause as Error).message).toBe('HTTP 500');
    } finally {
      await server.close();
    }
  });

  test('the cause stays on the server: the client sees only the short description', async () => {
    const app = express();
    app.get('/me', createTokenGate(downOptions({ logger: false })).requireAuth(), (_req, res) => res.send('ok'));
    app.use(authErrorHandler());
    const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The issuer key set cannot be fetched and no usable key is cached',
      reason: 'jwks_unavailable',
    });
    expect(res.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });
});

describe('the logger option reports a key set that cannot be fetched', () => {
  let warn: jest.SpiedFunction<typeof console.warn>;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  test('by default, one line through console.warn names the URI and the failure', async () => {
    const options = downOptions();
    await errorOf(options);
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0]![0]);
    expect(line).toContain(`cannot fetch the key set ${options.jwksUri}: fetch failed (ECONNREFUSED)`);
    expect(line).toContain('logger: false');
    expect(line).not.toContain('\n');
  });

  test('logger: false writes nothing', async () => {
    await errorOf(downOptions({ logger: false }));
    expect(warn).not.toHaveBeenCalled();
  });

  test('a function or an object with warn receives the line instead of the console', async () => {
    const lines: string[] = [];
    await errorOf(downOptions({ logger: (line) => lines.push(line) }));
    const logger = { warn: (line: string) => lines.push(`object: ${line}`) };
    await errorOf(downOptions({ logger }));
    expect(lines).toEqual([
      expect.stringMatching(/^express-token-gate: cannot fetch/),
      expect.stringMatching(/^object: express-token-gate: cannot fetch/),
    ]);
    expect(warn).not.toHaveBeenCalled();
  });

  test('gates sharing a key set and a logger report a failure once, not once per gate', async () => {
    const lines: string[] = [];
    const logger = (line: string) => lines.push(line);
    const options = downOptions({ logger });
    const app = express();
    for (let i = 0; i < 5; i += 1)
      app.get(`/r${i}`, createTokenGate({ ...options }).requireAuth(), (_req, res) => res.send('ok'));
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) => request(app).get(`/r${i}`).set('Authorization', `Bearer ${token}`).expect(503)),
    );
    expect(lines).toHaveLength(1);
  });

  test('a logger that throws changes nothing: the request still gets its 503', async () => {
    const err = await errorOf(
      downOptions({
        logger: () => {
          throw new Error('broken logger');
        },
      }),
    );
    expect(err).toBeInstanceOf(KeySetUnavailableError);
  });

  test.each([
    ['a string', 'console'],
    ['true', true],
    ['an object without warn', { log: () => undefined }],
  ])('logger as %s throws at startup', (_name, logger) => {
    expect(() => createTokenGate({ ...issuer.options, logger } as unknown as TokenGateOptions)).toThrow(OptionsError);
    expect(() => createTokenGate({ ...issuer.options, logger } as unknown as TokenGateOptions)).toThrow(
      /"logger" must be false, a function or an object with a warn method/,
    );
  });
});

describe('warnings are rate-limited while a key set keeps failing', () => {
  const uri = 'https://issuer.example/jwks.json';
  const failed = { type: 'failed', uri, error: 'HTTP 502', retryInMs: 4_000 } as const;

  test('one line for the first failure, then at most one per interval, counting the ones left out', () => {
    let now = 1_000_000;
    const lines: string[] = [];
    const warner = keySetWarner(
      (line) => lines.push(line),
      () => now,
    );
    for (let i = 0; i < 50; i += 1) warner(failed);
    expect(lines).toHaveLength(1);
    now += WARN_EVERY_MS - 1;
    warner(failed);
    expect(lines).toHaveLength(1);
    now += 1;
    warner(failed);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('(50 more failures since the last warning)');
  });

  test('a fetch after failures says so once; the next outage warns at once again', () => {
    const lines: string[] = [];
    const warner = keySetWarner(
      (line) => lines.push(line),
      () => 0,
    );
    warner({ type: 'fetched', uri, keys: 2, skipped: 0 });
    expect(lines).toEqual([]);
    warner(failed);
    warner({ type: 'fetched', uri, keys: 2, skipped: 0 });
    warner({ type: 'fetched', uri, keys: 2, skipped: 0 });
    warner(failed);
    expect(lines).toEqual([
      expect.stringContaining('cannot fetch'),
      `express-token-gate: key set ${uri} fetched again (2 keys)`,
      expect.stringContaining('cannot fetch'),
    ]);
  });
});
