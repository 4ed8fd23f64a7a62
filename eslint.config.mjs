// Lint: typescript-eslint's type-aware rules (floating promises, unsafe any) over lib/, and the
// layer rule (README, "Developing"): a module imports only from the rooms below it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Every room of lib/ (a folder, or a top-level file without its extension) and the rooms it may
 * import from. A room may always import its own modules; an import of any other room is an error.
 */
const rooms = {
  // Entry points of the package: they may import anything, and nothing imports them.
  index: ['api', 'default-export'],
  api: ['adapters/express', 'http', 'ownership', 'token', 'jwks', 'revocation', 'errors', 'chain', 'diagnostics'],
  'default-export': ['api'],
  redis: ['revocation', 'issuer'],
  // Beside the glue: the test kit, the issuer and the revocation list use the layers; no layer uses
  // them. Only the test kit (and the redis entry, for the issuer's store) uses the issuer.
  testing: ['http', 'ownership', 'token', 'jwks', 'revocation', 'issuer', 'errors', 'chain', 'diagnostics', 'net'],
  // The production issuer (wallet login, sessions, signing): it may revoke through a revocation list.
  issuer: ['http', 'ownership', 'token', 'jwks', 'revocation', 'errors', 'chain', 'diagnostics', 'net'],
  revocation: ['http', 'ownership', 'token', 'jwks', 'errors', 'chain', 'diagnostics', 'net'],
  // Framework adapters, one room each: translators over the HTTP core, none importing another. Each
  // non-Express adapter is a subpath of its own, so the main entry never loads its framework.
  'adapters/express': ['http', 'ownership', 'token', 'jwks', 'errors', 'diagnostics'],
  'adapters/fastify': ['http', 'ownership', 'token', 'jwks', 'errors'],
  'adapters/koa': ['http', 'ownership', 'token', 'jwks', 'errors'],
  'adapters/hono': ['http', 'ownership', 'token', 'jwks', 'errors'],
  'adapters/fetch': ['http', 'ownership', 'token', 'jwks', 'errors'],
  // The layers, top to bottom: the framework-free HTTP core, ownership rules, token verification, key sets.
  http: ['ownership', 'token', 'jwks', 'errors', 'chain', 'diagnostics', 'net'],
  ownership: ['token', 'jwks', 'errors', 'chain', 'diagnostics', 'net'],
  token: ['jwks', 'errors', 'chain', 'diagnostics'],
  jwks: ['errors', 'diagnostics', 'net'],
  // Shared leaves: used by every layer, they import no layer.
  diagnostics: ['errors'],
  chain: [],
  errors: [],
  // Outbound requests: URL rules, size-capped reads, the Redis client the stores share.
  net: ['errors'],
};

/** Files that are a room of their own; every other room is a folder. */
const fileRooms = new Set([
  'index',
  'api',
  'default-export',
  'redis',
  'diagnostics',
  'adapters/fastify',
  'adapters/koa',
  'adapters/hono',
  'adapters/fetch',
]);
/** How deep below a room's folder modules sit (lib/testing/emulator/x.ts is one level down). */
const MAX_DEPTH = 3;

/** The relative import of lib/<name> from a module `depth` folders below lib/, as a regex. */
function importOf(name, depth, from = '') {
  // Rooms under lib/adapters/ see one another one folder up less.
  if (name.startsWith('adapters/') && from.startsWith('adapters/')) {
    const rest = name.slice('adapters/'.length);
    return `^${depth === 1 ? '\\./' : '(\\.\\./)'.repeat(depth - 1)}${rest}(\\.js)?(/|$)`;
  }
  const up = depth === 0 ? '\\./' : '(\\.\\./)'.repeat(depth);
  // The package root (lib/index.ts) is also reachable as '..' or '../' alone.
  const root = name === 'index' ? `|^${depth === 0 ? '\\.' : Array(depth).fill('\\.\\.').join('/')}/?$` : '';
  return `^${up}${name}(\\.js)?(/|$)${root}`;
}

function layerRule(room, depth) {
  const forbidden = Object.keys(rooms).filter((other) => other !== room && !rooms[room].includes(other));
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((other) => ({
          regex: importOf(other, depth, room),
          message: `lib/${room} may import only from ${rooms[room].map((r) => `lib/${r}`).join(', ') || 'itself'} (see eslint.config.mjs): not from lib/${other}.`,
        })),
      },
    ],
  };
}

const layerRules = Object.keys(rooms).flatMap((room) =>
  fileRooms.has(room)
    ? [{ files: [`lib/${room}.ts`], rules: layerRule(room, room.split('/').length - 1) }]
    : Array.from({ length: MAX_DEPTH }, (_, i) => ({
        files: [`lib/${room}/${'*/'.repeat(i)}*.ts`],
        rules: layerRule(room, room.split('/').length + i),
      })),
);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      'test/**',
      'bench/**',
      'examples/**',
      'scripts/**',
      'bin/**',
      '*.js',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      // Ports promise Promises: an async method without await still turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Passing on what a catch caught is not inventing a non-Error reason.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  // Every module of lib/ belongs to a room of the table above.
  {
    files: ['lib/**/*.ts'],
    ignores: [...[...fileRooms].map((room) => `lib/${room}.ts`), ...Object.keys(rooms).map((room) => `lib/${room}/**`)],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'Program', message: 'This module belongs to no room of eslint.config.mjs: add it there.' },
      ],
    },
  },
  ...layerRules,
);
