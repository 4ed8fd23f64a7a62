/**
 * The README's first sections, held to what the code does: the commands exist, the printed lines
 * are the ones `npm start` prints, and the testing snippets are the example's test and Jest config,
 * which are run here as a user would run them.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, assertBuilt, startExample } from './start-example';

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** The text under `## heading`, up to the next `## `. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}"`);
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next < 0 ? undefined : next);
}

/** The fenced blocks of `lang` in `text`, each with its final newline. */
function blocks(text: string, lang: string): string[] {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

describe('README first screen', () => {
  test('opens with the title, the two commands, the example and testing, in that order', () => {
    const headings = [
      '# express-token-gate\n',
      '\n## Try it in two commands\n',
      '\n## What the example shows\n',
      '\n## Testing your app\n',
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
    expect(scripts.test).toMatch(/npm run build && jest$/);
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

describe('README "Testing your app"', () => {
  test('embeds examples/app.test.js verbatim, and examples/jest.config.js as the CommonJS TypeScript recipe', () => {
    const testing = section('Testing your app');
    expect(blocks(testing, 'js')[0]).toBe(read('examples/app.test.js'));
    const recipe = testing.slice(testing.indexOf('\n#### CommonJS TypeScript\n'));
    expect(blocks(recipe.slice(0, recipe.indexOf('\n#### ', 1)), 'js')).toEqual([read('examples/jest.config.js')]);
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
