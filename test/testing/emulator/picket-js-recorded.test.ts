/**
 * The kit answers the requests picket-js 0.0.102 really makes. `fixtures/picket-js-requests.json`
 * holds them as its own bundle sent them (recorded by `fixtures/record-picket-js.mjs`, which says
 * how). Each request is replayed with its recorded path, headers and body, from the recorded page
 * origin; only what a recording cannot carry over is replaced: the nonce (the kit issues its own),
 * the signature over the message picket-js built with it, the message's issuedAt, and access tokens.
 */
import { decodeJwt } from 'jose';
import { privateKeyToAccount } from 'viem/accounts';
import { createTestIssuer, type TestIssuer } from '../../../lib/testing';
import { AUDIENCE } from '../../helpers/fixtures';
import recording from './fixtures/picket-js-requests.json';

interface RecordedRequest {
  method: string;
  path: string;
  headers: { 'content-type'?: string; authorization?: string };
  body?: string;
}
interface Scenario {
  name: string;
  call: string;
  requests: RecordedRequest[];
  signedMessages: string[];
}
const scenarios = recording.scenarios as Scenario[];
const scenario = (name: string) => scenarios.find((s) => s.name === name)!;

const APES = '0xbc4ca0eda7647a8ab7c2061c2e118a18a936f13d';
/** The recording's wallet (its key is in record-picket-js.mjs). */
const wallet = privateKeyToAccount(`0x${'42'.repeat(32)}`);

let siwe: TestIssuer;
let simple: TestIssuer;
beforeAll(async () => {
  const login = { statement: recording.statement };
  siwe = await createTestIssuer({ audience: AUDIENCE, login });
  simple = await createTestIssuer({ audience: AUDIENCE, login: { ...login, format: 'simple' } });
  for (const issuer of [siwe, simple]) issuer.setBalances(wallet.address, { [APES]: '2' });
});
afterAll(async () => {
  await siwe.close();
  await simple.close();
});

interface Replayed {
  request: RecordedRequest;
  status: number;
  body: Record<string, unknown>;
  allowOrigin: string | null;
}

/**
 * Replays a scenario against `issuer`. `accessToken` replaces the recorded placeholder token; the
 * token an `/auth` answers replaces it for the requests after it.
 */
async function replay(issuer: TestIssuer, { requests, signedMessages }: Scenario, accessToken?: string) {
  const answers: Replayed[] = [];
  let nonce: string | undefined;
  let token = accessToken;
  for (const request of requests) {
    let body = request.body;
    if (body !== undefined) {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      if (request.path === '/auth') {
        const issuedAt = new Date().toISOString();
        const context = parsed.context as { issuedAt: string };
        const message = signedMessages[0]!.replace(recording.nonce, nonce!).replace(context.issuedAt, issuedAt);
        context.issuedAt = issuedAt;
        parsed.signature = await wallet.signMessage({ message });
      }
      if (parsed.accessToken !== undefined) parsed.accessToken = token;
      body = JSON.stringify(parsed);
    }
    const headers: Record<string, string> = { Origin: recording.page };
    for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = value;
    const response = await fetch(`${issuer.apiUrl}${request.path}`, { method: request.method, headers, body });
    const answer = (await response.json()) as Record<string, unknown>;
    answers.push({
      request,
      status: response.status,
      body: answer,
      allowOrigin: response.headers.get('access-control-allow-origin'),
    });
    if (request.path === '/auth/nonce') nonce = answer.nonce as string;
    if (request.path === '/auth' && response.status === 200) token = answer.accessToken as string;
  }
  return answers;
}

/** `/auth`'s answer as picket-js reads it: `{ accessToken, user }`, the user's fields from the token. */
function expectAuthState(answer: Replayed) {
  expect(answer.status).toBe(200);
  expect(answer.allowOrigin).toBe(recording.page);
  const { accessToken, user } = answer.body as { accessToken: string; user: Record<string, unknown> };
  const claims = decodeJwt(accessToken);
  expect(claims).toMatchObject({ walletAddress: wallet.address, aud: AUDIENCE });
  expect(user).toMatchObject({ chain: 'ethereum', walletAddress: wallet.address, displayAddress: wallet.address });
  for (const field of Object.keys(user)) expect(user[field]).toEqual(claims[field]);
  return { accessToken, user };
}

