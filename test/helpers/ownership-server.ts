/**
 * A loopback stand-in for the issuer's `tokenOwnership` API, faithful to the shapes of its Node SDK
 * (@picketapi/picket-node 0.0.12): `POST /chains/:chain/wallets/:wallet/tokenOwnership` with
 * `Authorization: Basic base64(secretKey)` and a JSON `{ contractAddress, minTokenBalance, tokenIds }`,
 * answered by `{ allowed, walletAddress, tokenBalance }`. A request of any other shape gets a 400 (a
 * wrong key a 401), so a client that drifts from the SDK fails its tests. It counts and records
 * every request, and can misbehave the ways a real service does.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen } from './net';
import { Decimal } from '../../lib/chain/decimal';

export type OwnershipAnswerMode =
  | 'good'
  | 'hang' // never answers
  | 'error' // 502 with a JSON error body
  | 'garbage' // 200 whose body is not JSON
  | 'wrong-shape' // 200 JSON that is not the answer's shape
  | 'other-wallet' // 200, a well-formed answer about another wallet
  | 'huge'; // 200 with a body far larger than any answer

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface OwnershipServer {
  /** The API base, e.g. `http://127.0.0.1:41234/api/v1`. */
  readonly baseUrl: string;
  /** Requests received on the tokenOwnership path (well-formed or not). */
  readonly calls: number;
  readonly requests: RecordedRequest[];
  answer: OwnershipAnswerMode;
  /** Answers are held this long before being sent (to let concurrent requests pile up). */
  delayMs: number;
  /** Sets what `wallet` holds of `item` (a contract address, or `contract:tokenId`). */
  hold(wallet: string, item: string, balance: string): void;
  close(): Promise<void>;
}

const ROUTE = /^\/api\/v1\/chains\/([a-z][a-z0-9-]*)\/wallets\/([^/]+)\/tokenOwnership$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startOwnershipServer(secretKey: string): Promise<OwnershipServer> {
  const holdings = new Map<string, string>();
  const expectedAuthorization = `Basic ${Buffer.from(secretKey).toString('base64')}`;
  const state = { calls: 0, answer: 'good' as OwnershipAnswerMode, delayMs: 0, requests: [] as RecordedRequest[] };
  const held = (wallet: string, item: string) => holdings.get(`${wallet.toLowerCase()}|${item.toLowerCase()}`);

  function answer(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const route = ROUTE.exec(req.url ?? '');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    state.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    if (req.method !== 'POST' || !route) return send(res, 404, { msg: 'not found' });
    state.calls += 1;
    if (req.headers.authorization !== expectedAuthorization)
      return send(res, 401, { code: 'unauthorized', msg: 'invalid secret key' });
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) return send(res, 400, { msg: 'expected JSON' });
    const { contractAddress, minTokenBalance, tokenIds, ...rest } = (body ?? {}) as Record<string, unknown>;
    const fine =
      typeof contractAddress === 'string' &&
      Object.keys(rest).length === 0 &&
      (minTokenBalance === undefined || typeof minTokenBalance === 'string' || typeof minTokenBalance === 'number') &&
      (tokenIds === undefined || (Array.isArray(tokenIds) && tokenIds.every((id) => typeof id === 'string')));
    if (!fine) return send(res, 400, { msg: 'expected { contractAddress, minTokenBalance?, tokenIds? }' });

    switch (state.answer) {
      case 'hang':
        return;
      case 'error':
        return send(res, 502, { msg: 'upstream unavailable' });
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end('{"allowed": tru');
      case 'wrong-shape':
        return send(res, 200, { allowed: 'yes', tokenBalance: 3 });
      case 'other-wallet':
        return send(res, 200, {
          allowed: true,
          walletAddress: '0x9999999999999999999999999999999999999999',
          tokenBalance: '5',
        });
      case 'huge':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return void res.end(
          JSON.stringify({ allowed: true, walletAddress: route[2], tokenBalance: '1', padding: 'x'.repeat(200_000) }),
        );
      default:
    }
    const wallet = decodeURIComponent(route[2]!);
    const items = (tokenIds as string[] | undefined)?.map((id) => `${contractAddress}:${id}`) ?? [
      contractAddress as string,
    ];
    const balance = items.reduce((sum, item) => sum.plus(held(wallet, item) ?? '0'), new Decimal(0));
    const min = new Decimal(String(minTokenBalance ?? '0'));
    const allowed = min.isZero() ? balance.isGreaterThan(0) : balance.isGreaterThanOrEqualTo(min);
    send(res, 200, { allowed, walletAddress: wallet, tokenBalance: balance.toFixed() });
  }

  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      setTimeout(() => answer(req, res, raw), state.delayMs);
    });
  });
  const port = await listen(http);
  const baseUrl = `http://127.0.0.1:${port}/api/v1`;

  return {
    baseUrl,
    get calls() {
      return state.calls;
    },
    get requests() {
      return state.requests;
    },
    get answer() {
      return state.answer;
    },
    set answer(mode) {
      state.answer = mode;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms) {
      state.delayMs = ms;
    },
    hold(wallet, item, balance) {
      holdings.set(`${wallet.toLowerCase()}|${item.toLowerCase()}`, balance);
    },
    close: () => closeServer(http),
  };
}
