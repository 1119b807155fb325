/** The main job (`npm start`) end to end on a fresh data dir, twice: the second run gives the same result. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPython } from '../../../src/ml/workflow/python';

const repo = path.resolve(import.meta.dirname, '../../..');
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'demo-'));

function demo(): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/quant.js'), '--data-dir', dataDir, 'demo']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Output without what legitimately differs between runs: timings and work skipped on a re-run. */
function stable(out: string): string {
  return (
    out
      .split('\n')
      .filter((l) => !/^\s+\(\d+\.\d s\)$/.test(l))
      .map((l) => l.replace(/\(\d+ run now, \d+ already done\) in \d+ batch task\(s\)/, '(...)'))
      .map((l) => l.replace(/\d+ copied, \d+ unchanged/, 'N copied, N unchanged'))
      .map((l) => l.replace(/\(\d+ added by this run\)/, '(N added by this run)'))
      // A re-run produces nothing into Kinesis: the ticks of the first run are already landed.
      .filter((l) => !/^ingest: (produced|consumer wrote|the seeded ticks .* already)/.test(l.trim()))
      .filter((l) => !/feed events already ingested by an earlier run/.test(l))
      .map((l) => l.replace(/; \d+ events in \d+ records put to Kinesis \w+/, ''))
      .join('\n')
  );
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('npm start (quant demo)', () => {
  it('runs every phase, and a second run gives the same result', async () => {
    const first = await demo();
    expect(first.stderr).not.toMatch(/^error:/m);
    expect(first.code).toBe(0);
    const out = first.stdout;
    expect(out).toContain('S&P 500 (vega-datasets sp500-2000.csv) as SPX: 5105 daily bars');
    expect(out).toContain('22680 daily bars');
    expect(out).toMatch(/^\s+SPX\s+5105\s+2000-01-03\s+2020-04-17/m);
    expect(out).toMatch(/synced vendor reference data: 1 copied, 0 unchanged, 0 failed/);
    expect(out).toMatch(
      /sweep sw-[0-9a-f]+: sma-cross on lake:SPX, 90 parameter sets \(90 run now, 0 already done\)/,
    );
    expect(out).toMatch(/top five by Sharpe/);
    expect(out).toMatch(/paper trading sma-cross on SPX/);
    expect(out).toMatch(/^\[7\/11\] CME MDP 3.0 feed/m);
    expect(out).toMatch(
      /relayed 20001 packets to a UDP subscriber \(all received\); 14430 events in \d+ records put to Kinesis ticks/,
    );
    // The consumer lands the ingest phase's 60,000 synthetic ticks and the feed's 14,430 events.
    expect(out).toMatch(/ingest: consumer wrote 74430 ticks to the raw zone, quarantined 0/);
    expect(out).toMatch(/^\s+DEMOA\s+2026-01-05/m); // the session date, as imported daily bars
    // The ML phase: the whole chain with Python and PyTorch, else exactly what is missing.
    expect(out).toMatch(/^\[9\/11\] machine learning/m);
    const python = await checkPython();
    if (python.ok) {
      expect(out).toMatch(/features \(DuckDB SQL over the lake\): \d+ labelled rows of SPX/);
      expect(out).toMatch(/trained mlp on CPU \(training\/train.py, job demo\): held-out IC -?\d/);
      expect(out).toMatch(/registered ml-signal@\d+ in s3:\/\/quant-models\/models\//);
      expect(out).toMatch(
        /winner on the held-out window: (ml-signal \(ml-signal@\d+\)|sma-cross 20\/50); promoted to paper/,
      );
      expect(out).toMatch(
        /paper trading through the strategy runner \(last 250 bars\): \d+ signals, \d+ orders/,
      );
    } else {
      expect(out).toContain(`skipped (the rest of the demo goes on without ML): ${python.message}`);
      expect(out).toMatch(/apt-get install .*python3-torch/);
    }
    // Alternative data: one day of sentiment next to returns, point in time.
    expect(out).toMatch(/^\[10\/11\] alternative data/m);
    expect(out).toMatch(
      /from the seeded news API simulator .*: \d+ articles in \d+ pages, (\d+) rows in news_sentiment \(\1 added by this run\)/,
    );
    expect(out).toMatch(/^\s+symbol\s+close\s+return_pct\s+articles\s+sentiment/m);
    expect(out).toMatch(/point in time: .* 20:00 UTC cut-off/);
    // Global macro: the allocation through every level of the risk limits, and its stress table.
    expect(out).toMatch(/^\[11\/11\] global macro/m);
    expect(out).toMatch(
      /global-macro on SPY EFA EEM AGG TLT GLD DBC UUP FXE \(lake, 2520 days, 10M\): return -?\d+\.\d\d%, Sharpe -?\d\.\d{3}/,
    );
    const gate =
      /risk engine \(.*\): (\d+) orders, (\d+) approved, (\d+) resized, (\d+) rejected; by rule: (.*)$/m.exec(
        out,
      );
    expect(gate).not.toBeNull();
    const [orders, approved, resized, rejected] = gate!.slice(1, 5).map(Number);
    expect(approved + resized + rejected).toBe(orders);
    // The hierarchy acts: region, asset-class and position limits each resize or reject orders.
    for (const rule of ['regionCap', 'assetClassCap', 'maxPositionWeight'])
      expect(gate![5]).toMatch(new RegExp(`\\b${rule} [1-9]\\d* \\(\\d+ resized, \\d+ rejected\\)`));
    expect(out).toMatch(/^\s+scenario\s+shocks\s+pnl\s+pnl % nav\s+breaches$/m);
    for (const row of [
      /^\s+equity -20%\s+equity -20\.00%\s+-?\d+\.\d\d/m,
      /^\s+rates \+100bp\s+rates \+1\.00%/m,
      /^\s+correlation 1\s+equity -20\.00%, correlation 1/m,
      // The replay moves every asset class: the S&P 500's fall and the episode's rates, dollar
      // and commodity moves (src/risk/stress-scenarios.ts REPLAYS).
      /^\s+replay 2008\s+S&P 500 2007-10-09 -> 2009-03-09 \(equity -56\.78%, rates -1\.75%, fx \(dollar\) \+13\.00%, commodity -35\.00%\)/m,
      /^\s+replay 2020\s+S&P 500 2020-02-19 -> 2020-03-23/m,
    ])
      expect(out).toMatch(row);
    expect(out).toMatch(/reverse stress: (a uniform equity shock of -?\d+\.\d\d% breaches \w+|no uniform)/);
    const reports = [
      'backtests-best.html',
      'sweep-best.html',
      'sweep.html',
      'macro-backtest.html',
      'macro-stress.html',
    ];
    const html: Record<string, string> = {};
    for (const report of reports) {
      html[report] = readFileSync(path.join(dataDir, 'reports', report), 'utf8');
      expect(html[report]).toMatch(/^<!doctype html>/i);
      expect(html[report]).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/i); // self-contained
    }
    // The S&P 500 backtests: benchmark line and statistics, rolling risk; SPX is in no reference
    // data, so the report says exposure needs --reference.
    for (const report of ['backtests-best.html', 'sweep-best.html']) {
      expect(html[report]).toContain('Equity against the benchmark (start = 1)');
      expect(html[report]).toContain('<h2>Against the benchmark: buy-and-hold</h2>');
      expect(html[report]).toContain('<b>Information ratio</b>');
      expect(html[report]).toContain('Rolling Sharpe (63 periods)');
      expect(html[report]).toContain('Rolling volatility (63 periods, annualised)');
      expect(html[report]).toContain(
        '<p class="missing">Exposure by region and asset class needs reference data',
      );
    }
    // The macro backtest: benchmark SPY, rolling risk, exposure by region and asset class from the
    // universe's classes, and the risk engine's decisions by rule, resized and rejected apart.
    const macro = html['macro-backtest.html'];
    expect(macro).toContain('<h2>Against the benchmark: SPY</h2>');
    expect(macro).toContain('Rolling Sharpe (63 periods)');
    expect(macro).toContain('Net exposure by region');
    expect(macro).toContain('Net exposure by asset class');
    expect(macro).toMatch(/<title>Developed ex-US<\/title>/);
    expect(macro).toMatch(/<title>fixedIncome<\/title>/);
    expect(macro).toContain('<th>Rule</th><th>Resized</th><th>Rejected</th><th>Orders</th>');
    for (const rule of ['regionCap', 'assetClassCap', 'maxPositionWeight'])
      expect(macro).toMatch(
        new RegExp(`<tr><td>${rule}</td><td>\\d+</td><td>\\d+</td><td>[1-9]\\d*</td></tr>`),
      );
    // The sweep: Sharpe heat map over fast x slow with the best region's verdict.
    expect(html['sweep.html']).toContain('sharpe by fast (columns) and slow (rows)');
    expect(html['sweep.html']).toMatch(/<table class="heat">/);
    expect(html['sweep.html']).toMatch(/The best region is (a plateau|a spike|isolated)/);
    expect(out).toMatch(/sweep heat map \(Sharpe by fast x slow; best region: (plateau|spike|isolated)\)/);
    // The stress report: the scenario table (replays included) and the bars by scenario.
    const stress = html['macro-stress.html'];
    expect(stress).toContain(
      '<th>Scenario</th><th>Shocks</th><th>P&amp;L</th><th>% of NAV</th><th>Breaches</th>',
    );
    for (const name of ['equity -20%', 'rates +100bp', 'replay 2008', 'replay 2020'])
      expect(stress).toContain(`>${name}</a>`);
    expect(stress).toContain('P&amp;L by scenario');
    expect(stress).toContain('S&amp;P 500 2007-10-09 -&gt; 2009-03-09');

    const second = await demo();
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/\(0 run now, 90 already done\)/);
    expect(second.stdout).toMatch(/0 copied, 1 unchanged/);
    expect(second.stdout).toMatch(
      /the seeded ticks of 2026-01-05 are already in the raw zone .*nothing produced/,
    );
    expect(second.stdout).toMatch(/feed events already ingested by an earlier run: not put to Kinesis again/);
    expect(second.stdout).not.toMatch(/quarantined [1-9]/);
    expect(second.stdout).toMatch(/rows in news_sentiment \(0 added by this run\)/);
    expect(stable(second.stdout)).toBe(stable(out));
    // The shared cloud it started stops by itself once idle (src/local/lease.ts; 15 s by default).
    for (let i = 0; i < 600 && existsSync(path.join(dataDir, 'local.json')); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(path.join(dataDir, 'local.json'))).toBe(false);
    // Two whole demos (with training when Python is there) on a shared 2-core machine.
  }, 1_200_000);
});
