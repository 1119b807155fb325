import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import {
  resolveDefinitionString,
  runLocalStateMachine,
  walkStates,
  type Json,
} from '../../../src/local/stepfunctions';
import { S3ReturnsSource } from '../../../src/risk/returns-source';
import { SimulatedClock } from '../../../src/trading/algos';
import type { AuditEvent } from '../../../src/trading/audit';
import { LocalChildScheduler, childTask } from '../../../src/trading/child-scheduler';
import {
  executeSignal,
  getOrder,
  submitChildOrder,
  type ChildScheduler,
  type ParentPlan,
} from '../../../src/trading/execution';
import { tradingServices } from '../../../src/trading/context';
import { runPaper } from '../../../src/trading/paper';
import { parseSignal } from '../../../src/trading/signals';
import { resourcesOfType, template, testApp } from '../../infra/helpers';
import { countingBroker, tradingWorld } from '../../helpers/trading-world';

const NOW = Date.UTC(2026, 10, 20, 14, 30, 0);
const QUOTES: Record<string, number> = { AAPL: 190, MSFT: 400 };
const quote = (s: string) => (QUOTES[s] ? { price: QUOTES[s] } : undefined);
const SEC = {
  AAPL: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 50_000_000, referencePrice: 190 },
  MSFT: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 20_000_000, referencePrice: 400 },
};
const w = tradingWorld({ accounts: 'algo', now: NOW, quote, broker: () => countingBroker(quote).broker });
const { deps } = w;
const account = (limits: Record<string, unknown> = { maxPositionWeight: 0.5 }) =>
  w.account({ securities: SEC, limits });
/** A broker that records every client order id it was sent. */
const counting = () => countingBroker(quote);

const algoSignal = (signalId: string, acct: string, qty: number, algo: unknown) =>
  parseSignal({
    signalId,
    account: acct,
    strategy: 'algo',
    createdAt: NOW,
    orders: [{ symbol: 'AAPL', side: 'buy', qty, price: 190, priceTime: NOW - 1000 }],
    algo,
  });

async function auditEvents(orderPrefix: string): Promise<AuditEvent[]> {
  const list = await w.clients.s3.send(
    new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'audit_events/' }),
  );
  const out: AuditEvent[] = [];
  for (const o of list.Contents ?? []) {
    const body = await w.clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: o.Key! }));
    for (const l of (await body.Body!.transformToString()).split('\n')) if (l) out.push(JSON.parse(l));
  }
  return out.filter((e) => e.orderId?.startsWith(orderPrefix));
}

