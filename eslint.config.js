// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

const INFRA = {
  group: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '**/lib/*'],
  message: 'runtime code never imports infrastructure code',
};
const CLI = { group: ['**/cli', '**/cli/**'], message: 'only src/cli imports src/cli' };
// `import { z } from 'zod'` makes esbuild bundle all of zod (its locales and JSON-schema code: 4x
// the bytes every command start has to compile); the namespace import lets it keep what is used.
const ZOD_NAMESPACE = {
  selector: "ImportDeclaration[source.value=/^zod/] > ImportSpecifier[imported.name='z']",
  message: "import * as z from 'zod' (a named `z` import bundles all of zod)",
};

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.quant/', 'bench/.out/', 'coverage/', 'dist/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', ZOD_NAMESPACE],
    },
  },
  // Layers (docs/architecture.md): src/contract imports nothing; runtime code never imports the
  // infrastructure library; nothing outside src/cli imports the CLI.
  {
    files: ['src/**/*.ts', 'lambda/**/*.ts', 'ecs-tasks/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [INFRA, CLI] }] },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [INFRA] }] },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [CLI] }],
      // The CDK app also runs compiled into dist/ (the local state machine definitions): paths
      // relative to a module's own location break there.
      'no-restricted-syntax': [
        'error',
        ZOD_NAMESPACE,
        {
          selector: 'MetaProperty',
          message: 'find package files with packageRoot() (src/package-root.ts), not import.meta',
        },
      ],
    },
  },
  {
    files: ['src/contract/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        // Only its own files (`./lake`), by their kebab-case name.
        ...[
          'ImportDeclaration[source.value!=/^\\.\\/[a-z-]+$/]',
          'ImportExpression',
          'ExportAllDeclaration[source.value!=/^\\.\\/[a-z-]+$/]',
          'ExportNamedDeclaration[source][source.value!=/^\\.\\/[a-z-]+$/]',
        ].map((selector) => ({
          selector,
          message: 'src/contract imports nothing but itself (lib/ and src/ both read it)',
        })),
      ],
    },
  },
);
