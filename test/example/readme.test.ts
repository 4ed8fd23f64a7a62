/**
 * The README's first sections, held to what the code does: the commands exist, the printed lines
 * are the ones `npm start` prints; and the snippets of docs/testing.md are the example's test and
 * Jest config, which are run here as a user would run them.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { blocks, readDoc, section as sectionOf } from '../helpers/docs';
import { ROOT, assertBuilt, startExample } from './start-example';

const readme = readDoc('README.md');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const section = (heading: string) => sectionOf('README.md', heading);

describe('README first screen', () => {
  test('opens with the title, the two commands, the example and the quick start, in that order', () => {
    const headings = [
      '# express-token-gate\n',
      '\n## Try it in two commands\n',
      '\n## What the example shows\n',
      '\n## Quick start\n',
    ];
    expect(readme.startsWith(headings[0]!)).toBe(true);
    const positions = headings.map((h) => readme.indexOf(h));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test('the two commands are the package scripts that run the example and the tests', () => {
    expect(blocks(section('Try it in two commands'), 'sh')).toEqual(['npm install && npm start\nnpm test\n']);
    const { scripts } = JSON.parse(read('package.json'));
    expect(scripts.start).toBe('exec node scripts/start.js');
    expect(read('scripts/start.js')).toContain("require('../examples/server.js')");
    expect(scripts.test).toBe('npm run typecheck && npm run lint && npm run build && jest');
    expect(scripts.lint).toBe('eslint lib && prettier --check .');
    // The README says so: type-checks, lints (ESLint and Prettier), builds and runs every test.
    expect(section('Try it in two commands')).toContain(
      '`npm test` type-checks, lints (ESLint and Prettier), builds and runs every test',
    );
  });
});

describe('README "What the example shows"', () => {
  test('shows the lines npm start prints, comments and commands alike', async () => {
    const [shown] = blocks(section('What the example shows'), 'console');
    const example = await startExample({ PORT: '0' });
    try {
      const printed = new Set(example.output.split('\n'));
      const lines = shown!.split('\n').filter((l) => l !== '' && !l.startsWith('export '));
      expect(lines.length).toBe(16);
      for (const line of lines) expect({ line, printed: printed.has(line) }).toEqual({ line, printed: true });
      expect(shown).toMatch(/^export API=.*\nexport ISSUER=.*\nexport LOGIN=.*\nexport EXPIRED=.*\n/);
    } finally {
      await example.stop();
    }
  });
});

describe('docs/testing.md "Testing your app"', () => {
  test('embeds examples/app.test.js verbatim, and examples/jest.config.js as the CommonJS TypeScript recipe', () => {
    expect(blocks(sectionOf('docs/testing.md', 'Testing your app'), 'js')[0]).toBe(read('examples/app.test.js'));
    expect(blocks(sectionOf('docs/testing.md', 'CommonJS TypeScript'), 'js')).toEqual([
      read('examples/jest.config.js'),
    ]);
  });

  test('those files pass as a user project would run them, with no open handles', () => {
    assertBuilt();
    const run = spawnSync(
      process.execPath,
      [
        require.resolve('jest/bin/jest'),
        '--config',
        'examples/jest.config.js',
        '--ci',
        '--detectOpenHandles',
        '--colors=false',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 18_000 },
    );
    expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
    expect(run.stderr).toMatch(/Tests: +4 passed, 4 total/);
    expect(run.stderr).not.toMatch(/open handle/i);
  });
});