describe('algorithm parents → scheduled child orders (dynalite, simulated clock)', () => {
  it('a TWAP parent becomes N children with the right quantities and times, each a checked, filled order', async () => {
    const a = await account();
    const scheduler = new LocalChildScheduler();
    const { broker, sent } = counting();
    const sig = algoSignal('twap-1', a, 1000, { algo: 'twap', durationSec: 3600, slices: 12 });
    const r = await executeSignal(deps({ scheduler, broker }), sig);
    expect(r.orders).toEqual([]);
    expect(r.parents).toHaveLength(1);
    expect(r.parents[0]).toMatchObject({
      orderId: 'twap-1:AAPL',
      status: 'SCHEDULED',
      slices: 12,
      qty: 1000,
    });
    expect(sent).toEqual([]); // nothing leaves before its time

    const plan = scheduler.plans.get('twap-1:AAPL')!;
    // 1000 / 12 = 83.33: four children of 84 and eight of 83 (largest remainder), every 300 s
    expect(plan.children.map((c) => c.qty)).toEqual([84, 84, 84, 84, 83, 83, 83, 83, 83, 83, 83, 83]);
    expect(plan.children.map((c) => Date.parse(c.at) - NOW)).toEqual(
      Array.from({ length: 12 }, (_, i) => i * 300_000),
    );

    const clock = new SimulatedClock(NOW);
    const done = await scheduler.run(deps({ broker, now: clock.now }), clock);
    expect(done.map((d) => d.order.status)).toEqual(Array(12).fill('FILLED'));
    expect(done.map((d) => d.order.orderId)).toEqual(
      Array.from({ length: 12 }, (_, i) => `twap-1:AAPL#${i}`),
    );
    expect(done[11].order.createdAt).toBe(new Date(NOW + 11 * 300_000).toISOString());
    expect(sent).toHaveLength(12);
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(1000);
    const checks = (await auditEvents('twap-1:AAPL#')).filter((e) => e.type === 'check');
    expect(checks).toHaveLength(12);
  });

  it('one child delivered twice (also concurrently) is one order; a redelivered signal schedules nothing new', async () => {
    const a = await account();
    const starts: ParentPlan[] = [];
    const scheduler: ChildScheduler = { start: async (p) => void starts.push(p) };
    const { broker, sent } = counting();
    const sig = algoSignal('twap-dup', a, 100, { algo: 'twap', durationSec: 600, slices: 2 });
    const first = await executeSignal(deps({ scheduler, broker }), sig);
    const again = await executeSignal(deps({ scheduler, broker }), sig);
    expect(first.parents[0].createdAt).toBe(again.parents[0].createdAt); // the same parent record
    // The schedule is started again (in AWS the execution name makes that a no-op) with the same plan.
    expect(starts).toHaveLength(2);
    expect(starts[1]).toEqual(starts[0]);

    const child = starts[0].children[0];
    const rs = await Promise.all([1, 2, 3].map(() => submitChildOrder(deps({ broker }), child)));
    rs.push(await submitChildOrder(deps({ broker }), child));
    expect(rs.filter((x) => !x.duplicate)).toHaveLength(1);
    expect(sent).toEqual(['twap-dup:AAPL#0']);
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(50);
  });

  it('a child for an account the deployment does not trade is INVALID and never sent', async () => {
    const a = await account();
    const starts: ParentPlan[] = [];
    const scheduler: ChildScheduler = { start: async (p) => void starts.push(p) };
    const { broker, sent } = counting();
    await executeSignal(
      deps({ scheduler, broker }),
      algoSignal('twap-foreign', a, 100, { algo: 'twap', durationSec: 600, slices: 2 }),
    );
    const out = await childTask(deps({ broker, tradedAccount: 'someone-else' }), starts[0].children[0]);
    expect(out).toEqual({
      status: 'INVALID',
      reason: `account ${a}: not traded by this deployment (it trades someone-else)`,
    });
    expect(sent).toEqual([]);
  });

  it('HALTED mid-schedule: the remaining children are rejected (tradingState) and audited, none sent', async () => {
    const a = await account();
    const scheduler = new LocalChildScheduler();
    const { broker, sent } = counting();
    await executeSignal(
      deps({ scheduler, broker }),
      algoSignal('twap-halt', a, 400, { algo: 'twap', durationSec: 400, slices: 4 }),
    );
    const plan = scheduler.plans.get('twap-halt:AAPL')!;
    const clock = new SimulatedClock(NOW);
    const d = deps({ broker, now: clock.now });
    const out = [];
    for (const [i, child] of plan.children.entries()) {
      clock.advanceTo(Date.parse(child.at));
      if (i === 2) await w.risk.halt({ account: a }, 'risk-officer', 'drill');
      out.push(await childTask(d, child));
    }
    expect(out.map((o) => o.status)).toEqual(['FILLED', 'FILLED', 'REJECTED', 'REJECTED']);
    expect(sent).toEqual(['twap-halt:AAPL#0', 'twap-halt:AAPL#1']);
    expect((await getOrder(d, 'twap-halt:AAPL#3'))!.breaches).toEqual([
      { rule: 'tradingState', limit: 0, value: 0 },
    ]);
    const audited = (await auditEvents('twap-halt:AAPL#3')).map((e) => [
      e.type,
      e.detail.decision ?? e.detail.status,
    ]);
    expect(audited).toEqual([
      ['check', 'reject'],
      ['order', 'REJECTED'],
    ]);
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(200);
  });

  it('VWAP follows the volume curve; POV caps each bucket at the rate and leaves the rest unscheduled', async () => {
    const a = await account();
    const scheduler = new LocalChildScheduler();
    await executeSignal(
      deps({ scheduler }),
      algoSignal('vwap-1', a, 100, { algo: 'vwap', durationSec: 300, volumeCurve: [3, 1, 0, 6] }),
    );
    const vwap = scheduler.plans.get('vwap-1:AAPL')!.children;
    expect(vwap.map((c) => [Date.parse(c.at) - NOW, c.qty])).toEqual([
      [0, 30],
      [75_000, 10],
      [225_000, 60],
    ]);
    const r = await executeSignal(
      deps({ scheduler }),
      algoSignal('pov-1', a, 100, {
        algo: 'pov',
        durationSec: 120,
        participationRate: 0.1,
        volumes: [200, 350],
      }),
    );
    expect(scheduler.plans.get('pov-1:AAPL')!.children.map((c) => c.qty)).toEqual([20, 35]);
    expect(r.parents[0]).toMatchObject({ slices: 2, unscheduledQty: 45 });
  });

  it('a bad algo spec or child names the field; an algo signal without a scheduler is refused', async () => {
    const a = await account();
    expect(() => algoSignal('bad-1', a, 10, { algo: 'twap', durationSec: 60, slices: 0 })).toThrow(
      /algo\.slices: must be a whole number from 1 to 500/,
    );
    expect(() => algoSignal('bad-2', a, 10, { algo: 'pov', durationSec: 60, volumes: [1] })).toThrow(
      /algo\.participationRate/,
    );
    expect(() => algoSignal('bad-3', a, 10, { algo: 'iceberg' })).toThrow(/algo/);
    await expect(
      executeSignal(deps(), algoSignal('no-sched', a, 10, { algo: 'twap', durationSec: 60, slices: 2 })),
    ).rejects.toThrow(/algo: no child scheduler/);
    expect(await childTask(deps(), { parentId: 'p', index: -1 })).toMatchObject({
      status: 'INVALID',
      reason: expect.stringMatching(/index: must be a whole number >= 0/),
    });
  });
});

