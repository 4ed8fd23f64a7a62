/**
 * The `wallet` option over real HTTP: the recipes of docs/other-issuers.md for Dynamic, thirdweb and
 * Sign-In with Ethereum (read from the page itself) against tokens shaped as those services document them,
 * signed by keys made here and trusted as static keys; and the startup rule that `requireTokens`
 * on such tokens needs live ownership.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import {
  authErrorHandler,
  createTokenGate,
  OptionsError,
  type OwnershipResolver,
  type TokenGateOptions,
} from '../../lib';
import { readDoc } from '../helpers/docs';
import { APES_CONTRACT, OTHER_WALLET, WALLET } from '../helpers/fixtures';

const page = readDoc('docs/other-issuers.md');
const SOLANA = '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU';

/** The page's `const <name> = …;` recipe, evaluated: what the page shows is what runs here. */
function recipe(name: string): (claims: Record<string, unknown>) => unknown {
  const block = new RegExp('```js\\n(const ' + name + ' =[\\s\\S]*?)```').exec(page)?.[1];
  if (block === undefined) throw new Error(`docs/other-issuers.md has no recipe ${name}`);
  return new Function(`${block}\nreturn ${name};`)() as (claims: Record<string, unknown>) => unknown;
}

interface Signer {
  jwks: { keys: JWK[] };
  sign(claims: Record<string, unknown>): Promise<string>;
}

