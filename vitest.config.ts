import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Child processes and workers run the build (src/entry-points.ts): build it once, first.
    globalSetup: ['test/global-setup.ts'],
    // CDK synths and local servers are heavy: files run in parallel processes, tests in a file serially.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
