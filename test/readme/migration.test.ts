/**
 * The migration tables of docs/migration.md cover every option of express-jwt and express-oauth2-jwt-bearer,
 * as their installed type declarations list them, and name only options the peers have.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { section } from '../helpers/docs';

const ROOT = path.resolve(__dirname, '../..');
const PAGE = 'docs/migration.md';

/** The first-column names (`name`, before any `(ENV)`) of the table under `## heading`. */
function tableNames(heading: string): string[] {
  const rows = section(PAGE, heading)
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  return rows.map((row) => /^\| `([^`]+)`/.exec(row)![1]!);
}

/** Property names of exported types, read from the peers' declarations by the TypeScript checker. */
function optionsOf(imports: string): Record<string, string[]> {
  const file = path.join(ROOT, 'test/readme/peer-options.virtual.ts');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    strict: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, imports, version) : getSourceFile(name, version, ...rest);
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? imports : readFile(name));
  const program = ts.createProgram([file], options, host);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const out: Record<string, string[]> = {};
  for (const symbol of checker.getExportsOfModule(module)) {
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    out[symbol.name] = checker
      .getPropertiesOfType(type)
      .map((p) => p.name)
      .sort();
  }
  return out;
}

const peers = optionsOf(`
  import type { Params } from 'express-jwt';
  import type { AuthOptions } from 'express-oauth2-jwt-bearer';
  export type ExpressJwt = Params;
  export type OAuth2Bearer = AuthOptions;
`);

describe('the migration table for express-jwt', () => {
  const rows = tableNames('From express-jwt');

  test('has a row for every option of express-jwt (with jsonwebtoken verify options) and for unless()', () => {
    expect(peers.ExpressJwt!.length).toBeGreaterThan(15);
    expect([...rows].sort()).toEqual([...peers.ExpressJwt!, 'unless'].sort());
  });
});

describe('the migration table for express-oauth2-jwt-bearer', () => {
  const rows = tableNames('From express-oauth2-jwt-bearer');

  test('has a row for every option of auth() and for each claim and scope helper', () => {
    const helpers = ['claimCheck', 'claimEquals', 'claimIncludes', 'requiredScopes', 'scopeIncludesAny'];
    expect(peers.OAuth2Bearer!.length).toBeGreaterThan(15);
    expect([...rows].sort()).toEqual([...peers.OAuth2Bearer!, ...helpers].sort());
  });

  test('names every environment variable the peer reads', () => {
    const source = fs.readFileSync(require.resolve('express-oauth2-jwt-bearer'), 'utf8');
    const variables = [...new Set([...source.matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]!))].filter(
      (v) => v !== 'NODE_ENV',
    );
    expect(variables.length).toBeGreaterThan(3);
    const table = section(PAGE, 'From express-oauth2-jwt-bearer');
    for (const variable of variables)
      expect({ variable, named: table.includes(`(\`${variable}\`)`) }).toEqual({ variable, named: true });
  });
});
