/**
 * `npm start` stops on the signals a process manager or a terminal sends to the pid it started:
 * SIGINT and SIGTERM to npm's own pid end the example server, whose port then refuses connections.
 * (Run through a shell, `npm run build && node …`, SIGINT was swallowed and SIGTERM left the server
 * running, orphaned and still answering.)
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { ROOT, assertBuilt } from './start-example';

/** Whether something answers HTTP on 127.0.0.1:port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/me', timeout: 5000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

describe.each(['SIGINT', 'SIGTERM'] as const)('npm start, then %s to the pid npm start gives', (signal) => {
  test('stops the server: npm exits and the port no longer answers', async () => {
    assertBuilt();
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PICKET_')));
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...clean, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    let output = '';
    npm.stdout!.setEncoding('utf8');
    const port = await new Promise<number>((resolve, reject) => {
      npm.stdout!.on('data', (text: string) => {
        output += text;
        const match = /Community API listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (match && output.endsWith('\n\n')) resolve(Number(match[1]));
      });
      void exited.then(() => reject(new Error(`npm start exited before listening: ${output}`)));
    });
    expect(await answers(port)).toBe(true);
    npm.kill(signal);
    await exited;
    expect(await answers(port)).toBe(false);
  }, 120_000);
});
