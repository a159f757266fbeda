import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

const isCI = process.env.CI === 'true';

// `source` points workspace packages at their TypeScript sources, so tests import no build output; only
// processes a test starts (the bench's servers) run the compiled code, which `npm test` builds first.
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
