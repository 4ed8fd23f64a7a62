// jest.config.js: ts-jest compiles your TypeScript and jose's ES modules to CommonJS;
// esModuleInterop lets tests `import express from 'express'` and `import request from 'supertest'`.
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, esModuleInterop: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
};
