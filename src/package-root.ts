/**
 * The directory of the platform's package.json. Modules find the package's files (package.json,
 * glue-jobs/, node_modules data) from it rather than from their own location, because the same code
 * runs from src/ (tests, tsx) and from the build in dist/ (bin/build.js), at different depths.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && !dir.includes(`${path.sep}node_modules${path.sep}`)) {
      root = dir;
      return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}
