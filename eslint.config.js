// The layer rules and the import-cycle rule of the code base. Run by `npm run lint`.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Folders of domain code: they know the store port and each other, never HTTP. */
const DOMAIN = ['accounts', 'api-keys', 'audit', 'oauth', 'principal', 'rate-limit', 'store', 'tokens'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.portcullis/**', 'coverage/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parser: tseslint.parser, parserOptions: { ecmaVersion: 'latest', sourceType: 'module' } },
    plugins: { 'import-x': importX, '@typescript-eslint': tseslint.plugin },
    settings: {
      // Resolves `./x.ts` imports (allowImportingTsExtensions) as tsc does. Without a resolver
      // import-x resolves nothing, and no-cycle and no-restricted-paths pass on anything.
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${import.meta.dirname}/tsconfig.json` })],
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
    },
    rules: {
      // `_name` marks a parameter or a destructured field that is there to be left out.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // A cycle is a cycle whether it carries values or only types: either way each module knows the other.
      'import-x/no-cycle': ['error', { allowUnsafeDynamicCyclicDependency: false, ignoreExternal: true }],
      'import-x/no-unresolved': 'error',
      'import-x/no-self-import': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              // Routes call domain services (built in services.ts); the store's keys and port are theirs.
              target: './src/routes',
              from: './src/store',
              message: 'src/routes may not import src/store: call a domain service instead.',
            },
            {
              // Anything that reads a request or writes a response lives on the HTTP side.
              target: DOMAIN.map((d) => `./src/${d}`),
              from: ['./src/http', './src/routes'],
              message: 'Domain folders may not import src/http or src/routes: move the HTTP part to src/http.',
            },
          ],
        },
      ],
    },
  },
  {
    // Plain scripts run on Node (bin/, scripts/, this file).
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
  {
    // Tests and benchmarks read untyped JSON answers and poke at library internals.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
