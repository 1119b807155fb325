import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import { checkDataDir } from '../../../src/local/data-dir';
import { runQuant } from '../../helpers/quant-cli';

const root = path.resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'data-dir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function problem(dir: string): string {
  try {
    checkDataDir(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  return 'ok';
}

describe('checkDataDir', () => {
  it('accepts an existing directory and one that can be created', () => {
    expect(problem(tmp)).toBe('ok');
    expect(problem(path.join(tmp, 'new', 'deeper'))).toBe('ok');
  });

  it('names a file, a file as parent and a pseudo file system', () => {
    const file = path.join(tmp, 'file');
    writeFileSync(file, 'x');
    expect(problem(file)).toBe(`--data-dir: ${file} is not a directory`);
    expect(problem(path.join(file, 'sub'))).toBe(`--data-dir: ${file}/sub: ${file} is not a directory`);
    expect(problem('/proc/x')).toBe(
      '--data-dir: /proc/x is on a special file system (proc); choose a normal directory',
    );
  });

  it('names a directory the user cannot write', () => {
    const locked = path.join(tmp, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o555);
    // root may write anywhere: check as an unprivileged user then (uid 65534, "nobody").
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    chmodSync(tmp, 0o755);
    // The check, bundled into the temp dir, so that "nobody" needs no access to the repository.
    const script = path.join(tmp, 'check.mjs');
    buildSync({
      entryPoints: [path.join(root, 'src/local/data-dir.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: script,
      logLevel: 'silent',
    });
    writeFileSync(
      path.join(tmp, 'run.mjs'),
      `import { checkDataDir } from './check.mjs';\ntry { checkDataDir(${JSON.stringify(path.join(locked, 'q'))}); console.log('ok'); } catch (e) { console.log(e.message); }\n`,
    );
    const r = spawnSync(process.execPath, [path.join(tmp, 'run.mjs')], { encoding: 'utf8', ...asNobody });
    expect(r.stdout.trim()).toBe(
      `--data-dir: ${locked}/q (cannot create it in ${locked}) is not writable: permission denied`,
    );
  });
});

describe('quant --data-dir', () => {
  it('exits 2 promptly with the problem, no stack trace, nothing started', async () => {
    for (const [dir, message] of [
      ['/proc/x', /\/proc\/x is on a special file system \(proc\)/],
      [path.join(tmp, 'file'), /is not a directory/],
    ] as const) {
      const r = await runQuant(['--data-dir', dir, 'risk', 'status', '--account', 'main']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
