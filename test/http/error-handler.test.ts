import connect from 'connect';
import express from 'express';
import request from 'supertest';
import {
  authErrorHandler,
  createTokenGate,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  KeySetUnavailableError,
  MissingTokenError,
  OptionsError,
  RequirementsError,
  TokenGateError,
  type TokenGate,
} from '../../lib';
import * as lib from '../../lib';
import { APES_CONTRACT, AUDIENCE } from '../helpers/fixtures';
import { useTestIssuer } from '../helpers/harness';
import { closedPort, rawGet } from '../helpers/net';

const express4 = require('express4') as typeof express;
const env = useTestIssuer();

/** An app with no error handler of ours: Express's default handler answers. */
function defaultHandlerApp(g: TokenGate = env.gate) {
  const app = express();
  app.get('/auth', g.requireAuth(), (_req, res) => res.send('ok'));
  app.get('/apes', g.requireTokens(APES_CONTRACT, '1'), (_req, res) => res.send('ok'));
  return app;
}

describe("the Errors table of docs/errors.md, answered by Express's default handler", () => {
  test('no credentials: 401 with a bare Bearer challenge', async () => {
    const res = await request(defaultHandlerApp()).get('/auth');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  test('malformed header: 400 invalid_request', async () => {
    const res = await request(defaultHandlerApp()).get('/auth').set('Authorization', 'Bearer a b');
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="The Authorization header is not of the form Bearer <token>"',
    );
  });

  test('two Authorization headers: 400 invalid_request', async () => {
    const token = await env.issuer.sign();
    const res = await rawGet(defaultHandlerApp(), '/auth', [
      ['Authorization', `Bearer ${token}`],
      ['Authorization', 'Bearer other'],
    ]);
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="The request has more than one Authorization header"',
    );
  });

  test('bad token: 401 invalid_token', async () => {
    const res = await request(defaultHandlerApp())
      .get('/auth')
      .set('Authorization', `Bearer ${await env.issuer.sign({ aud: 'x' })}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token is meant for another audience"',
    );
  });

  test('ownership not met: 403 insufficient_scope', async () => {
    const res = await request(defaultHandlerApp())
      .get('/apes')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The token does not prove the required balance"',
    );
  });

  test('key set unreachable with no cached key: 503 with Retry-After and no challenge', async () => {
    const port = await closedPort();
    const down = createTokenGate({
      ...env.issuer.options,
      jwksUri: `http://127.0.0.1:${port}/jwks.json`,
      logger: false,
    });
    const res = await request(defaultHandlerApp(down))
      .get('/auth')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['www-authenticate']).toBeUndefined();
  });
});

describe('authErrorHandler', () => {
  test('renders { error, error_description, reason } with the same status and headers', async () => {
    const app = defaultHandlerApp();
    app.use(authErrorHandler());
    const res = await request(app)
      .get('/auth')
      .set('Authorization', `Bearer ${await env.issuer.sign({ iss: 'other' })}`);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="The token was issued by another issuer"',
    );
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: 'The token was issued by another issuer',
      reason: 'issuer_mismatch',
    });
  });

  test('passes errors that are not its own to the next handler', async () => {
    const app = express();
    app.get('/boom', () => {
      throw new Error('not ours');
    });
    app.use(authErrorHandler());
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(599).json({ seen: err.message });
    });
    const res = await request(app).get('/boom');
    expect(res.status).toBe(599);
    expect(res.body).toEqual({ seen: 'not ours' });
  });

  test('renders the 503 as JSON too', async () => {
    const port = await closedPort();
    const app = defaultHandlerApp(
      createTokenGate({ ...env.issuer.options, jwksUri: `http://127.0.0.1:${port}/k`, logger: false }),
    );
    app.use(authErrorHandler());
    const res = await request(app)
      .get('/auth')
      .set('Authorization', `Bearer ${await env.issuer.sign()}`);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'temporarily_unavailable', reason: 'jwks_unavailable' });
  });
});

describe('realm option', () => {
  test('names the realm in every challenge', async () => {
    const g = createTokenGate({ ...env.issuer.options, realm: 'nft-api' });
    const missing = await request(defaultHandlerApp(g)).get('/auth');
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="nft-api"');
    const bad = await request(defaultHandlerApp(g)).get('/auth').set('Authorization', 'Bearer x.y.z');
    expect(bad.headers['www-authenticate']).toMatch(/^Bearer realm="nft-api", error="invalid_token"/);
  });
});

