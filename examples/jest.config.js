// jest.config.js: jose (used by express-token-gate) ships only ES modules and Jest loads
// CommonJS, so let ts-jest compile jose too (Jest skips node_modules unless told otherwise).
// The same config runs TypeScript tests (app.test.ts); esModuleInterop lets them
// `import express from 'express'` and `import request from 'supertest'`.
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, esModuleInterop: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
};
