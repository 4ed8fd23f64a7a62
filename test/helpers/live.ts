/** Shared set-up of the live-ownership suites: a test issuer, a loopback tokenOwnership API, apps. */
import request from 'supertest';
import { picketOwnershipResolver, type OwnershipResolver } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { startOwnershipServer, type OwnershipServer } from './ownership-server';
import { APES_CONTRACT, AUDIENCE, WALLET } from './fixtures';

export const SECRET_KEY = 'sk_test_revalidate';

export interface LiveEnv {
  issuer: TestIssuer;
  server: OwnershipServer;
  /** A resolver on `server`. */
  resolver(options?: { timeoutMs?: number }): OwnershipResolver;
  /** A login token: it proves no balance at all. */
  login(wallet?: string): Promise<string>;
  /** A token whose snapshot proves `balance` of APES_CONTRACT. */
  holding(balance: string, wallet?: string): Promise<string>;
}

/** Starts an issuer and an ownership API before the file's tests, closes them after. */
export function useLiveEnv(): LiveEnv {
  const env = {} as LiveEnv;
  beforeAll(async () => {
    env.issuer = await createTestIssuer({ audience: AUDIENCE });
    env.server = await startOwnershipServer(SECRET_KEY);
    env.resolver = (options = {}) =>
      picketOwnershipResolver({ apiKey: SECRET_KEY, baseUrl: env.server.baseUrl, ...options });
    env.login = (wallet = WALLET) => env.issuer.sign({ walletAddress: wallet });
    env.holding = (balance, wallet = WALLET) =>
      env.issuer.sign({ walletAddress: wallet, tokenBalances: { contractAddress: { [APES_CONTRACT]: balance } } });
  });
  afterAll(async () => {
    await env.server.close();
    await env.issuer.close();
  });
  return env;
}

export function get(app: Parameters<typeof request>[0], token: string, path = '/r') {
  return request(app).get(path).set('Authorization', `Bearer ${token}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
