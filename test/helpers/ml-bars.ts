/** Bars for the ML tests: the real S&P 500 daily series and a synthetic multi-symbol panel, and a DuckDB `bars` table over them. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Panel } from '../../src/backtest/types';
import { openDuckDb } from '../../src/lake/duckdb';
import type { QueryEngine, Row } from '../../src/lake/query';

/** S&P 500 daily closes and volumes 2000-01-03 .. 2020-04-17 (vega-datasets). */
export function sp500Panel(): Panel {
  const file = new URL('../../node_modules/vega-datasets/data/sp500-2000.csv', import.meta.url);
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const dates: string[] = [];
  const close = new Float64Array(lines.length);
  const volume = new Float64Array(lines.length);
  lines.forEach((l, i) => {
    const c = l.split(',');
    dates.push(c[0]);
    close[i] = Number(c[4]);
    volume[i] = Number(c[6]);
  });
  return { symbols: ['SPX'], dates, close: [close], volume: [volume] };
}

/** A deterministic random-walk universe on one daily calendar, with ties in some returns. */
export function syntheticPanel(symbols = 5, bars = 300, seed = 3): Panel {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const dates = Array.from({ length: bars }, (_, t) =>
    new Date(Date.UTC(2021, 0, 4) + t * 86_400_000).toISOString().slice(0, 10),
  );
  const close: Float64Array[] = [];
  const volume: Float64Array[] = [];
  for (let a = 0; a < symbols; a++) {
    const c = new Float64Array(bars);
    const v = new Float64Array(bars);
    let p = 50 + 10 * a;
    for (let t = 0; t < bars; t++) {
      p *= 1 + (rnd() - 0.5) * 0.04;
      // Symbols 0 and 1 share prices every 7th stretch: equal returns, so ranks have ties.
      c[t] = a === 1 && t % 7 === 0 ? close[0][t] : Math.round(p * 100) / 100;
      v[t] = Math.round(1e5 + rnd() * 1e6);
    }
    close.push(c);
    volume.push(v);
  }
  return { symbols: Array.from({ length: symbols }, (_, a) => `SYN${a}`), dates, close, volume };
}

/** A DuckDB engine with a `bars` table (the lake's columns) holding the panels' bars. */
export async function duckDbWithBars(panels: readonly Panel[]): Promise<QueryEngine> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ml-bars-'));
  const file = path.join(dir, 'bars.csv');
  const lines = ['symbol,ts,close,volume,interval'];
  for (const p of panels)
    p.symbols.forEach((sym, a) =>
      p.dates.forEach((d, t) =>
        lines.push(`${sym},${d} 00:00:00,${p.close[a][t]},${p.volume ? p.volume[a][t] : ''},1d`),
      ),
    );
  writeFileSync(file, lines.join('\n'));
  const db = await openDuckDb();
  await db.con.run(
    `CREATE TABLE bars AS SELECT * FROM read_csv('${file}', header = true, columns = {'symbol': 'VARCHAR', 'ts': 'TIMESTAMP', 'close': 'DOUBLE', 'volume': 'DOUBLE', 'interval': 'VARCHAR'})`,
  );
  rmSync(dir, { recursive: true, force: true });
  return {
    kind: 'duckdb',
    async query(sql: string): Promise<Row[]> {
      return (await db.con.runAndReadAll(sql)).getRowObjectsJS() as Row[];
    },
    async close() {
      db.close();
    },
  };
}
