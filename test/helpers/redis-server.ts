/**
 * A real redis-server for the tests: on a free loopback port, with its own temporary data
 * directory, no persistence unless asked for. It can be stopped (with or without saving its data),
 * started again on the same port, and paused (SIGSTOP) to play a Redis that hangs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Runs one command with redis-cli and returns its raw output. */
  cli(...args: string[]): Promise<string>;
  /** Counts of each command Redis executed since the last `CONFIG RESETSTAT` (INFO commandstats). */
  commandCounts(): Promise<Record<string, number>>;
  /** Shuts the server down; `save` writes its data first so that a restart keeps it. */
  stop(options?: { save?: boolean }): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `event` settles or after `ms`, whichever comes first, leaving no timer behind. */
function within(event: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([event, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Starts a redis-server on a free 127.0.0.1 port. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'token-gate-redis-'));
  let child: ChildProcess | undefined;

  const cli = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 5000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout.trim()),
      );
    });

  async function start(): Promise<void> {
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--dbfilename',
        'dump.rdb',
      ],
      { stdio: 'ignore' },
    );
    child = server;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    for (let attempt = 0; attempt < 100; attempt++) {
      if (server.exitCode !== null) break;
      if ((await cli('PING').catch(() => '')) === 'PONG') return;
      await within(exited, 50);
    }
    server.kill('SIGKILL');
    throw new Error(`redis-server did not start on port ${port}`);
  }

  async function stop({ save = false } = {}): Promise<void> {
    const server = child;
    if (server === undefined || server.exitCode !== null) return;
    child = undefined;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGCONT');
    await cli('SHUTDOWN', save ? 'SAVE' : 'NOSAVE').catch(() => {});
    await within(exited, 3000);
    if (server.exitCode === null) {
      server.kill('SIGKILL');
      await exited;
    }
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    cli,
    async commandCounts() {
      const counts: Record<string, number> = {};
      for (const line of (await cli('INFO', 'commandstats')).split('\n')) {
        const found = /^cmdstat_([\w|-]+):calls=(\d+)/.exec(line.trim());
        if (found) counts[found[1]!] = Number(found[2]);
      }
      return counts;
    },
    stop,
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
