/**
 * The published package, as a user installs it: `npm pack` once, unpacked into the node_modules of
 * a consumer project in an empty temporary folder (its other dependencies linked from this
 * repository's). There, `require` and `import` give the same working instances, and the
 * declarations type-check with `skipLibCheck: false` under every module setting TypeScript 5.9
 * offers. A second consumer installs the same tarball and the test runners from the registry
 * (once): the Jest and Vitest recipes of docs/testing.md each run a test there, and TypeScript 7 compiles
 * the declarations.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { block, headingsOf, linksOf, section } from '../helpers/docs';

const root = path.resolve(__dirname, '../..');
const fixtures = path.join(__dirname, 'fixtures');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { import: Record<string, string>; require: Record<string, string> }>;
  typesVersions: Record<string, Record<string, string[]>>;
  scripts: Record<string, string>;
  files: string[];
};
const execFileAsync = promisify(execFile);

let consumer: string;
let installed: string;
const run = (args: string[]) =>
  execFileSync(process.execPath, args, { cwd: consumer, encoding: 'utf8', timeout: 20_000 });

/** The README's TypeScript quick start (the ```ts block under "## Quick start"). */
const readmeQuickStart = () => block('README.md', 'Quick start', 'ts');

const tscRuns = new Map<string, Promise<unknown>>();
const SETTINGS = ['node10', 'node16', 'nodenext', 'bundler', 'commonjs'] as const;
/** TypeScript 7 removed moduleResolution node10 (TS5108); it checks the others. */
const TS7_SETTINGS = SETTINGS.filter((setting) => setting !== 'node10');
let tarball: string;

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist/cjs/index.js'))) {
    throw new Error('dist/ is missing: `npm test` builds before running jest (or run `npm run build`)');
  }
  consumer = fs.mkdtempSync(path.join(os.tmpdir(), 'express-token-gate-consumer-'));
  // dist/ is already built by `npm test`: pack it as is.
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', consumer], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    }),
  ) as Array<{ filename: string }>;
  const modules = path.join(consumer, 'node_modules');
  installed = path.join(modules, 'express-token-gate');
  tarball = path.join(consumer, packed!.filename);
  fs.mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(consumer, packed!.filename), '-C', installed, '--strip-components=1']);
  for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
    if (name === 'express-token-gate' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));
  }
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  for (const file of fs.readdirSync(fixtures))
    if (fs.statSync(path.join(fixtures, file)).isFile())
      fs.copyFileSync(path.join(fixtures, file), path.join(consumer, file));
  fs.writeFileSync(path.join(consumer, 'quick-start.ts'), readmeQuickStart());
  // The compilations run side by side; each test awaits its own. Every one checks the declaration
  // files themselves (skipLibCheck false): a published .d.ts that fails a setting fails its test.
  const tsc = require.resolve('typescript/bin/tsc');
  for (const setting of SETTINGS) {
    const running = execFileAsync(process.execPath, [tsc, '-p', `tsconfig.${setting}.json`], {
      cwd: consumer,
      timeout: 120_000,
    });
    running.catch(() => undefined);
    tscRuns.set(setting, running);
  }
}, 40_000);

