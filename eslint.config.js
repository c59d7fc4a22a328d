// Lint for the whole repository. TypeScript (packages, strategies, bench, tests): typescript-eslint's
// type-checked recommended rules, with type information from tsconfig.eslint.json (sources, tests
// and bench, no build needed). Plain JavaScript (bins, lab and bench tools, scripts): ESLint's
// recommended rules for Node. Each departure from the recommended sets says why.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'bench/out/**', 'coverage/**', 'packaging/out/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        project: ['./tsconfig.eslint.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Runners, fakes and timers implement Promise-returning interfaces; `async` turns a throw
      // into the rejection callers handle, with or without an `await` inside.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a parameter an interface requires but this implementation
      // does not read (runners, probes, fakes).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
);
