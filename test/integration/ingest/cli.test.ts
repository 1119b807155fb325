import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_EVENT_BUS_FILE } from '../../../src/contract/bars';

const root = path.resolve(import.meta.dirname, '../../..');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-cli-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function quant(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/quant.js'), '--data-dir', dataDir, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const T = '1767605400000000000'; // 2026-01-05T09:30:00Z in ns
const header = 'type,symbol,venue,seq,exchange_ts,receive_ts,price,size,bid,bid_size,ask,ask_size';

describe('quant ingest / bars (CLI)', () => {
  it('replays a CSV into the local stream, lands it in the lake and builds bars', () => {
    const csv = path.join(dataDir, 'ticks.csv');
    fs.writeFileSync(
      csv,
      [
        header,
        `trade,CLI,XTST,1,${T},${T},10,1,,,,`,
        `quote,CLI,XTST,2,${BigInt(T) + 1000n},${BigInt(T) + 2000n},,,9.9,100,10.1,200`,
        `trade,CLI,XTST,3,${BigInt(T) + 30_000_000_000n},${BigInt(T) + 30_000_000_000n},12,2,,,,`,
        `trade,CLI,XTST,4,${BigInt(T) + 61_000_000_000n},${BigInt(T) + 61_000_000_000n},11,1,,,,`,
      ].join('\n'),
    );
    const replay = quant('ingest', 'replay', '--from', 'csv', '--file', csv, '--json');
    expect(replay.stderr).not.toMatch(/error/);
    expect(JSON.parse(replay.stdout)).toMatchObject({ eventsSent: 4, eventsFailed: 0 });
    const run = quant('ingest', 'run', '--json');
    expect(JSON.parse(run.stdout)).toMatchObject({ written: 4 });
    const bars = quant('bars', 'build', '--interval', '1m', '--dt', '2026-01-05', '--json');
    expect(JSON.parse(bars.stdout)).toMatchObject({ bars: 2, symbols: ['CLI'] });
    // The build announced itself on the local bus (src/ingest/bars-events.ts).
    const bus = fs
      .readFileSync(path.join(dataDir, LOCAL_EVENT_BUS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(bus).toHaveLength(1);
    expect(bus[0]).toMatchObject({
      'detail-type': 'BarsUpdated',
      source: 'quant.bars',
      detail: { interval: '1m', symbols: ['CLI'], through: '2026-01-05T09:32:00.000Z', rows: 2 },
    });
    const q = quant(
      'query',
      `SELECT ts, open, high, low, close, volume, trades FROM bars WHERE symbol = 'CLI' ORDER BY ts`,
      '--json',
    );
    expect(JSON.parse(q.stdout)).toEqual([
      { ts: '2026-01-05T09:31:00.000Z', open: 10, high: 12, low: 10, close: 12, volume: 3, trades: 2 },
      { ts: '2026-01-05T09:32:00.000Z', open: 11, high: 11, low: 11, close: 11, volume: 1, trades: 1 },
    ]);
  });

  it('refuses bad input with exit code 2, a message naming the problem, and sends nothing', () => {
    const csv = path.join(dataDir, 'bad.csv');
    fs.writeFileSync(
      csv,
      [
        header,
        `trade,BAD,XTST,1,${T},${T},-5,1,,,,`,
        `trade,BAD,XTST,x,${T},${T},5,1,,,,`,
        `trade,BAD,XTST,3`,
      ].join('\n'),
    );
    const r = quant('ingest', 'replay', '--from', 'csv', '--file', csv);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/3 bad row\(s\), nothing was sent/);
    expect(r.stderr).toMatch(/bad\.csv:2\.price: must be > 0/);
    expect(r.stderr).toMatch(/bad\.csv:3\.seq/);
    expect(r.stderr).toMatch(/bad\.csv:4\(expected 12 fields, got 4\)/);
    for (const [args, msg] of [
      [['ingest', 'replay', '--from', 'kafka'], /--from: "kafka" is not one of csv, parquet, synthetic/],
      [['ingest', 'replay', '--from', 'csv'], /--file: required with --from csv/],
      [
        ['ingest', 'replay', '--from', 'synthetic', '--symbols', 'A/B'],
        /--symbols: invalid symbol\(s\) A\/B/,
      ],
      [['ingest', 'replay', '--from', 'synthetic', '--count', '0'], /--count: "0" is not a positive integer/],
      [['bars', 'build', '--interval', '5m'], /--interval: "5m" is not one of 1m, 1d/],
    ] as const) {
      const e = quant(...args);
      expect(e.status, args.join(' ')).toBe(2);
      expect(e.stderr).toMatch(msg);
    }
  });
});