afterAll(async () => {
  await Promise.allSettled(tscRuns.values());
  if (consumer) fs.rmSync(consumer, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  test('holds the build, the license and the readme, and nothing that runs on install', () => {
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/cjs/index.js', 'dist/esm/index.mjs']) {
      expect({ file, present: fs.existsSync(path.join(installed, file)) }).toEqual({ file, present: true });
    }
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(fs.existsSync(path.join(installed, 'lib'))).toBe(false);
    const scripts = Object.keys(pkg.scripts);
    for (const hook of ['prepare', 'preinstall', 'install', 'postinstall']) expect(scripts).not.toContain(hook);
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  test('ships the changelog, the docs pages and the metrics recipe, and says where the repository is', () => {
    for (const file of [
      'CHANGELOG.md',
      'docs/README.md',
      'docs/errors.md',
      'docs/incremental-flow.svg',
      'examples/metrics.js',
    ]) {
      expect({ file, present: fs.existsSync(path.join(installed, file)) }).toEqual({ file, present: true });
    }
    expect(fs.existsSync(path.join(installed, 'examples/app.js'))).toBe(false);
    const packed = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect({ repository: packed.repository, homepage: packed.homepage, bugs: packed.bugs }).toEqual({
      repository: { type: 'git', url: 'git+https://github.com/express-token-gate/express-token-gate.git' },
      homepage: 'https://github.com/express-token-gate/express-token-gate#readme',
      bugs: { url: 'https://github.com/express-token-gate/express-token-gate/issues' },
    });
  });

  test('every relative link of the packed README and docs pages resolves inside the tarball, anchors included', () => {
    const pages = [
      'README.md',
      ...execFileSync('find', ['docs', '-name', '*.md'], { cwd: installed, encoding: 'utf8' }).trim().split('\n'),
    ];
    expect(pages.length).toBeGreaterThan(10);
    const wrong: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const target of linksOf(fs.readFileSync(path.join(installed, page), 'utf8'))) {
        if (/^[a-z]+:/i.test(target)) continue;
        checked += 1;
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const linked = file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), file));
        const absolute = path.join(installed, linked);
        if (linked.startsWith('..') || !fs.existsSync(absolute)) wrong.push(`${page}: ${target}`);
        else if (
          anchor !== undefined &&
          !headingsOf(fs.readFileSync(absolute, 'utf8')).some((h) => h.anchor === anchor)
        )
          wrong.push(`${page}: ${target}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(wrong).toEqual([]);
  });

  test('every source map carries the TypeScript it was built from', () => {
    const maps = execFileSync('find', [path.join(installed, 'dist'), '-name', '*.js.map'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(maps.length).toBeGreaterThan(10);
    for (const file of maps) {
      const map = JSON.parse(fs.readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: string[] };
      const source = path.resolve(path.dirname(path.join(root, path.relative(installed, file))), map.sources[0]!);
      expect({
        file: path.relative(installed, file),
        same: map.sourcesContent?.[0] === fs.readFileSync(source, 'utf8'),
      }).toEqual({
        file: path.relative(installed, file),
        same: true,
      });
    }
  });

  test('with --enable-source-maps a stack trace names the TypeScript line', () => {
    let stderr = '';
    try {
      execFileSync(
        process.execPath,
        ['--enable-source-maps', '-e', "require('express-token-gate').createTokenGate({ audience: 'p', secret: 'x' })"],
        {
          cwd: consumer,
          encoding: 'utf8',
          stdio: 'pipe',
        },
      );
    } catch (error) {
      stderr = String((error as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/OptionsError: express-token-gate: option "secret"/);
    expect(stderr).toMatch(/node_modules\/express-token-gate\/lib\/http\/options\.ts:\d+:\d+/);
  });
});

describe('dependency ranges and the lockfile', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  test('each runtime dependency is a caret range, so users get its patch and minor releases', () => {
    const dependencies = manifest.dependencies as Record<string, string>;
    expect(Object.keys(dependencies).length).toBeGreaterThan(0);
    for (const [name, range] of Object.entries(dependencies)) {
      expect({ name, range }).toEqual({ name, range: expect.stringMatching(/^\^\d+\.\d+\.\d+$/) });
    }
  });

  test("the lockfile's root entry is the one npm writes from package.json (npm install leaves it as it is)", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, Record<string, unknown>>;
    };
    const entry = lock.packages['']!;
    const fields = [
      'name',
      'version',
      'license',
      'dependencies',
      'devDependencies',
      'peerDependencies',
      'bin',
      'engines',
    ];
    const expected: Record<string, unknown> = {};
    for (const field of fields) if (manifest[field] !== undefined) expected[field] = manifest[field];
    // npm writes bin targets without the leading ./
    expected.bin = Object.fromEntries(
      Object.entries(manifest.bin as Record<string, string>).map(([name, file]) => [name, file.replace(/^\.\//, '')]),
    );
    const actual: Record<string, unknown> = {};
    for (const field of fields) if (entry[field] !== undefined) actual[field] = entry[field];
    expect(actual).toEqual(expected);
  });
});

describe('subpaths are declared once for every resolver', () => {
  test('each subpath of exports has an import and a require target, and typesVersions maps it for node10', () => {
    const subpaths = Object.keys(pkg.exports).filter((s) => s !== '.' && s !== './package.json');
    expect(subpaths.length).toBeGreaterThan(0);
    for (const subpath of subpaths) {
      const target = pkg.exports[subpath] as { import: Record<string, string>; require: Record<string, string> };
      expect(pkg.typesVersions['*']![subpath.slice(2)]).toEqual([target.require.types]);
      for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
        expect({ subpath, file, built: fs.existsSync(path.join(installed, file!)) }).toEqual({
          subpath,
          file,
          built: true,
        });
      }
    }
    expect(Object.keys(pkg.typesVersions['*']!).sort()).toEqual(subpaths.map((s) => s.slice(2)).sort());
  });
});

describe('package entry points', () => {
  test('require() loads the CommonJS build with every public export', () => {
    const out = run(['-e', "const m = require('express-token-gate'); console.log(Object.keys(m).sort().join(','))"]);
    expect(out.trim().split(',')).toEqual(
      expect.arrayContaining([
        'TokenGateError',
        'authErrorHandler',
        'createTokenGate',
        'optionalAuth',
        'requireAuth',
        'requireTokens',
        'verifyAccessToken',
        'walletOf',
      ]),
    );
  });

  test('import loads the same instances as require (one key-set registry, one error class)', () => {
    const script = `
      import { createRequire } from 'node:module';
      import * as esm from 'express-token-gate';
      import * as kit from 'express-token-gate/testing';
      const cjs = createRequire(process.cwd() + '/')('express-token-gate');
      console.log(esm.TokenGateError === cjs.TokenGateError, esm.createTokenGate === cjs.createTokenGate, typeof kit.createTestIssuer);
    `;
    expect(run(['--input-type=module', '-e', script]).trim()).toBe('true true function');
  });

  test('a default import is the whole API: the same object as require().default, holding every runtime export', () => {
    const script = `
      import { createRequire } from 'node:module';
      import tokenGate from 'express-token-gate';
      import * as esm from 'express-token-gate';
      const cjs = createRequire(process.cwd() + '/')('express-token-gate');
      const named = Object.keys(esm).filter((n) => n !== 'default').sort();
      console.log(JSON.stringify([tokenGate === cjs.default, Object.keys(tokenGate).sort().join() === named.join(), named.every((n) => tokenGate[n] === esm[n])]));
    `;
    expect(JSON.parse(run(['--input-type=module', '-e', script]))).toEqual([true, true, true]);
  });

  test('the built package verifies a token end to end from an ES module', () => {
    const script = `
      import { verifyAccessToken } from 'express-token-gate';
      import { createTestIssuer } from 'express-token-gate/testing';
      const issuer = await createTestIssuer({ audience: 'pkg' });
      try {
        const claims = await verifyAccessToken(await issuer.sign(), issuer.options);
        console.log(claims.chain);
      } finally {
        await issuer.close();
      }
    `;
    expect(run(['--input-type=module', '-e', script]).trim()).toBe('ethereum');
  });
});

describe('TypeScript 5.9 consumers type-check under strict with every module setting, skipLibCheck false', () => {
  test.each(SETTINGS)(
    '%s: the main entry, express-token-gate/testing, /redis and the README quick start',
    async (setting) => {
      const outcome = await tscRuns.get(setting)!.then(
        () => 'compiled',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      );
      expect(outcome).toBe('compiled');
    },
    120_000,
  );

  test('no published declaration imports jose (its ES-module-only types break CommonJS consumers)', () => {
    const declarations = execFileSync('find', [path.join(installed, 'dist'), '-name', '*.d.*ts'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(declarations.length).toBeGreaterThan(10);
    const naming = declarations
      .filter((file) => /(?:from|import\()\s*['"]jose['"]/.test(fs.readFileSync(file, 'utf8')))
      .map((file) => path.relative(installed, file));
    expect(naming).toEqual([]);
  });
});

/**
 * The recipes under "## Jest and Vitest" of docs/testing.md: per "### " heading, the packages its
 * `npm install --save-dev` lines name and the files its code blocks hold (each block's first line
 * `// <file name>`).
 */
function readmeRecipes(): Map<string, { packages: string[]; files: Record<string, string> }> {
  const recipes = new Map<string, { packages: string[]; files: Record<string, string> }>();
  for (const part of section('docs/testing.md', 'Jest and Vitest').split('\n### ').slice(1)) {
    const name = part.slice(0, part.indexOf('\n'));
    const packages: string[] = [];
    const files: Record<string, string> = {};
    for (const [, lang, body] of part.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
      if (lang === 'sh') {
        for (const line of body!.split('\n').filter((l) => l.startsWith('npm install --save-dev ')))
          packages.push(...line.slice('npm install --save-dev '.length).trim().split(/\s+/));
        continue;
      }
      const file = /^\/\/ ([\w.-]+)(?::|\n)/.exec(body!)?.[1];
      if (file) files[file] = body!;
    }
    recipes.set(name, { packages, files });
  }
  return recipes;
}

/** Recipe heading of docs/testing.md → fixture project (test/package/fixtures/recipes) and the command that runs it. */
const RECIPES: Array<[string, string, string[], string]> = [
  ['CommonJS JavaScript', 'cjs-js', ['jest/bin/jest.js', '--ci', '--colors=false'], 'Tests: +1 passed, 1 total'],
  ['CommonJS TypeScript', 'cjs-ts', ['jest/bin/jest.js', '--ci', '--colors=false'], 'Tests: +1 passed, 1 total'],
  [
    'ES-module TypeScript (`"type": "module"`, `nodenext`)',
    'esm-ts',
    ['jest/bin/jest.js', '--ci', '--colors=false'],
    'Tests: +1 passed, 1 total',
  ],
  ['Vitest', 'vitest', ['vitest/vitest.mjs', 'run'], 'Tests +1 passed \\(1\\)'],
];

describe('a consumer that installs the tarball and its test runners from the registry', () => {
  let project: string;
  const recipes = readmeRecipes();
  const outcome = (running: Promise<{ stdout: string; stderr: string }>) =>
    running.then(
      ({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }),
      (error: { stdout?: string; stderr?: string }) => ({
        ok: false,
        output: (error.stdout ?? '') + (error.stderr ?? String(error)),
      }),
    );

  beforeAll(async () => {
    // One install for every recipe: the packages of all their install lines (conflicting specs of
    // one package fail here), TypeScript 7 under an alias beside ts-jest's TypeScript 5.9.
    const specs = new Map<string, string>();
    for (const [name, { packages }] of recipes) {
      for (const spec of packages) {
        const bare = spec.replace(/(?<=.)@.*$/, '');
        if (specs.has(bare) && specs.get(bare) !== spec) throw new Error(`${name}: ${spec} against ${specs.get(bare)}`);
        specs.set(bare, spec);
      }
    }
    project = path.join(consumer, 'registry');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'registry-consumer', private: true }));
    const npm = (args: string[]) =>
      execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...args], {
        cwd: project,
        timeout: 300_000,
      });
    await npm([tarball, 'express']);
    await npm(['--save-dev', ...specs.values(), 'typescript7@npm:typescript@7']);
  }, 320_000);

  test("docs/testing.md's install lines pin TypeScript 5.9 for ts-jest 29 and Vitest 4 for Node 20", () => {
    const all = [...recipes.values()].flatMap((recipe) => recipe.packages);
    expect(all.filter((spec) => /^(ts-jest|typescript|vitest)(@|$)/.test(spec)).sort()).toEqual([
      'ts-jest',
      'typescript@5.9',
      'vitest@4',
    ]);
  });

  test.each(RECIPES)(
    'docs/testing.md recipe "%s" runs a test of an app against the installed package',
    async (name, fixture, args, passed) => {
      const recipe = recipes.get(name);
      expect({ name, found: recipe !== undefined }).toEqual({ name, found: true });
      const dir = path.join(project, fixture);
      fs.cpSync(path.join(fixtures, 'recipes', fixture), dir, { recursive: true });
      for (const [file, text] of Object.entries(recipe!.files)) fs.writeFileSync(path.join(dir, file), text);
      const [runner, ...rest] = args;
      const result = await outcome(
        execFileAsync(process.execPath, [path.join(project, 'node_modules', runner!), ...rest], {
          cwd: dir,
          timeout: 90_000,
          env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' },
        }),
      );
      expect(result).toEqual({ ok: true, output: expect.stringMatching(new RegExp(passed)) });
      expect(result.output).not.toMatch(/TS151002|ts-jest\[.*\] \(WARN\)/);
    },
    100_000,
  );

  test('the ES-module recipe app and its test type-check with tsc under nodenext, skipLibCheck false', async () => {
    const dir = path.join(project, 'esm-ts');
    if (!fs.existsSync(dir)) fs.cpSync(path.join(fixtures, 'recipes', 'esm-ts'), dir, { recursive: true });
    const result = await outcome(
      execFileAsync(
        process.execPath,
        [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'],
        {
          cwd: dir,
          timeout: 90_000,
        },
      ),
    );
    expect(result).toEqual({ ok: true, output: '' });
  }, 100_000);

  test.each(TS7_SETTINGS)(
    'TypeScript 7: %s type-checks with skipLibCheck false',
    async (setting) => {
      const tsc = path.join(project, 'node_modules/typescript7/bin/tsc');
      expect(execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' })).toMatch(/^Version 7\./);
      const result = await outcome(
        execFileAsync(process.execPath, [tsc, '-p', `tsconfig.${setting}.json`], { cwd: consumer, timeout: 90_000 }),
      );
      expect(result).toEqual({ ok: true, output: '' });
    },
    100_000,
  );
});
