import { defineConfig } from 'vitest/config';

// `npm run test:conformance`: the project's code and schema against CME's own files (schemas v9
// and v13, real captures), which live outside the repository (test/conformance/cme-data.ts).
export default defineConfig({
  test: {
    include: ['test/conformance/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/conformance/global-setup.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
