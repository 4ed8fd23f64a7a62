// Prometheus metrics from express-token-gate's diagnostics channels, with prom-client:
//
//   const { Registry } = require('prom-client');
//   const { collectTokenGateMetrics, metricsHandler } = require('./metrics');
//   const register = new Registry();
//   collectTokenGateMetrics(register);
//   app.get('/metrics', metricsHandler(register));
'use strict';
const { subscribe, unsubscribe } = require('node:diagnostics_channel');
const { Counter, Gauge } = require('prom-client');
const { channels } = require('express-token-gate');

/**
 * Registers the gate's metrics on `register` and counts from now on. Returns a function that stops
 * counting (the metrics stay registered).
 */
function collectTokenGateMetrics(register) {
  const registers = [register];
  const decisions = new Counter({
    name: 'token_gate_decisions_total',
    help: 'Requests decided by express-token-gate, by outcome (accepted, anonymous, rejected, error), reason and middleware.',
    labelNames: ['outcome', 'reason', 'source'],
    registers,
  });
  const cacheLookups = new Counter({
    name: 'token_gate_cache_lookups_total',
    help: 'Verified-token cache lookups, by result (hit, miss).',
    labelNames: ['result'],
    registers,
  });
  let hits = 0;
  let lookups = 0;
  new Gauge({
    name: 'token_gate_cache_hit_ratio',
    help: 'Share of cache lookups that found the token since the process started.',
    registers,
    collect() {
      this.set(lookups === 0 ? 0 : hits / lookups);
    },
  });
  const jwksFetches = new Counter({
    name: 'token_gate_jwks_fetches_total',
    help: 'JWKS fetch attempts, successful or not, by key set URL.',
    labelNames: ['uri'],
    registers,
  });
  const jwksFailures = new Counter({
    name: 'token_gate_jwks_failures_total',
    help: 'Failed JWKS fetches, by key set URL.',
    labelNames: ['uri'],
    registers,
  });
  const staleServed = new Counter({
    name: 'token_gate_jwks_stale_served_total',
    help: 'Times keys past their freshness answered a request (once per fetch attempt), by key set URL.',
    labelNames: ['uri'],
    registers,
  });
  const resolverCalls = new Counter({
    name: 'token_gate_ownership_resolver_calls_total',
    help: 'Live-ownership resolver calls (revalidate), by resolver and outcome (answered, failed).',
    labelNames: ['resolver', 'outcome'],
    registers,
  });

  const handlers = {
    [channels.decision]: ({ outcome, reason, source }) => {
      decisions.inc(reason === undefined ? { outcome, source } : { outcome, reason, source });
    },
    [channels.cache]: ({ hit }) => {
      lookups += 1;
      if (hit) hits += 1;
      cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
    },
    [channels.jwks]: (event) => {
      if (event.type === 'fetched' || event.type === 'failed') jwksFetches.inc({ uri: event.uri });
      if (event.type === 'failed') jwksFailures.inc({ uri: event.uri });
      if (event.type === 'stale-served') staleServed.inc({ uri: event.uri });
    },
    [channels.ownership]: ({ resolver, outcome }) => {
      resolverCalls.inc({ resolver, outcome });
    },
  };
  for (const [name, handler] of Object.entries(handlers)) subscribe(name, handler);
  return function stop() {
    for (const [name, handler] of Object.entries(handlers)) unsubscribe(name, handler);
  };
}

/** An Express handler answering the registry in Prometheus' text format. */
function metricsHandler(register) {
  return async (_req, res, next) => {
    try {
      res.set('Content-Type', register.contentType).send(await register.metrics());
    } catch (err) {
      next(err);
    }
  };
}

module.exports = { collectTokenGateMetrics, metricsHandler };
