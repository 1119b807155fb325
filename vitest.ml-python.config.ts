import { defineConfig } from 'vitest/config';

/**
 * The Python-dependent suite (`npm run test:ml-python`, run by .ci/run after the Debian packages are
 * installed): it fails, never skips, without /usr/bin/python3 with torch and onnx.
 */
export default defineConfig({
  test: {
    include: ['test/ml-python/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