describe('error classes', () => {
  test.each([
    [new InvalidRequestError('header_malformed', 'd'), 400, 'invalid_request'],
    [new MissingTokenError(), 401, 'unauthorized'],
    [new InvalidTokenError('token_expired', 'd'), 401, 'invalid_token'],
    [
      new InsufficientScopeError('insufficient_balance', 'd', { chain: 'ethereum', minTokenBalance: '1' }),
      403,
      'insufficient_scope',
    ],
    [new KeySetUnavailableError('d', 30), 503, 'temporarily_unavailable'],
  ])('%p has status, code, reason, headers and expose', (error, status, code) => {
    expect(error).toBeInstanceOf(TokenGateError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ status, statusCode: status, code, expose: true });
    expect(typeof error.reason).toBe('string');
    expect(typeof error.headers).toBe('object');
  });

  test('every error class is named as it is exported, so err.name finds the export', () => {
    const made: Record<string, Error> = {
      TokenGateError: new TokenGateError(401, 'invalid_token', 'token_expired', 'd'),
      InvalidRequestError: new InvalidRequestError('header_malformed', 'd'),
      MissingTokenError: new MissingTokenError(),
      InvalidTokenError: new InvalidTokenError('token_expired', 'd'),
      InsufficientScopeError: new InsufficientScopeError('insufficient_balance', 'd', {
        chain: 'ethereum',
        minTokenBalance: '1',
      }),
      KeySetUnavailableError: new KeySetUnavailableError('d', 30),
      OptionsError: new OptionsError('audience', 'is required'),
      RequirementsError: new RequirementsError('chain', 'is required'),
    };
    for (const [exported, error] of Object.entries(made)) {
      expect({ exported, name: error.name }).toEqual({ exported, name: exported });
      expect(lib[exported as keyof typeof lib]).toBe(error.constructor);
    }
  });

  test('every error class among the exports carries its export name', () => {
    const classes = (Object.entries(lib) as [string, unknown][]).filter(
      (entry): entry is [string, new (...args: unknown[]) => Error] =>
        typeof entry[1] === 'function' && (entry[1] as { prototype?: unknown }).prototype instanceof Error,
    );
    expect(classes.map(([exported]) => exported).sort()).toEqual([
      'ClaimCheckError',
      'InsufficientScopeError',
      'InvalidRequestError',
      'InvalidTokenError',
      'KeySetUnavailableError',
      'MissingTokenError',
      'OptionsError',
      'OwnershipUnavailableError',
      'RequirementsError',
      'ResolverError',
      'RevocationUnavailableError',
      'TokenGateError',
      'UnsupportedRequirementError',
    ]);
    for (const [exported, ErrorClass] of classes) {
      const error = new ErrorClass('x', 'y', 1, 'z');
      expect({ exported, name: error.name }).toEqual({ exported, name: exported });
    }
  });

  test('each class accepts only the reasons of its own answer (the compiler checks)', () => {
    const requirements = { chain: 'ethereum', minTokenBalance: '1' };
    // @ts-expect-error a 403 reason is not a 401 one
    expect(new InvalidTokenError('insufficient_balance', 'd').status).toBe(401);
    // @ts-expect-error a 401 reason is not a 403 one
    expect(new InsufficientScopeError('token_expired', 'd', requirements).status).toBe(403);
    // @ts-expect-error a 401 reason is not a 400 one
    expect(new InvalidRequestError('token_expired', 'd').status).toBe(400);
  });

  test('rejections carry no stack trace, and building one leaves Error.stackTraceLimit as it was', () => {
    const before = Error.stackTraceLimit;
    const error = new InvalidTokenError('token_expired', 'The token has expired');
    expect(error.stack).toBe('InvalidTokenError: The token has expired');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('ordinary').stack!.split('\n').length).toBeGreaterThan(1);
  });

  test('descriptions are reduced to the characters RFC 6750 allows in a quoted string', () => {
    const error = new InvalidTokenError('token_malformed', 'bad "quoted" \\ text\nwith é');
    expect(error.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="bad quoted  textwith "',
    );
  });
});

describe('logging: the default final handlers of Express 4, Express 5 and Connect log every rejection, authErrorHandler() logs none', () => {
  const gate = createTokenGate({ audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' });
  /** Connect reads NODE_ENV once, when it is loaded: a copy loaded outside NODE_ENV=test. */
  const connectInProduction = (): typeof connect => {
    const saved = process.env.NODE_ENV;
    let loaded: typeof connect | undefined;
    try {
      process.env.NODE_ENV = 'production';
      jest.isolateModules(() => {
        loaded = require('connect') as typeof connect;
      });
    } finally {
      process.env.NODE_ENV = saved;
    }
    return loaded!;
  };
  const apps = {
    'Express 5': () => express().set('env', 'production'),
    'Express 4': () => express4().set('env', 'production'),
    Connect: () => connectInProduction()(),
  };

  async function logged(framework: keyof typeof apps, withHandler: boolean): Promise<unknown[]> {
    const app = apps[framework]() as unknown as connect.Server;
    app.use('/me', gate.requireAuth() as connect.NextHandleFunction);
    if (withHandler) app.use(authErrorHandler() as unknown as connect.ErrorHandleFunction);
    const lines: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => lines.push(args);
    try {
      const res = await request(app).get('/me');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      // finalhandler logs after the response, on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      console.error = original;
    }
    return lines;
  }

  test.each([
    ['Express 5', 'without', 1],
    ['Express 4', 'without', 1],
    ['Connect', 'without', 1],
    ['Express 5', 'with', 0],
    ['Express 4', 'with', 0],
    ['Connect', 'with', 0],
  ] as const)(
    '%s %s authErrorHandler(): the 401 is right and console.error gets %i lines',
    async (framework, handler, count) => {
      expect(await logged(framework, handler === 'with')).toHaveLength(count);
    },
  );
});