test('the recording is of picket-js 0.0.102 and its wallet is the one replayed', () => {
  expect(recording.recorded).toContain('@picketapi/picket-js 0.0.102');
  expect(wallet.address).toBe(recording.walletAddress);
});

describe('login as picket-js sends it', () => {
  test.each([
    ['login', () => siwe],
    ['login, trusted wallet provider', () => siwe],
    ['login, simple format', () => simple],
  ])('%s: requirements {} mean none, and the wallet is signed in', async (name, issuer) => {
    const recorded = scenario(name);
    expect(JSON.parse(recorded.requests.at(-1)!.body!).requirements).toEqual({});
    const [chain, nonce, auth] = await replay(issuer(), recorded);
    expect(chain).toMatchObject({ status: 200, body: { chainSlug: 'ethereum', chainId: 1, chainType: 'ethereum' } });
    expect(nonce).toMatchObject({ status: 200, body: { nonce: expect.any(String), statement: recording.statement } });
    const { user } = expectAuthState(auth!);
    expect(user.tokenBalances).toBeUndefined();
  });

  test('login with requirements: the balances are proven where picket-js looks them up', async () => {
    const [, , auth] = await replay(siwe, scenario('login, requirements'));
    const { user } = expectAuthState(auth!);
    // Picket.meetsAuthRequirements reads user.tokenBalances.contractAddress[requirements.contractAddress].
    expect(user.tokenBalances).toEqual({ contractAddress: { [APES]: '2' } });
  });

  test('the nonce answer carries the format picket-js builds its message from', async () => {
    const [, siweNonce] = await replay(siwe, {
      ...scenario('login'),
      requests: scenario('login').requests.slice(0, 2),
    });
    const [, simpleNonce] = await replay(simple, {
      ...scenario('login, simple format'),
      requests: scenario('login, simple format').requests.slice(0, 2),
    });
    expect(siweNonce!.body.format).toBe('siwe');
    expect(simpleNonce!.body.format).toBe('simple');
  });
});

describe('authz as picket-js sends it', () => {
  test('requirements it proves: 200 with { accessToken, user } proving them', async () => {
    const [answer] = await replay(siwe, scenario('authz'), await siwe.sign({ walletAddress: wallet.address }));
    const { user } = expectAuthState(answer!);
    expect(user.tokenBalances).toEqual({ contractAddress: { [APES]: '2' } });
  });

  test('revalidate: true, the balance table decides', async () => {
    const [answer] = await replay(
      siwe,
      scenario('authz, revalidate'),
      await siwe.sign({ walletAddress: wallet.address }),
    );
    expectAuthState(answer!);
  });

  test('requirements {} prove nothing new: the token is answered as it is', async () => {
    const token = await siwe.sign({ walletAddress: wallet.address });
    const [answer] = await replay(siwe, scenario('authz, no requirements'), token);
    expect(expectAuthState(answer!).accessToken).toBe(token);
  });

  test('requirements {} with revalidate (isCurrentUserAuthorized): 200, a token re-proven from the table', async () => {
    const token = await siwe.sign({ walletAddress: wallet.address });
    const [answer] = await replay(siwe, scenario('authz, no requirements, revalidate'), token);
    expectAuthState(answer!);
  });
});

describe('validate as picket-js sends it', () => {
  test.each(['validate', 'page reload'])('%s: 200 with the token payload', async (name) => {
    const token = await siwe.sign({ walletAddress: wallet.address });
    const [answer] = await replay(siwe, scenario(name), token);
    expect(answer).toMatchObject({ status: 200, allowOrigin: recording.page });
    expect(answer!.body).toEqual(decodeJwt(token));
  });

  test('validate with requirements: 200 for a token that proves them, 403 for one that does not', async () => {
    const proving = await siwe.sign({
      walletAddress: wallet.address,
      tokenBalances: { contractAddress: { [APES]: '1' } },
    });
    expect((await replay(siwe, scenario('validate, requirements'), proving))[0]!.status).toBe(200);
    const bare = await siwe.sign({ walletAddress: wallet.address });
    const [refused] = await replay(siwe, scenario('validate, requirements'), bare);
    expect(refused).toMatchObject({ status: 403, body: { code: 'insufficient_balance' } });
  });

  test('logout sends nothing: picket-js only forgets the stored session', () => {
    expect(scenario('logout').requests).toEqual([]);
  });
});
