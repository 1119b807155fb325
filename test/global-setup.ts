/**
 * Brings dist/ up to date once before the test files run (bin/build.js is a no-op when it is):
 * child processes and workers start from it (src/entry-points.ts), and test files running in
 * parallel would otherwise each find it stale after an edit and rebuild it at the same time.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['bin/build.js'], { stdio: 'inherit' });
}
