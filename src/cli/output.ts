/** Terminal output helpers shared by every command: tables, progress bars, JSON. */

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

export type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '');
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v, jsonReplacer);
  return String(v);
}

/** Renders rows as an aligned text table (numbers right-aligned). */
export function formatTable(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => b[i].length)));
  const numeric = cols.map((c) =>
    rows.every((r) => r[c] === null || ['number', 'bigint'].includes(typeof r[c])),
  );
  const line = (vals: readonly string[]): string =>
    vals
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** RFC 4180 CSV. */
export function formatCsv(rows: readonly Row[], columns?: readonly string[]): string {
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  const esc = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [cols.map(esc).join(','), ...rows.map((r) => cols.map((c) => esc(cell(r[c]))).join(','))].join('\n');
}

/** JSON.stringify replacer: bigints as numbers when exact, else decimal strings; Dates as ISO. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  return value;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, jsonReplacer)}\n`);
}
