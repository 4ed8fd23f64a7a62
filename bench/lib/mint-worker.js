'use strict';
// Mints part of a token pool in a worker thread, so pools build on every core.
const { parentPort, workerData } = require('node:worker_threads');
const tokens = require('./tokens');

const key = tokens.importKey(workerData.key);
const list =
  workerData.kind === 'valid'
    ? tokens.validTokens(key, workerData.count)
    : tokens.hostileTokens(key.kid, workerData.count);
parentPort.postMessage(list);
