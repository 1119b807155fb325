/**
 * The daily stress job (lambda/risk-stress) in process against the local cloud: the book and
 * limits from the risk table (dynalite), the returns window from the curated zone (s3rver), the
 * result into the audit zone. It gives what `quant risk stress --scenarios --reverse --json` gives
 * on the same files, with hand-computed P&L, and publishes the breaches as metrics.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AwsClients } from '../../../src/aws/clients';
import { STRESS_METRICS } from '../../../src/contract/metrics';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { writeReturnsWindow } from '../../../src/risk/returns-source';
import { RiskStore } from '../../../src/risk/store';
import { readSp500, resolveScenarios, STANDARD_SCENARIOS } from '../../../src/risk/stress-scenarios';
import { BookStore, bookToPortfolio } from '../../../src/trading/book';
import { localLambdaEnv } from '../../../src/trading/lambda-support';
import { ensureLocalTradingTables } from '../../../src/trading/tables';
import { runQuant } from '../../helpers/quant-cli';
import { localCloudWorld } from '../../helpers/local-cloud';

const world = localCloudWorld({ name: 'risk-stress-job', shared: true });
const { dir } = world;
let clients: AwsClients;
type Handler = (event: unknown, context: Context) => Promise<Record<string, unknown>>;
let handler: Handler;
const context = { functionName: 'risk-stress', awsRequestId: 's' } as unknown as Context;

const LIMITS = {
  securities: {
    SPY: { region: 'US', assetClass: 'equity', sector: 'broad market', beta: 1 },
    EEM: { region: 'Emerging', assetClass: 'equity', sector: 'broad market', beta: 1.5 },
    AGG: { region: 'US', assetClass: 'fixedIncome', sector: 'aggregate bonds', duration: 6 },
    GLD: { region: 'Global', assetClass: 'commodity', sector: 'precious metals' },
    FXE: { region: 'Europe', assetClass: 'fx', sector: 'currency' },
  },
  limits: { maxDrawdown: 0.15, maxDailyLoss: 0.25, varBudget: 0.05, maxPositionWeight: 0.9 },
};
// NAV 1,000,000 = cash 260,000 + 740,000 of positions.
const POSITIONS = {
  SPY: { qty: 1000, price: 400 }, // 400,000
  EEM: { qty: 2500, price: 40 }, // 100,000, beta 1.5
  AGG: { qty: 2000, price: 100 }, // 200,000, duration 6
  GLD: { qty: 500, price: 180 }, // 90,000
  FXE: { qty: -500, price: 100 }, // −50,000
};
const RETURNS: Record<string, number[]> = Object.fromEntries(
  Object.keys(POSITIONS).map((s, i) => [
    s,
    Array.from({ length: 60 }, (_, t) => 0.01 * Math.sin(t * (i + 1) * 0.7) - 0.002 * (t % 5 === 0 ? i : 0)),
  ]),
);
const scenarios = resolveScenarios(STANDARD_SCENARIOS, readSp500);

beforeAll(async () => {
  const { cloud } = world;
  const rt = cloud.runtime;
  if (rt.mode !== 'local') throw new Error('expected a local runtime');
  Object.assign(process.env, localLambdaEnv(rt), {
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'false',
    POWERTOOLS_TRACE_ENABLED: 'false',
  });
  clients = world.clients;
  const tables = await ensureLocalTradingTables(clients.dynamodb);
  await new RiskStore(clients.doc, tables.risk).putLimits('desk', LIMITS);
  const books = new BookStore(clients.doc, tables.risk);
  const book = await books.create('desk', 100_000_000);
  await books.replace(book, { ...book, cashCents: 26_000_000, positions: POSITIONS });
  await writeReturnsWindow(clients.s3, LOCAL_BUCKETS.curated, 'desk', RETURNS);
  handler = (await import('../../../lambda/risk-stress/index')).handler as unknown as Handler;
}, 120_000);

async function auditObject(key: string): Promise<Record<string, unknown>> {
  const r = await clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: key }));
  return JSON.parse(await r.Body!.transformToString()) as Record<string, unknown>;
}

describe('risk-stress job (scheduled Lambda)', () => {
  it('stresses the stored book as quant risk stress does, writes the audit record, publishes metrics', async () => {
    let stdout = '';
    // POWERTOOLS_DEV: the metrics go to the global console, one EMF document per line.
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      stdout += `${a.map(String).join(' ')}\n`;
    });
    let r: Record<string, unknown>;
    try {
      r = await handler({ account: 'desk', scenarios, reverse: true }, context);
    } finally {
      spy.mockRestore();
    }
    const day = new Date().toISOString().slice(0, 10);
    expect(r.key).toBe(`risk/stress/desk/${day}.json`);
    const byName = Object.fromEntries(
      (r.scenarios as { name: string; pnl: number; breaches: string[] }[]).map((s) => [s.name, s]),
    );
    // By hand: equity −20% moves SPY 400,000 × −0.2 and EEM 100,000 × 1.5 × −0.2.
    expect(byName['equity -20%']).toEqual({ name: 'equity -20%', pnl: -110_000, breaches: [] });
    expect(byName['rates +100bp'].pnl).toBe(-12_000); // −200,000 × 6 × 0.01
    expect(byName['fx +10%'].pnl).toBe(-5_000); // −50,000 × 0.1
    expect(byName['oil -30%'].pnl).toBe(-27_000); // 90,000 × −0.3
    // Correlation 1: every position × beta × −0.2 = (400 + 150 + 200 + 90 − 50) thousand × −0.2.
    expect(byName['correlation 1'].pnl).toBe(-158_000);
    expect(byName['correlation 1'].breaches).toContain('maxDrawdown'); // 15.8% > 15%
    // The worst: 2008, the S&P 500's fall from its 2007 peak to its 2009 trough on the equities,
    // with the episode's other markets: AGG −200,000 × 6 × −0.0175 = +21,000, GLD 90,000 × −0.35
    // = −31,500, FXE −50,000 × 0.13 = −6,500 (src/risk/stress-scenarios.ts REPLAYS).
    const replay = scenarios.find((s) => s.name === 'replay 2008')!.replay!;
    expect(replay).toMatchObject({ peak: '2007-10-09', trough: '2009-03-09' });
    const fall = replay.troughClose / replay.peakClose - 1;
    expect((r.worst as { name: string }).name).toBe('replay 2008');
    expect((r.worst as { pnl: number }).pnl).toBeCloseTo(550_000 * fall - 17_000, 1);

    // The whole result is in the audit zone, and equals the CLI's on the same inputs.
    const stored = await auditObject(r.key as string);
    const files = {
      limits: path.join(dir, 'limits.json'),
      portfolio: path.join(dir, 'portfolio.json'),
      returns: path.join(dir, 'returns.json'),
      scenarios: path.join(dir, 'scenarios.json'),
    };
    const book = await new BookStore(clients.doc, 'quant-risk').get('desk');
    writeFileSync(files.limits, JSON.stringify(LIMITS));
    writeFileSync(files.portfolio, JSON.stringify(bookToPortfolio(book!, 'ACTIVE')));
    writeFileSync(files.returns, JSON.stringify(RETURNS));
    writeFileSync(files.scenarios, JSON.stringify(STANDARD_SCENARIOS));
    const cli = await runQuant([
      'risk',
      'stress',
      '--limits',
      files.limits,
      '--portfolio',
      files.portfolio,
      '--returns',
      files.returns,
      '--scenarios',
      files.scenarios,
      '--reverse',
      '--json',
    ]);
    expect(cli.code, cli.err).toBe(0);
    const expected = JSON.parse(cli.out) as { scenarios: unknown[]; reverse: unknown };
    expect(stored.scenarios).toEqual(expected.scenarios);
    expect(stored.reverse).toEqual(expected.reverse);
    expect(stored).toMatchObject({ account: 'desk', nav: 1_000_000, breaches: r.breaches });
    expect(stored.varBudgetNotEvaluated).toBeUndefined();
    expect((stored.reverse as { equity: number }).equity).toBeLessThan(0);

    // Metrics (embedded metric format): the breaches and each scenario's P&L.
    const docs = stdout
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const breachDoc = docs.find((d) => STRESS_METRICS.breaches in d);
    expect(breachDoc?.[STRESS_METRICS.breaches]).toBe(r.breaches);
    expect(breachDoc?.[STRESS_METRICS.worstPnlPctNav]).toBeCloseTo(55 * fall - 1.7, 4);
    const pnlDoc = docs.find((d) => d[STRESS_METRICS.scenarioDimension] === 'rates +100bp');
    expect(pnlDoc?.[STRESS_METRICS.pnl]).toBe(-12_000);
  });

  it('without a returns window it still stresses, and says why the VaR budget was not evaluated', async () => {
    const tables = await ensureLocalTradingTables(clients.dynamodb);
    await new RiskStore(clients.doc, tables.risk).putLimits('nowindow', LIMITS);
    const books = new BookStore(clients.doc, tables.risk);
    const book = await books.create('nowindow', 100_000_000);
    await books.replace(book, { ...book, cashCents: 60_000_000, positions: { SPY: POSITIONS.SPY } });
    const r = await handler(
      { account: 'nowindow', scenarios: scenarios.slice(0, 1), reverse: false },
      context,
    );
    const stored = await auditObject(r.key as string);
    expect(stored.varBudgetNotEvaluated).toMatch(/risk\/returns\/nowindow\.json/);
    expect(r.worst).toEqual({ name: 'equity -20%', pnl: -80_000, pnlPctNav: -8 });
  });

  it('bad input names the field and writes nothing', async () => {
    const before = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'risk/stress/' }),
    );
    const cases: Array<[unknown, RegExp]> = [
      [{ account: 'desk', scenarios: [] }, /stress job: scenarios: must list at least one scenario/],
      [
        { account: 'desk', scenarios: [{ name: 'x', shocks: { equity: 'a' } }] },
        /scenarios\.0\.shocks\.equity/,
      ],
      [{ account: 'desk', scenarios, extra: 1 }, /stress job: .*extra/],
      [{ account: 'nobody', scenarios }, /no limits stored for account nobody/],
    ];
    for (const [event, message] of cases) await expect(handler(event, context)).rejects.toThrow(message);
    const after = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'risk/stress/' }),
    );
    expect(after.KeyCount).toBe(before.KeyCount);
  });
});
