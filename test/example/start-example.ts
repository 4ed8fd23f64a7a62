/** Starts `node examples/server.js` as `npm start` does (after the build) and collects what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');

export interface RunningExample {
  child: ChildProcess;
  /** Everything printed so far on stdout. */
  output: string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number | null>;
}

export function assertBuilt(): void {
  if (!existsSync(path.join(ROOT, 'dist/cjs/index.js')) || !existsSync(path.join(ROOT, 'dist/cjs/testing/index.js'))) {
    throw new Error('The example runs the built package: run `npm run build` (npm test does) first');
  }
}

/**
 * Spawns the example with `env` (PICKET_* removed unless given) and resolves once the printout is
 * complete, i.e. ends with a blank line, or rejects if the process exits first.
 */
export function startExample(env: Record<string, string>): Promise<RunningExample> {
  assertBuilt();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PICKET_')));
  const child = spawn(process.execPath, ['examples/server.js'], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const running: RunningExample = {
    child,
    output: '',
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (text: string) => {
      running.output += text;
      if (running.output.endsWith('\n\n')) resolve(running);
    });
    exited.then((code) =>
      reject(new Error(`examples/server.js exited with ${code} before printing: ${stderr}${running.output}`)),
    );
  });
}
