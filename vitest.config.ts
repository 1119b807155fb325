import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Python-dependent checks run in their own suite (vitest.ml-python.config.ts).
    exclude: ['test/ml-python/**', 'node_modules/**'],
    // CDK synths and local servers are heavy: files run in parallel processes, tests in a file serially.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
