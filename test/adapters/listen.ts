/** Serves a Node request listener on 127.0.0.1 as a suite app. */
import http from 'node:http';
import { closeServer, listen } from '../helpers/net';
import { overHttp, type Mounted } from './suite';

export async function serve(listener: http.RequestListener): Promise<Mounted> {
  const server = http.createServer(listener);
  const port = await listen(server);
  return overHttp(`http://127.0.0.1:${port}`, () => closeServer(server));
}
