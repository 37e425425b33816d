// ESLint (flat config): typescript-eslint's recommended rules, and the house
// rules a type checker does not enforce. `npm run check` runs it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.stack/', 'test-results/', 'dist/', 'helm/', 'docker/', '.dependency-cruiser*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Never swallow an error: no empty catch block.
      'no-empty': ['error', { allowEmptyCatch: false }],
      // A promise nobody awaits loses its failure.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // One concept per module, and calls that say what they pass: a file past
    // 300 lines of code or a function past 4 parameters is split, with no
    // exceptions list (comments and blank lines do not count).
    files: ['src/**/*.ts', 'workers/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: true, skipComments: true }],
      'max-params': ['error', 4],
    },
  },
  {
    // Kubernetes manifests and API answers are arbitrary JSON that the deploy tests index into freely.
    files: ['test/packaging/**', 'test/deployment/**', 'test/support/kube-api.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
