/**
 * `npm run bench -- <name> [<name> ...]` runs bench/<name>.bench.ts (all of them when no name is
 * given), each in its own process so one benchmark's heap and JIT state never colour another's.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = import.meta.dirname;
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = requested.filter((r) => !available.includes(r));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(
  `# machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString()}`,
);
let failed = 0;
for (const name of requested.length > 0 ? requested : available) {
  console.log(`\n## ${name}`);
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--expose-gc', path.join(dir, `${name}.bench.ts`)],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