describe('VaR and correlation limits in the execution path (returns window from the curated zone)', () => {
  // AAPL and MSFT move together (corr 1); daily moves of ±2% / ±1%
  const WINDOW = {
    AAPL: Array.from({ length: 100 }, (_, i) => (i % 2 ? 0.02 : -0.02)),
    MSFT: Array.from({ length: 100 }, (_, i) => (i % 2 ? 0.01 : -0.01)),
  };
  const put = (key: string, body: string) =>
    w.clients.s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.curated, Key: key, Body: body }));
  const buyAapl = (signalId: string, acct: string, qty: number) =>
    parseSignal({
      signalId,
      account: acct,
      strategy: 'var',
      createdAt: NOW,
      orders: [{ symbol: 'AAPL', side: 'buy', qty, price: 190, priceTime: NOW - 1000 }],
    });

  it('no window source: an order under varBudget is rejected with rule returnsWindow, never passed', async () => {
    const a = await account({ varBudget: 0.01 });
    const { broker, sent } = counting();
    const r = await executeSignal(deps({ broker }), buyAapl('var-none', a, 10));
    expect(r.orders[0]).toMatchObject({
      status: 'REJECTED',
      breaches: [{ rule: 'returnsWindow', limit: 0, value: 0 }],
      reason: 'no returns window source configured',
    });
    expect(sent).toEqual([]);
  });

  it('reads the window from S3, checks VaR with it, caches it for the TTL, and rejects a missing or bad one', async () => {
    const a = await account({ varBudget: 0.01, maxPositionWeight: 1 });
    let t = NOW;
    const returns = new S3ReturnsSource(w.clients.s3, LOCAL_BUCKETS.curated, { ttlMs: 5000, now: () => t });
    const d = deps({ returns });
    // missing object: rejected, with the object named
    const miss = await executeSignal(d, buyAapl('var-miss', a, 10));
    expect(miss.orders[0].breaches).toEqual([{ rule: 'returnsWindow', limit: 0, value: 0 }]);
    expect(miss.orders[0].reason).toMatch(/s3:\/\/.*\/risk\/returns\/algo-\d+\.json: no returns window/);

    await put(`risk/returns/${a}.json`, JSON.stringify(WINDOW));
    // still the cached miss within the TTL
    expect((await executeSignal(d, buyAapl('var-cached', a, 10))).orders[0].status).toBe('REJECTED');
    t += 5000;
    // 99% historical VaR of a 2% mover: 2% of the position. Budget 1% of 1,000,000 = 10,000
    // → at most 500,000 of AAPL (2,631 shares at 190): 1,000 shares pass, 4,000 more resize to 1,631.
    const ok = await executeSignal(d, buyAapl('var-ok', a, 1000));
    expect(ok.orders[0]).toMatchObject({ status: 'FILLED', approvedQty: 1000 });
    const big = await executeSignal(d, buyAapl('var-big', a, 4000));
    expect(big.orders[0].decision).toBe('resize');
    expect(big.orders[0].breaches.map((b) => b.rule)).toEqual(['varBudget']);
    expect(big.orders[0].approvedQty).toBe(1631);

    // a malformed window: rejected, the problem names the field
    const b = await account({ varBudget: 0.01 });
    await put(`risk/returns/${b}.json`, JSON.stringify({ AAPL: [0.01, 'x'] }));
    const bad = await executeSignal(deps({ returns }), buyAapl('var-bad', b, 10));
    expect(bad.orders[0].status).toBe('REJECTED');
    expect(bad.orders[0].reason).toMatch(/AAPL\.1: /);
    // a window without the ordered symbol: rejected (the engine would skip the rule for it)
    const c = await account({ maxCorrelatedExposure: 0.2 });
    await put(`risk/returns/${c}.json`, JSON.stringify({ MSFT: WINDOW.MSFT }));
    const noSym = await executeSignal(deps({ returns }), buyAapl('var-nosym', c, 10));
    expect(noSym.orders[0].reason).toBe('returns window has no series for AAPL');
  });

  it('accounts without VaR or correlation limits trade without a window', async () => {
    const a = await account({ maxPositionWeight: 0.05 });
    const r = await executeSignal(deps(), buyAapl('var-free', a, 10));
    expect(r.orders[0].status).toBe('FILLED');
  });
});

