import { defineConfig } from 'vitest/config';

/**
 * The Python-dependent checks (`npm run test:ml-python`): they run training/train.py with
 * /usr/bin/python3 and PyTorch, and fail (never skip) when those are missing. Kept out of
 * `npm test`, which must pass on a machine without Python.
 */
export default defineConfig({
  test: {
    include: ['test/ml-python/**/*.test.ts'],
    // Child processes and workers run the build (src/entry-points.ts): build it once, first.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
});
