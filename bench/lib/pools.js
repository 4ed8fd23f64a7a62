'use strict';
const os = require('node:os');
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const tokens = require('./tokens');

/** `count` distinct tokens of `kind` ('valid' or 'hostile'), minted on every core. */
async function mint(key, kind, count) {
  const workers = Math.max(1, Math.min(os.availableParallelism(), 4));
  const share = Math.ceil(count / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, i) => {
      const n = Math.max(0, Math.min(share, count - i * share));
      return new Promise((resolve, reject) => {
        const worker = new Worker(path.join(__dirname, 'mint-worker.js'), {
          workerData: { key: tokens.exportKey(key), kind, count: n },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return parts.flat();
}

module.exports = { mint };
