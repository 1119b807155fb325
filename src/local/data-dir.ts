/**
 * Checks the local cloud's data directory before anything is started in it, so that a wrong
 * `--data-dir` is a clear bad-input error naming the directory and the problem (exit 2), promptly,
 * instead of a failure deep inside a child server (or a server spinning on a pseudo file system).
 */
import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors';

/** Pseudo file systems (statfs f_type) where state cannot live. */
const SPECIAL_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x1373, 'devtmpfs'],
  [0x63677270, 'cgroup2'],
  [0x27e0eb, 'cgroup'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
  [0x74726163, 'tracefs'],
  [0xcafe4a11, 'bpf'],
]);

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
};

/** The directory itself when it exists, else its nearest existing ancestor. */
function nearestExisting(dir: string): string {
  let p = dir;
  for (;;) {
    try {
      statSync(p);
      return p;
    } catch {
      const up = path.dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/**
 * Throws InputError when `dir` cannot hold the local cloud's state: it (or a parent) is not a
 * directory, it is not writable, or it is on a pseudo file system such as /proc. Creates nothing.
 */
export function checkDataDir(dir: string, field = '--data-dir'): void {
  const at = nearestExisting(dir);
  const st = statSync(at);
  if (!st.isDirectory()) {
    throw new InputError(
      at === dir ? `${field}: ${dir} is not a directory` : `${field}: ${dir}: ${at} is not a directory`,
      field,
    );
  }
  const fsType = SPECIAL_FS.get(Number(statfsSync(at).type));
  if (fsType) {
    throw new InputError(
      `${field}: ${dir} is on a special file system (${fsType}); choose a normal directory`,
      field,
    );
  }
  try {
    accessSync(at, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const where = at === dir ? dir : `${dir} (cannot create it in ${at})`;
    throw new InputError(`${field}: ${where} is not writable: ${REASONS[code] ?? code}`, field);
  }
}
