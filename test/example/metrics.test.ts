/**
 * examples/metrics.js, scraped over HTTP as Prometheus would: decisions by outcome and reason,
 * cache hits and misses with their ratio, JWKS fetches and failures, resolver calls.
 */
import { channel } from 'node:diagnostics_channel';
import express from 'express';
import request from 'supertest';
import { Registry } from 'prom-client';
import { authErrorHandler, channels, createTokenGate } from '../../lib';
import { createTestIssuer, type TestIssuer } from '../../lib/testing';
import { assertBuilt } from './start-example';
import { AUDIENCE } from '../helpers/fixtures';

// The example loads the built package, as a user's app would.
assertBuilt();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { collectTokenGateMetrics, metricsHandler } = require('../../examples/metrics') as {
  collectTokenGateMetrics(register: Registry): () => void;
  metricsHandler(register: Registry): express.RequestHandler;
};

/** `name{label="v",…} value` lines of a scrape, keyed by name and sorted labels. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '')
      .split(/,(?=[a-z_]+=")/)
      .filter(Boolean)
      .sort()
      .join(',');
    out.set(labels ? `${match[1]}{${labels}}` : match[1]!, Number(match[3]));
  }
  return out;
}

let issuer: TestIssuer;
let register: Registry;
let stop: () => void;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ audience: AUDIENCE });
  register = new Registry();
  stop = collectTokenGateMetrics(register);
  const gate = createTokenGate({ ...issuer.options, jwks: { cooldownMs: 0 }, logger: false });
  app = express();
  app.get('/me', gate.requireAuth(), (_req, res) => res.end());
  app.post('/reload', async (_req, res) => res.json(await gate.keySet.reload()));
  app.get('/metrics', metricsHandler(register));
  app.use(authErrorHandler());
});
afterAll(async () => {
  stop();
  await issuer.close().catch(() => undefined);
});

const scrape = async () =>
  samples(
    (
      await request(app)
        .get('/metrics')
        .expect(200)
        .expect('Content-Type', /text\/plain/)
    ).text,
  );

describe('examples/metrics.js', () => {
  test('counts decisions by outcome and reason, cache hits and JWKS fetches', async () => {
    const token = await issuer.sign();
    await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200); // miss, fetch
    await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200); // hit
    await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${await issuer.sign({}, { expiresIn: -60 })}`)
      .expect(401); // miss
    await request(app).get('/me').expect(401); // no lookup

    const metrics = await scrape();
    expect(metrics.get('token_gate_decisions_total{outcome="accepted",source="requireAuth"}')).toBe(2);
    expect(
      metrics.get('token_gate_decisions_total{outcome="rejected",reason="token_expired",source="requireAuth"}'),
    ).toBe(1);
    expect(
      metrics.get('token_gate_decisions_total{outcome="rejected",reason="token_missing",source="requireAuth"}'),
    ).toBe(1);
    expect(metrics.get('token_gate_cache_lookups_total{result="hit"}')).toBe(1);
    expect(metrics.get('token_gate_cache_lookups_total{result="miss"}')).toBe(2);
    expect(metrics.get('token_gate_cache_hit_ratio')).toBeCloseTo(1 / 3, 10);
    expect(metrics.get(`token_gate_jwks_fetches_total{uri="${issuer.jwksUri}"}`)).toBe(1);
    expect(metrics.get(`token_gate_jwks_failures_total{uri="${issuer.jwksUri}"}`)).toBeUndefined();
  });

  test('counts a failed JWKS fetch as a fetch and a failure', async () => {
    await issuer.close();
    await request(app).post('/reload').expect(200);
    const metrics = await scrape();
    expect(metrics.get(`token_gate_jwks_fetches_total{uri="${issuer.jwksUri}"}`)).toBe(2);
    expect(metrics.get(`token_gate_jwks_failures_total{uri="${issuer.jwksUri}"}`)).toBe(1);
  });

  test('counts resolver calls published on the ownership channel', async () => {
    const ownership = channel(channels.ownership);
    ownership.publish({ resolver: 'evm', outcome: 'answered' });
    ownership.publish({ resolver: 'evm', outcome: 'failed' });
    const metrics = await scrape();
    expect(metrics.get('token_gate_ownership_resolver_calls_total{outcome="answered",resolver="evm"}')).toBe(1);
    expect(metrics.get('token_gate_ownership_resolver_calls_total{outcome="failed",resolver="evm"}')).toBe(1);
  });

  test('stops counting once stopped', async () => {
    stop();
    await request(app).get('/me').expect(401);
    const metrics = await scrape();
    expect(
      metrics.get('token_gate_decisions_total{outcome="rejected",reason="token_missing",source="requireAuth"}'),
    ).toBe(1);
  });
});
