#!/usr/bin/env node
// The `quant` CLI entry: runs the build in dist/ (bin/build.js), rebuilt first when a source has
// changed since it was built, so what runs is always the current code.
import { ensureBuilt } from './build.js';

try {
  const reason = await ensureBuilt();
  if (reason && process.env.QUANT_DEBUG) process.stderr.write(`quant: rebuilt dist/ (${reason})\n`);
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const { main } = await import('../dist/quant.js');
process.exitCode = await main(process.argv);
