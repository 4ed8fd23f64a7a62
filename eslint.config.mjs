// Lint: typescript-eslint's type-aware rules (floating promises, unsafe any) over lib/, and the
// layer rule of CONTRIBUTING.md: a lower layer never imports a higher one.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layers from the top: each may import only from the layers below it. */
const layers = [
  { dir: 'http', above: [] },
  { dir: 'ownership', above: ['http'] },
  { dir: 'token', above: ['http', 'ownership'] },
  { dir: 'jwks', above: ['http', 'ownership', 'token'] },
];

const layerRules = layers.map(({ dir, above }) => ({
  files: [`lib/${dir}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: above.map((higher) => ({
          group: [`../${higher}/*`, `../../${higher}/*`, `../${higher}`, `../../${higher}`],
          message: `lib/${dir} sits below lib/${higher}: a lower layer never imports a higher one.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'test/**', 'bench/**', 'examples/**', 'scripts/**', 'bin/**', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  ...layerRules,
);
