// jose 6 ships only ES modules. Jest runs tests as CommonJS, so ts-jest compiles our
// TypeScript *and* jose's JavaScript to CommonJS: `transformIgnorePatterns` lets jose through, and
// cookie (ES modules only too), which Fastify's inject loads.
// Type-checking happens once in `npm run typecheck`; here ts-jest only transpiles (isolatedModules).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/browser is its own npm project (picket-js in Chromium, run by `npm run test:browser`):
  // Jest neither runs nor indexes anything there, its node_modules included.
  // test/package/fixtures holds consumer projects (the README's recipes) that test/package runs in
  // a temporary folder against the packed package; this run never picks their tests up.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/', '<rootDir>/test/package/fixtures/'],
  modulePathIgnorePatterns: ['<rootDir>/test/browser/'],
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  },
  transformIgnorePatterns: ['^(?!.*/node_modules/(jose|cookie)/).*/node_modules/'],
  testTimeout: 20000,
};
