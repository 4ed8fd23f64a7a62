/**
 * A wallet login over HTTP as picket-js performs it: `/auth/nonce`, the message built exactly as
 * picket-js builds it (test/testing/emulator/picket-js.ts) from the announced format and statement,
 * signed by a viem local account, then `/auth`.
 */
import type { PrivateKeyAccount } from 'viem/accounts';
import { createSigningMessage } from '../testing/emulator/picket-js';

export interface LoginAnswer {
  status: number;
  body: { accessToken?: string; code?: string; reason?: string; [field: string]: unknown };
}

/** POSTs JSON to `${api}${path}`; resolves to the status and the parsed body (`{}` when empty). */
export async function postJson(
  api: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : JSON.parse(text) };
}

/** Logs `account` in at `api` (a SIWE message naming `domain`, chain id 1); resolves to `/auth`'s answer. */
export async function walletLogin(
  api: string,
  account: PrivateKeyAccount,
  { domain = 'localhost:5173', requirements }: { domain?: string; requirements?: unknown } = {},
): Promise<LoginAnswer> {
  const issued = await postJson(api, '/auth/nonce', { chain: 'ethereum', walletAddress: account.address });
  if (issued.status !== 200) throw new Error(`/auth/nonce answered ${issued.status}: ${JSON.stringify(issued.body)}`);
  const { nonce, statement, format } = issued.body as { nonce: string; statement: string; format: 'siwe' | 'simple' };
  const context = {
    domain,
    uri: `http://${domain}`,
    chainId: 1,
    issuedAt: new Date().toISOString(),
    chainType: 'ethereum' as const,
  };
  const message = createSigningMessage({ format, nonce, statement, walletAddress: account.address, ...context });
  const answer = await postJson(api, '/auth', {
    chain: 'ethereum',
    walletAddress: account.address,
    signature: await account.signMessage({ message }),
    context,
    ...(requirements !== undefined && { requirements }),
  });
  return answer as LoginAnswer;
}

/** Logs in and resolves to the access token; throws with the refusal otherwise. */
export async function loginToken(api: string, account: PrivateKeyAccount, domain?: string): Promise<string> {
  const answer = await walletLogin(api, account, { domain });
  if (answer.status !== 200 || typeof answer.body.accessToken !== 'string') {
    throw new Error(`login refused: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.accessToken;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds or `limitMs` (generous) passes; resolves to whether it held. */
export async function eventually(check: () => Promise<boolean>, limitMs = 10_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}
