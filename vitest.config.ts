import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

// CME's own files are not in the repository: their suite is `npm run test:conformance`.
// Python-dependent checks run in their own suite (vitest.ml-python.config.ts).
const exclude = [...configDefaults.exclude, 'test/conformance/**', 'test/ml-python/**'];

export default defineConfig({
  test: {
    // No top-level include: `extends: true` concatenates arrays, so each project names its own files
    // (with one here, every project would also run every integration file).
    exclude,
    // Child processes and workers run the build (src/entry-points.ts): build it once, first.
    globalSetup: ['test/global-setup.ts'],
    // CDK synths and local servers are heavy: files run in parallel processes, tests in a file serially.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine, where most
    // integration files wait on local servers and child processes. One per core keeps both busy.
    maxWorkers: Math.max(availableParallelism(), 2),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      // Unit and infra files run one after another in a worker that keeps its modules (isolate: false):
      // they import the same heavy modules (the AWS SDK, aws-cdk-lib), which a fresh process per file
      // imported again every time (the unit tests took twice as long). They keep no state between
      // files: no module mocks, environment variables restored, stages built per file
      // (test/infra/helpers.ts).
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'], isolate: false } },
      // Integration files stay one process each: several set environment variables and then import a
      // Lambda handler that reads them once, at load.
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...exclude, 'test/unit/**', 'test/infra/**'],
        },
      },
    ],
  },
});
