import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const isCI = process.env.CI === 'true';

// `source` points workspace packages at their TypeScript sources, so tests need no build step.
export default defineConfig({
  resolve: { conditions: ['source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/src/**/*.test.ts'],
    allowOnly: !isCI,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