describe('the synthesized algo state machine, run locally (aws-local-stepfunctions)', () => {
  it('Map → Wait (shortened) → the child task: every child once, a failed attempt retried without a second order', async () => {
    const stage = testApp([dev], { 'aws:cdk:bundling-stacks': [] }).stages.dev;
    const [[, machine]] = resourcesOfType(template(stage.trading), 'AWS::StepFunctions::StateMachine');
    const def = resolveDefinitionString(machine.Properties!.DefinitionString);
    const waits: string[] = [];
    walkStates(def, (name, state) => {
      if (state.Type !== 'Wait') return;
      // The real machine waits until each child's time; here the wait is shortened to zero.
      waits.push(String(state.TimestampPath));
      delete state.TimestampPath;
      state.Seconds = 0;
    });
    expect(waits).toEqual(['$.at']);

    const a = await account();
    const scheduler = new LocalChildScheduler();
    const { broker, sent } = counting();
    await executeSignal(
      deps({ scheduler, broker }),
      algoSignal('sfn-1', a, 300, { algo: 'twap', durationSec: 900, slices: 3 }),
    );
    const plan = scheduler.plans.get('sfn-1:AAPL')!;
    let failOnce = true;
    const tasks: string[] = [];
    const run = await runLocalStateMachine({
      definition: def,
      input: plan as unknown as Json,
      resolveTask: (info) => {
        tasks.push(info.stateName);
        return async (input) => {
          const r = await childTask(deps({ broker }), input);
          // A transient failure after the order went out: the retry must find it, not resend it.
          if (failOnce) {
            failOnce = false;
            throw new Error('connection reset');
          }
          return r as unknown as Json;
        };
      },
    });
    expect(run.output).toEqual(plan as unknown as Json); // results discarded: the input passes through
    expect(tasks).toEqual(['Submit child']);
    expect(sent).toEqual(['sfn-1:AAPL#0', 'sfn-1:AAPL#1', 'sfn-1:AAPL#2']);
    expect((await w.books.get(a))!.positions.AAPL.qty).toBe(300);
  }, 60_000);
});

describe('quant paper with an algorithm: children on the simulated clock', () => {
  const closes = [100, 101, 102, 103, 102, 100, 98, 97, 98, 100, 103, 105, 104, 101, 98, 96];
  const panel = {
    symbols: ['ZZ'],
    dates: closes.map((_, i) => new Date(Date.UTC(2026, 0, 5 + i)).toISOString().slice(0, 10)),
    close: [Float64Array.from(closes)],
  };

  it('each order becomes a TWAP parent whose children fill at the bar close, within the day', async () => {
    const svc = await tradingServices(w.clients, {}, { limitsTtlMs: 0 });
    const r = await runPaper(w.clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel,
      nav: 100_000,
      costBps: 0,
      runId: 'algo-twap',
      algo: { algo: 'twap', durationSec: 3600, slices: 4 },
    });
    const parents = r.blotter.filter((o) => o.status === 'SCHEDULED');
    const children = r.blotter.filter((o) => o.parentId !== undefined);
    expect(parents.length).toBeGreaterThanOrEqual(2);
    for (const p of parents) {
      const mine = children.filter((c) => c.parentId === p.orderId);
      expect(mine).toHaveLength(4);
      expect(mine.reduce((s, c) => s + c.qty, 0)).toBe(p.qty);
      expect(mine.every((c) => c.status === 'FILLED')).toBe(true);
      const bar = Date.parse(p.createdAt);
      expect(mine.map((c) => Date.parse(c.createdAt) - bar).sort((x, y) => x - y)).toEqual([
        0, 900_000, 1_800_000, 2_700_000,
      ]);
      const close = closes[panel.dates.indexOf(p.createdAt.slice(0, 10))];
      for (const c of mine) expect(c.fillPrice).toBe(close);
    }
    const held = children.reduce((s, o) => s + (o.side === 'buy' ? 1 : -1) * o.filledQty, 0);
    expect(r.book.positions.ZZ?.qty ?? 0).toBe(held);
  }, 60_000);

  it('a schedule longer than the bar spacing is refused, naming the field', async () => {
    const svc = await tradingServices(w.clients, {}, { limitsTtlMs: 0 });
    await expect(
      runPaper(w.clients, svc, {
        strategy: 'sma-cross',
        params: { fast: 2, slow: 4 },
        panel,
        runId: 'algo-long',
        algo: { algo: 'twap', durationSec: 86_400, slices: 4 },
      }),
    ).rejects.toThrow(/algo\.durationSec: the schedule \(86400 s\) must end before the next bar/);
  });
});
