// For tests whose worker thread runs a TypeScript test helper (the platform's own workers start
// from the build, src/entry-points.ts). Worker threads do not inherit the parent's TypeScript
// loader on Node 20, and a worker's `execArgv: ['--import', 'tsx']` is not honoured for its entry
// module (verified): this plain ES module registers tsx in the worker, then loads the TypeScript
// entry given in workerData.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
