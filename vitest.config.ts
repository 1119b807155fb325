import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Python-dependent checks (torch, onnx) run in their own suite: vitest.ml-python.config.ts.
    exclude: [...configDefaults.exclude, 'test/ml-python/**'],
    // CDK synths and local servers are heavy: files run in parallel processes, tests in a file serially.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
