// ESLint over the TypeScript of src/, test/ and scripts/: ESLint's and typescript-eslint's
// recommended rules, without type information (the type-aware rules took four times as
// long, and tsc already checks the types: npm run typecheck). Layout is Prettier's job.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.cache/', 'test/fixtures/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  // Plain JavaScript (this file, scripts that run before any build) runs on Node.
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    rules: {
      // Parley cleans control characters out of model output and decodes terminal input:
      // regular expressions that match ESC, BEL or C1 codes are the point there, not a slip.
      'no-control-regex': 'off',
      // As tsc's noUnusedLocals and noUnusedParameters: a leading underscore marks a name
      // kept on purpose (a parameter a callback must take, a key left out of a ...rest copy).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
);