async function signer(alg: 'RS256' | 'ES256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    jwks: { keys: [jwk] },
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(privateKey),
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A resolver answering from a table of balances: the wallets that hold one ape. */
function holders(...wallets: string[]): OwnershipResolver {
  const held = new Set(wallets.map((w) => w.toLowerCase()));
  return {
    name: 'table',
    resolve: async ({ walletAddress }) => ({ balance: held.has(walletAddress.toLowerCase()) ? '1' : '0' }),
  };
}

/** An Express app with /me (requireAuth), /apes (requireTokens(APES_CONTRACT)) where the gate allows it. */
function appFor(options: TokenGateOptions, apes = true) {
  const gate = createTokenGate({ logger: false, ...options });
  const app = express();
  const answer = (req: express.Request, res: express.Response) =>
    res.json(req.wallet ? { ...req.wallet, token: undefined } : null);
  app.get('/me', gate.requireAuth(), answer);
  if (apes) app.get('/apes', gate.requireTokens(APES_CONTRACT), answer);
  app.use(authErrorHandler());
  return { app, gate };
}

const get = (app: express.Express, route: string, token: string) =>
  request(app).get(route).set('Authorization', `Bearer ${token}`);

describe('Dynamic: the blockchain entry of verified_credentials', () => {
  const ENV = '2762a57b-faa4-41ce-9f16-abff9300e2c9';
  const ISS = `app.dynamicauth.com/${ENV}`;
  const AUD = 'https://app.example.com';
  let keys: Signer;
  beforeAll(async () => {
    keys = await signer('RS256');
  });

  /** A Dynamic JWT as its docs show one, with `credentials` as its verified_credentials. */
  const dynamicToken = (credentials: unknown[], extra: Record<string, unknown> = {}) =>
    keys.sign({
      kid: ENV,
      aud: AUD,
      iss: ISS,
      sub: '6b9b0bfc-8b59-4a4c-a25c-9c2b1c6f2d1e',
      sid: '1b6e55b5-5b4e-4c6e-9f3e-1f8d3b2c4a5e',
      environment_id: ENV,
      lists: [],
      missing_fields: [],
      verified_credentials: credentials,
      last_verified_credential_id: 'cred-wallet-1',
      first_visit: '2026-01-10T09:00:00.000Z',
      last_visit: '2026-12-01T09:00:00.000Z',
      new_user: false,
      metadata: {},
      iat: now(),
      exp: now() + 3600,
      ...extra,
    });
  const evmCredential = (id: string, address: string) => ({
    address,
    chain: 'eip155',
    id,
    name_service: {},
    public_identifier: address,
    wallet_name: 'metamask',
    wallet_provider: 'browserExtension',
    format: 'blockchain',
  });
  const email = {
    email: 'holder@example.com',
    id: 'cred-email',
    public_identifier: 'holder@example.com',
    format: 'email',
  };
  const options = (): TokenGateOptions => ({
    issuer: ISS,
    audience: AUD,
    keys: keys.jwks,
    algorithms: ['RS256'],
    wallet: recipe('dynamicWallet') as TokenGateOptions['wallet'],
    revalidate: { resolver: holders(WALLET) },
  });

  // [case, credentials, status, address or reason]
  const table: Array<[string, () => unknown[], number, string]> = [
    ['one EVM wallet and an email', () => [evmCredential('cred-wallet-1', WALLET), email], 200, WALLET.toLowerCase()],
    [
      'the last verified of two wallets',
      () => [evmCredential('cred-wallet-0', OTHER_WALLET), evmCredential('cred-wallet-1', WALLET)],
      200,
      WALLET.toLowerCase(),
    ],
    [
      'one wallet that is not the last verified credential',
      () => [email, evmCredential('cred-wallet-9', WALLET)],
      200,
      WALLET.toLowerCase(),
    ],
    ['a Solana wallet', () => [{ ...evmCredential('cred-wallet-1', SOLANA), chain: 'solana' }], 200, SOLANA],
    ['an email only', () => [email], 401, 'The token names no wallet the wallet option could read'],
    ['no credentials', () => [], 401, 'The token names no wallet the wallet option could read'],
    [
      'two wallets, neither the last verified',
      () => [evmCredential('a', WALLET), evmCredential('b', OTHER_WALLET)],
      401,
      'The token names no wallet the wallet option could read',
    ],
    [
      'a chain the recipe does not map',
      () => [{ ...evmCredential('cred-wallet-1', WALLET), chain: 'flow' }],
      401,
      'The token names no wallet the wallet option could read',
    ],
    [
      'a malformed address',
      () => [evmCredential('cred-wallet-1', '0x12345')],
      401,
      "The wallet's address is not a 0x-prefixed 40-digit hex address (chain ethereum)",
    ],
  ];
  test.each(table)('%s', async (_case, credentials, status, expected) => {
    const { app } = appFor(options());
    const res = await get(app, '/me', await dynamicToken(credentials()));
    expect(res.status).toBe(status);
    if (status === 200)
      expect(res.body).toMatchObject({ address: expected, displayAddress: expect.any(String), network: 'mainnet' });
    else expect(res.body).toEqual({ error: 'invalid_token', reason: 'claim_invalid', error_description: expected });
  });

  test('requireTokens decides on live holdings: the holder passes, another wallet gets a 403', async () => {
    const { app } = appFor(options());
    const holder = await get(app, '/apes', await dynamicToken([evmCredential('cred-wallet-1', WALLET)]));
    const other = await get(app, '/apes', await dynamicToken([evmCredential('cred-wallet-1', OTHER_WALLET)]));
    expect([holder.status, holder.body.chain, other.status, other.body.reason]).toEqual([
      200,
      'ethereum',
      403,
      'insufficient_balance',
    ]);
  });

  test("balances a token claims prove nothing: the resolver's answer decides, and they are not in the claims", async () => {
    const { app } = appFor(options());
    const res = await get(
      app,
      '/apes',
      await dynamicToken([evmCredential('cred-wallet-1', OTHER_WALLET)], {
        tokenBalances: { contractAddress: { [APES_CONTRACT]: '100' } },
      }),
    );
    expect(res.status).toBe(403);
    const me = await get(
      app,
      '/me',
      await dynamicToken([evmCredential('cred-wallet-1', OTHER_WALLET)], {
        tokenBalances: { contractAddress: { [APES_CONTRACT]: '100' } },
      }),
    );
    expect(me.body.claims).not.toHaveProperty('tokenBalances');
    expect(me.body.claims.verified_credentials).toHaveLength(1);
  });

  test('a token signed by another key is still refused first (401 signature_invalid)', async () => {
    const { app } = appFor(options());
    const forged = await new SignJWT({
      aud: AUD,
      iss: ISS,
      verified_credentials: [evmCredential('cred-wallet-1', WALLET)],
      exp: now() + 60,
    })
      .setProtectedHeader({ alg: 'RS256', kid: keys.jwks.keys[0]!.kid! })
      .sign((await generateKeyPair('RS256')).privateKey);
    const res = await get(app, '/me', forged);
    expect([res.status, res.body.reason]).toEqual([401, 'signature_invalid']);
  });

  test('gate.verify applies the wallet option too', async () => {
    const { gate } = appFor(options(), false);
    const claims = await gate.verify(await dynamicToken([evmCredential('cred-wallet-1', WALLET)]));
    expect([claims.walletAddress, claims.chain, claims.network]).toEqual([WALLET, 'ethereum', 'mainnet']);
  });
});

describe('thirdweb: sub is the address', () => {
  const ADMIN = '0x4444444444444444444444444444444444444444';
  let keys: Signer;
  beforeAll(async () => {
    keys = await signer('ES256');
  });
  const thirdwebToken = (sub: unknown) =>
    keys.sign({
      iss: ADMIN,
      sub,
      aud: 'app.example.com',
      exp: now() + 3600,
      nbf: now(),
      iat: now(),
      jti: randomUUID(),
      ctx: {},
    });
  const options = (): TokenGateOptions => ({
    issuer: ADMIN,
    audience: 'app.example.com',
    keys: keys.jwks,
    wallet: recipe('thirdwebWallet') as TokenGateOptions['wallet'],
  });

  test.each([
    ['a checksummed address', WALLET, 200, WALLET.toLowerCase()],
    ['a lower-case address', WALLET.toLowerCase(), 200, WALLET.toLowerCase()],
    [
      'a sub that is no address',
      'user-42',
      401,
      "The wallet's address is not a 0x-prefixed 40-digit hex address (chain ethereum)",
    ],
    ['no sub', undefined, 401, 'The token names no wallet the wallet option could read'],
  ])('%s', async (_case, sub, status, expected) => {
    const { app } = appFor(options(), false);
    const res = await get(app, '/me', await thirdwebToken(sub));
    expect(res.status).toBe(status);
    if (status === 200) expect(res.body).toMatchObject({ address: expected, chain: 'ethereum', network: 'mainnet' });
    else expect(res.body.error_description).toBe(expected);
  });
});

describe('Sign-In with Ethereum: a CAIP-10 sub, or an address and a chainId', () => {
  let keys: Signer;
  beforeAll(async () => {
    keys = await signer('ES256');
  });
  const siweToken = (claims: Record<string, unknown>) =>
    keys.sign({ iss: 'https://login.example.com', aud: 'api.example.com', iat: now(), exp: now() + 3600, ...claims });
  const options = (): TokenGateOptions => ({
    issuer: 'https://login.example.com',
    audience: 'api.example.com',
    keys: keys.jwks,
    wallet: recipe('siweWallet') as TokenGateOptions['wallet'],
  });

  test.each([
    ['sub eip155:1:<address>', { sub: `eip155:1:${WALLET}` }, 200, ['ethereum', 'mainnet']],
    ['sub eip155:137:<address>', { sub: `eip155:137:${WALLET}` }, 200, ['polygon', 'mainnet']],
    ['sub eip155:11155111:<address>', { sub: `eip155:11155111:${WALLET}` }, 200, ['ethereum', 'sepolia']],
    ['an address and chainId 8453', { address: WALLET, chainId: 8453 }, 200, ['base', 'mainnet']],
    ['an address without chainId', { address: WALLET }, 200, ['ethereum', 'mainnet']],
    [
      'sub on a chain id the gate does not know',
      { sub: `eip155:999999:${WALLET}` },
      401,
      "The wallet's chain eip155:999999 is not a chain the gate knows",
    ],
    [
      'sub with a malformed address',
      { sub: 'eip155:1:0xabc' },
      401,
      "The wallet's address is not a 0x-prefixed 40-digit hex address (chain ethereum)",
    ],
    ['neither sub nor address', { sub: 'someone' }, 401, 'The token names no wallet the wallet option could read'],
  ])('%s', async (_case, claims, status, expected) => {
    const { app } = appFor(options(), false);
    const res = await get(app, '/me', await siweToken(claims));
    expect(res.status).toBe(status);
    if (status === 200)
      expect([res.body.address, res.body.chain, res.body.network]).toEqual([
        WALLET.toLowerCase(),
        ...(expected as string[]),
      ]);
    else expect([res.body.reason, res.body.error_description]).toEqual(['claim_invalid', expected]);
  });
});

describe('requireTokens on a gate with wallet needs live ownership', () => {
  let keys: Signer;
  beforeAll(async () => {
    keys = await signer('ES256');
  });
  const base = (): TokenGateOptions => ({
    issuer: 'https://login.example.com',
    audience: 'api.example.com',
    keys: keys.jwks,
    logger: false,
    wallet: (claims) =>
      typeof claims.address === 'string' ? { address: claims.address, chain: 'ethereum' } : undefined,
  });
  const NO_PROOF =
    /option "revalidate" is required for requireTokens on a gate with the wallet option: tokens of other wallet services prove no ownership/;

  // [case, gate options, requireTokens arguments, throws]
  const table: Array<[string, () => TokenGateOptions, unknown[], RegExp | undefined]> = [
    ['a balance, no revalidate', base, [APES_CONTRACT], NO_PROOF],
    [
      'a balance as a requirement object, no revalidate',
      base,
      [{ contractAddress: APES_CONTRACT, minTokenBalance: '2' }],
      NO_PROOF,
    ],
    [
      'a balance, revalidate on the gate',
      () => ({ ...base(), revalidate: { resolver: holders() } }),
      [APES_CONTRACT],
      undefined,
    ],
    [
      'a balance, revalidate on the route only',
      base,
      [APES_CONTRACT, '1', { revalidate: { resolver: holders() } }],
      undefined,
    ],
    [
      'a balance, revalidate on the gate but false on the route',
      () => ({ ...base(), revalidate: { resolver: holders() } }),
      [APES_CONTRACT, '1', { revalidate: false }],
      /option "revalidate" cannot be false on requireTokens of a gate with the wallet option/,
    ],
    ['allowedWallets alone, no revalidate', base, [{ chain: 'ethereum', allowedWallets: [WALLET] }], undefined],
  ];
  test.each(table)('%s', (_case, options, args, throws) => {
    const gate = createTokenGate(options());
    const call = () => (gate.requireTokens as (...a: unknown[]) => unknown)(...args);
    if (throws === undefined) expect(call).not.toThrow();
    else {
      expect(call).toThrow(OptionsError);
      expect(call).toThrow(throws);
    }
  });

  test('without the wallet option, requireTokens needs no revalidate (the token proves its balances)', () => {
    const { wallet: _wallet, ...picket } = base();
    expect(() => createTokenGate(picket).requireTokens(APES_CONTRACT)).not.toThrow();
  });

  test('allowedWallets alone admits the listed wallet and refuses another', async () => {
    const gate = createTokenGate(base());
    const app = express();
    app.get('/club', gate.requireTokens({ chain: 'ethereum', allowedWallets: [WALLET] }), (req, res) =>
      res.json({ address: req.wallet?.address }),
    );
    app.use(authErrorHandler());
    const listed = await get(
      app,
      '/club',
      await keys.sign({ iss: 'https://login.example.com', aud: 'api.example.com', exp: now() + 60, address: WALLET }),
    );
    const other = await get(
      app,
      '/club',
      await keys.sign({
        iss: 'https://login.example.com',
        aud: 'api.example.com',
        exp: now() + 60,
        address: OTHER_WALLET,
      }),
    );
    expect([listed.status, other.status, other.body.reason]).toEqual([200, 403, 'wallet_not_allowed']);
  });

  test('a wallet option that is not a function is refused at startup', () => {
    expect(() => createTokenGate({ ...base(), wallet: 'sub' as never })).toThrow(/option "wallet" must be a function/);
  });
});
