// ESLint (npm run lint): the recommended rules of ESLint and typescript-eslint, without type
// information (a type-aware pass costs a full type check on every run), tuned to the habits the
// codebase keeps on purpose. Formatting is Prettier's (.prettierrc.json), not ESLint's.
// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/out/', 'dist/', 'node_modules/', 'test-output/', 'runs/', 'scratch/', 'experiments/out/', '.cache/', '.e2e/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // A disable comment whose rule does not fire is an error: no stale exemptions.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { globals: globals.node },
    rules: {
      // `import fs = require('fs')` binds the module object itself, which tests patch (test/helpers/
      // diskFull.ts). Other require() calls load optional backends lazily; each says so in a disable
      // comment.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // `let [lo, hi] = ...; if (...) hi = ...`: a pair is destructured together even when only
      // one of them changes later.
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    // Build scripts and the CLI's launcher are plain CommonJS.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    // `const crypto = require('crypto')` shadows Node's global of the same name on purpose.
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
  {
    files: ['webview/**/*.ts'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Functions that run inside the workbench's page (page.evaluate, waitForFunction) see its DOM,
    // which the tests' tsconfig has no types for.
    files: ['test/e2e/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
