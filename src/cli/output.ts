/** Terminal output helpers shared by every command: progress bars, JSON (tables: src/format.ts). */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jsonReplacer } from '../format';

export interface ProgressBar {
  tick(n?: number): void;
  done(): void;
}

/**
 * A progress bar on stderr when stderr is a terminal and output is not machine-readable;
 * a no-op otherwise, so piped and `--json` output stays parseable.
 */
export function progressBar(label: string, total: number, enabled = true): ProgressBar {
  const stream = process.stderr;
  if (!enabled || !stream.isTTY || total <= 0) return { tick: () => {}, done: () => {} };
  let done = 0;
  let lastDraw = 0;
  const started = Date.now();
  const draw = (): void => {
    const width = 30;
    const frac = Math.min(1, done / total);
    const filled = Math.round(frac * width);
    const secs = (Date.now() - started) / 1000;
    stream.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${(frac * 100).toFixed(0)}% ${secs.toFixed(1)}s`,
    );
  };
  return {
    tick(n = 1) {
      done += n;
      const now = Date.now();
      if (now - lastDraw > 100 || done >= total) {
        lastDraw = now;
        draw();
      }
    },
    done() {
      draw();
      stream.write('\n');
    },
  };
}

export { formatCsv, formatTable, jsonReplacer, type Row } from '../format';

/** `k=v k=v`: parameters (or counts) on one line. */
export const pairsText = (o: Readonly<Record<string, unknown>>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer)}\n`);
}

/**
 * Writes a file atomically (a temp file beside it, then a rename) so a failed run never leaves half
 * a report.
 */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}
