/**
 * An HTTP server on 127.0.0.1 that answers every request wrongly, the ways a real RPC node or API
 * does when it is in trouble, and counts the requests.
 */
import { createServer } from 'node:http';
import { closeServer, listen } from './net';

export type Failure =
  | 'hang' // accepts the request and never answers
  | 'error' // 502 with a JSON body
  | 'garbage' // 200 application/json that is not JSON
  | 'wrong-shape' // 200 JSON of the wrong shape
  | 'huge'; // 200 with a *valid* answer padded to 4 MiB, streamed without Content-Length

export interface FailingServer {
  readonly url: string;
  readonly hits: number;
  failure: Failure;
  close(): Promise<void>;
}

/**
 * `validAnswer` builds, from the parsed request body, an answer the client would accept: `huge`
 * pads that answer, so only a size cap stands between it and a grant.
 */
export async function startFailingServer(
  failure: Failure,
  validAnswer: (body: unknown, path: string) => unknown,
): Promise<FailingServer> {
  const state = { hits: 0, failure };
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.hits += 1;
      switch (state.failure) {
        case 'hang':
          return;
        case 'error':
          res.writeHead(502, { 'Content-Type': 'application/json' });
          return void res.end('{"error":"bad gateway"}');
        case 'garbage':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return void res.end('{"jsonrpc":"2.0","result":"0x');
        case 'wrong-shape':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return void res.end('{"allowed":"yes","result":7}');
        case 'huge': {
          const answer = validAnswer(JSON.parse(Buffer.concat(chunks).toString('utf8')), req.url ?? '/');
          const padded = (Array.isArray(answer) ? answer[0] : answer) as Record<string, unknown>;
          padded.padding = 'x'.repeat(4 * 1024 * 1024);
          const text = Buffer.from(JSON.stringify(answer));
          res.writeHead(200, { 'Content-Type': 'application/json' });
          let offset = 0;
          const pump = () => {
            while (offset < text.length && !res.destroyed) {
              const chunk = text.subarray(offset, offset + 65_536);
              offset += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            if (!res.destroyed) res.end();
          };
          return pump();
        }
      }
    });
  });
  const port = await listen(http);
  return {
    url: `http://127.0.0.1:${port}`,
    get hits() {
      return state.hits;
    },
    get failure() {
      return state.failure;
    },
    set failure(value) {
      state.failure = value;
    },
    close: () => closeServer(http),
  };
}
