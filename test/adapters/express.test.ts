/** The shared adapter suite over Express 5 and Connect: the reference answers. */
import http from 'node:http';
import connect from 'connect';
import express from 'express';
import { authErrorHandler, type TokenGate } from '../../lib';
import { APES_CONTRACT } from '../helpers/fixtures';
import { adapterSuite, claimsCheck, CLAIMS_DESCRIPTION, ROUTES, type Check } from './suite';
import { serve } from './listen';

const checks = (gate: TokenGate, names: readonly Check[]) =>
  names.map((check) =>
    check === 'requireTokens'
      ? gate.requireTokens(APES_CONTRACT, '1')
      : check === 'requireClaims'
        ? gate.requireClaims(claimsCheck, CLAIMS_DESCRIPTION)
        : gate[check](),
  );

adapterSuite('Express', async (gate) => {
  const app = express();
  for (const [path, names] of Object.entries(ROUTES))
    app.all(path, ...checks(gate, names), (req, res) => res.json({ address: req.wallet?.address ?? null }));
  app.use(authErrorHandler());
  return serve(app);
});

adapterSuite('Connect', async (gate) => {
  const app = connect();
  for (const [path, names] of Object.entries(ROUTES)) {
    for (const middleware of checks(gate, names)) app.use(path, middleware);
    app.use(path, (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ address: (req as { wallet?: { address: string } }).wallet?.address ?? null }));
    });
  }
  app.use(authErrorHandler());
  return serve(app as unknown as http.RequestListener);
});
