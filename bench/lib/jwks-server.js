'use strict';
// The issuer's JWKS on 127.0.0.1, shared by every target. Each target fetches from its own path
// (/<target>/jwks.json) so fetches can be counted per target; the parent asks for the counts.
const http = require('node:http');

const body = JSON.stringify({ keys: JSON.parse(process.env.BENCH_JWKS_KEYS) });
const fetches = Object.create(null);

const server = http.createServer((req, res) => {
  const match = /^\/([\w-]+)\/jwks\.json$/.exec(req.url);
  if (req.method !== 'GET' || !match) {
    res.writeHead(404).end();
    return;
  }
  fetches[match[1]] = (fetches[match[1]] ?? 0) + 1;
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
  res.end(body);
});

process.on('message', (message) => {
  if (message?.type === 'counts') process.send({ type: 'counts', id: message.id, fetches: { ...fetches } });
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
