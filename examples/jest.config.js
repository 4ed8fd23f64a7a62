// jest.config.js: jose (used by express-token-gate) ships only ES modules and Jest loads
// CommonJS, so let ts-jest compile jose too (Jest skips node_modules unless told otherwise).
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
};
