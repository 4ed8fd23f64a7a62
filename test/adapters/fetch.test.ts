/** The shared adapter suite over a bare Request/Response: a Node http server calling `authenticate`. */
import http from 'node:http';
import { authenticate, type AuthenticateOptions } from '../../lib/adapters/fetch';
import { createTokenGate, type TokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { APES_CONTRACT } from '../helpers/fixtures';
import { adapterSuite, claimsCheck, CLAIMS_DESCRIPTION, ROUTES, type Check } from './suite';
import { serve } from './listen';

const OPTIONS: Record<Check, AuthenticateOptions> = {
  requireAuth: {},
  optionalAuth: { optional: true },
  requireTokens: { tokens: { contractAddress: APES_CONTRACT, minTokenBalance: '1' } },
  requireClaims: { claims: { check: claimsCheck, description: CLAIMS_DESCRIPTION } },
};

/** A Node request as a Web Request, each Authorization line appended (as @hono/node-server does). */
function toRequest(req: http.IncomingMessage): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  return new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers });
}

async function handle(gate: TokenGate, request: Request): Promise<Response> {
  const names = ROUTES[new URL(request.url).pathname as keyof typeof ROUTES] ?? [];
  let wallet = null;
  for (const check of names) {
    const result = await authenticate(gate, request, OPTIONS[check]);
    if (result.response) return result.response;
    wallet = result.wallet;
  }
  return Response.json({ address: wallet?.address ?? null });
}

function listener(gate: TokenGate): http.RequestListener {
  return (req, res) => {
    void handle(gate, toRequest(req)).then(async (response) => {
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      res.writeHead(response.status, headers);
      res.end(Buffer.from(await response.arrayBuffer()));
    });
  };
}

adapterSuite('Request/Response', async (gate) => serve(listener(gate)));

describe('authenticate', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ audience: 'adapters-project' });
  });
  afterAll(() => issuer.close());

  test('a rejection carries the TokenGateError beside the Response', async () => {
    const gate = createTokenGate({ ...issuer.options, logger: false });
    const result = await authenticate(gate, new Request('http://127.0.0.1/'));
    expect({ status: result.response?.status, reason: result.error?.reason }).toEqual({
      status: 401,
      reason: 'token_missing',
    });
  });

  test('a gate that is not from createTokenGate is refused', async () => {
    await expect(authenticate({ audience: 'p' }, new Request('http://127.0.0.1/'))).rejects.toThrow(
      /authenticate\(gate, request\) needs a gate made by createTokenGate/,
    );
  });

  test('one of tokens, claims and optional', async () => {
    const gate = createTokenGate({ ...issuer.options, logger: false });
    await expect(
      authenticate(gate, new Request('http://127.0.0.1/'), { optional: true, claims: () => true }),
    ).rejects.toThrow(/one of tokens, claims and optional/);
  });
});
