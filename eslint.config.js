// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import unicorn from 'eslint-plugin-unicorn';
import globals from 'globals';

const restrict = (patterns) => ['error', { patterns }];
const DB = ['kysely', 'pg', 'better-sqlite3'];
const WEB = ['fastify', '@fastify/*', 'ws'];
const noDeepImports = { group: ['@parley/*/src', '@parley/*/src/*', '@parley/*/dist/*'], message: 'Import the package entry, e.g. @parley/protocol' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.parley/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { unicorn },
    rules: {
      'unicorn/filename-case': ['error', { case: 'kebabCase' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': restrict([noDeepImports]),
    },
  },
  {
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/config/**', 'packages/cli/src/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Only config/ reads the environment.' }],
    },
  },
  {
    files: ['packages/protocol/src/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([noDeepImports, { group: ['@parley/*'], message: 'protocol imports nothing of ours' }]) },
  },
  // Server layering (STYLE.md §2). Flat config does not merge one rule across blocks, so each folder
  // gets its whole list here.
  ...Object.entries({
    domain: [['../*', ...DB, ...WEB, 'ioredis'], 'domain/ is pure: it imports only @parley/protocol and itself'],
    services: [[...DB, ...WEB, 'ioredis', '../http/*', '../realtime/*', '../store/kysely/*'], 'services/ see store and bus interfaces, never HTTP or SQL'],
    store: [[...WEB, 'ioredis', '../http/*', '../services/*', '../realtime/*', '../../services/*', '../../http/*'], 'store/ is persistence only'],
    bus: [[...DB, ...WEB, '../store/*', '../services/*', '../http/*'], 'bus/ carries events and nothing else'],
    blobs: [[...DB, ...WEB, 'ioredis', '../*'], 'blobs/ stores bytes: it imports Node built-ins and itself, no other layer'],
    config: [[...DB, ...WEB, '../store/*', '../services/*', '../http/*'], 'config/ only reads settings'],
    http: [[...DB, '../store/kysely/*', '../../store/kysely/*', '../blobs/*', '../../blobs/*'], 'http/ calls services; only store/ talks to the database, only services/ to the blob store'],
    realtime: [[...DB, '../store/kysely/*'], 'realtime/ calls services; only store/ talks to the database'],
  }).map(([folder, [group, message]]) => ({
    files: [`packages/server/src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': restrict([noDeepImports, { group, message }]) },
  })),
  {
    // Public client surfaces: verbNoun(required…, options?) — more than 3 positional parameters is an error.
    files: ['packages/sdk/src/**/*.ts', 'packages/bot/src/**/*.ts'],
    rules: { 'max-params': ['error', 3] },
  },
  {
    files: ['packages/sdk/src/**/*.ts'],
    rules: { 'no-restricted-imports': restrict([noDeepImports, { group: ['@parley/server'], message: 'The SDK never imports the server' }]) },
  },
  {
    // Tests read loosely typed JSON responses.
    files: ['packages/*/test/**/*.ts', 'packages/*/src/**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
