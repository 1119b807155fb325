/**
 * The strategy runner on the local cloud: promotion (with its audit event), one signal per bar with
 * a deterministic id and provenance, idempotent re-delivery through the execution path, paper
 * trading through the runner equal to `quant paper`, and the Lambda logic.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import type { Panel } from '../../../src/backtest/types';
import { InputError } from '../../../src/errors';
import { LOCAL_BUCKETS } from '../../../src/local/buckets';
import { LocalCloud } from '../../../src/local/cloud';
import { S3ModelRegistry } from '../../../src/ml/registry/s3-registry';
import { handleRunnerEvent, runnerConfigFromEnv } from '../../../src/strategy-runner/handler';
import { paperThroughRunner } from '../../../src/strategy-runner/paper';
import { promoteStrategy, S3PromotionStore } from '../../../src/strategy-runner/promotions';
import { panelUpTo, runStrategyBar } from '../../../src/strategy-runner/runner';
import type { AuditEvent } from '../../../src/trading/audit';
import { PaperBroker } from '../../../src/trading/broker';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import { executeSignal, type ExecutionDeps } from '../../../src/trading/execution';
import { runPaper } from '../../../src/trading/paper';
import type { Signal } from '../../../src/trading/signals';

const dir = mkdtempSync(path.join(os.tmpdir(), 'runner-'));
let cloud: LocalCloud;
let clients: AwsClients;
let svc: TradingServices;
let registry: S3ModelRegistry;
let store: S3PromotionStore;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir: dir });
  clients = createClients(cloud.runtime);
  svc = await tradingServices(clients, {}, { limitsTtlMs: 0 });
  registry = new S3ModelRegistry(clients.s3, LOCAL_BUCKETS.models);
  store = new S3PromotionStore(clients.s3, LOCAL_BUCKETS.models);
});
afterAll(async () => {
  clients?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A zig-zag: SMA(2) against SMA(4) crosses up and down several times.
const closes = [100, 101, 102, 103, 102, 100, 98, 97, 98, 100, 103, 105, 104, 101, 98, 96, 97, 99, 102, 104];
const panel: Panel = {
  symbols: ['ZZ'],
  dates: closes.map((_, i) => new Date(Date.UTC(2026, 0, 5 + i)).toISOString().slice(0, 10)),
  close: [Float64Array.from(closes)],
  volume: [Float64Array.from(closes, () => 1e6)],
};

async function auditEvents(): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  const list = await clients.s3.send(
    new ListObjectsV2Command({ Bucket: LOCAL_BUCKETS.audit, Prefix: 'audit_events/' }),
  );
  for (const o of list.Contents ?? []) {
    const r = await clients.s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.audit, Key: o.Key! }));
    for (const line of (await r.Body!.transformToString()).split('\n').filter(Boolean))
      out.push(JSON.parse(line));
  }
  return out;
}

const deps = () => ({ store, registry, audit: svc.audit });

describe('quant strategy promote (promoteStrategy)', () => {
  it('records the strategy and parameters per environment with an audit event naming what it replaced', async () => {
    const a = await promoteStrategy(deps(), {
      env: 'staging',
      strategy: 'sma-cross',
      params: { fast: '3', slow: '6' },
      actor: 'alice',
    });
    expect(a.promotion).toMatchObject({
      env: 'staging',
      strategy: 'sma-cross',
      params: { fast: 3, slow: 6 },
      revision: 1,
    });
    const b = await promoteStrategy(deps(), {
      env: 'staging',
      strategy: 'ts-momentum',
      params: { lookback: 5 },
      actor: 'bob',
    });
    expect(b.previous?.strategy).toBe('sma-cross');
    expect((await store.get('staging'))?.strategy).toBe('ts-momentum');
    expect(await store.get('prod')).toBeUndefined();
    const ev = (await auditEvents()).filter((e) => e.type === 'promotion' && e.account === 'staging');
    expect(ev.map((e) => [e.strategy, e.detail.actor, e.detail.revision])).toEqual([
      ['sma-cross', 'alice', 1],
      ['ts-momentum', 'bob', 2],
    ]);
    expect(ev[1].detail.previous).toMatchObject({ strategy: 'sma-cross', params: { fast: 3, slow: 6 } });
  });

  it('refuses unknown strategies, bad parameters, a model for a rule-based strategy, and writes nothing', async () => {
    await expect(promoteStrategy(deps(), { env: 'prod', strategy: 'nope', actor: 'x' })).rejects.toThrow(
      /unknown strategy "nope"/,
    );
    await expect(
      promoteStrategy(deps(), {
        env: 'prod',
        strategy: 'sma-cross',
        params: { fast: 'x', slow: 4 },
        actor: 'x',
      }),
    ).rejects.toThrow(InputError);
    await expect(
      promoteStrategy(deps(), {
        env: 'prod',
        strategy: 'sma-cross',
        params: { fast: 2, slow: 4 },
        model: { modelName: 'ml-signal', version: 1 },
        actor: 'x',
      }),
    ).rejects.toThrow(/rule-based and trades no model/);
    expect(await store.get('prod')).toBeUndefined();
  });
});

describe('runStrategyBar', () => {
  it('emits a signal where the targets change: id from (env, account, strategy, bar time), weights, provenance', async () => {
    await promoteStrategy(deps(), {
      env: 'paper',
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      actor: 't',
    });
    const emitted: Signal[] = [];
    const runner = {
      promotions: store,
      registry,
      account: 'acct-1',
      emit: async (s: Signal) => void emitted.push(s),
    };
    const t = 9; // sma-cross 2/4 goes long at bar 9 and stays long at bar 10
    const r = await runStrategyBar(runner, { env: 'paper', panel: panelUpTo(panel, t, 400) });
    const again = await runStrategyBar(runner, { env: 'paper', panel: panelUpTo(panel, t, 400) });
    const barTime = Date.UTC(2026, 0, 5 + t);
    expect(r.signal?.signalId).toBe(`sr.paper.acct-1.sma-cross.${barTime}`);
    expect(again.signal).toEqual(r.signal);
    expect(r.signal?.targets).toEqual([{ symbol: 'ZZ', targetWeight: 1, price: 100, priceTime: barTime }]);
    expect(r.signal?.provenance).toEqual({ env: 'paper', inputsHash: r.inputsHash });
    expect(r.inputsHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // An unchanged target emits nothing; a change of an earlier bar changes the hash, not the id.
    const next = await runStrategyBar(runner, { env: 'paper', panel: panelUpTo(panel, t + 1, 400) });
    expect(next.signal).toBeUndefined();
    const forced = await runStrategyBar(runner, {
      env: 'paper',
      panel: panelUpTo(panel, t + 1, 400),
      always: true,
    });
    expect(forced.signal?.signalId).toBe(`sr.paper.acct-1.sma-cross.${barTime + 86_400_000}`);
    const edited: Panel = { ...panel, close: [Float64Array.from(closes, (c, i) => (i === 3 ? c + 0.5 : c))] };
    const e = await runStrategyBar(runner, { env: 'paper', panel: panelUpTo(edited, t, 400) });
    expect(e.signal?.signalId).toBe(r.signal?.signalId);
    expect(e.inputsHash).not.toBe(r.inputsHash);
    expect(emitted.length).toBe(4);
  });

  it('a redelivered bar trades once: the same signal id, and the book already at its targets', async () => {
    const account = 'runner-idem';
    await svc.books.create(account, 100_000_000);
    await svc.risk.putLimits(account, {
      securities: { ZZ: { region: 'US', assetClass: 'equity' } },
      limits: {
        maxPositionWeight: 1,
        maxGrossLeverage: 2,
        maxOrderNotional: 5_000_000,
        maxReferenceAgeMs: 60_000,
      },
    });
    const t = 9;
    const now = Date.UTC(2026, 0, 5 + t);
    const exec: ExecutionDeps = {
      doc: clients.doc,
      ordersTable: svc.tables.orders,
      risk: svc.risk,
      books: svc.books,
      broker: new PaperBroker(() => ({ price: closes[t] })),
      audit: svc.audit,
      now: () => now,
    };
    const results: Awaited<ReturnType<typeof executeSignal>>[] = [];
    const runner = {
      promotions: store,
      registry,
      account,
      emit: async (s: Signal) => void results.push(await executeSignal(exec, s)),
    };
    await runStrategyBar(runner, { env: 'paper', panel: panelUpTo(panel, t, 400) });
    await runStrategyBar(runner, { env: 'paper', panel: panelUpTo(panel, t, 400) });
    expect(results[0].orders.map((o) => [o.side, o.status])).toEqual([['buy', 'FILLED']]);
    expect(results[1].signalId).toBe(results[0].signalId);
    expect(results[1].orders).toEqual([]);
    const book = await svc.books.get(account);
    expect(book?.positions.ZZ?.qty).toBe(results[0].orders[0].filledQty);
    const signalEvents = (await auditEvents()).filter((e) => e.type === 'signal' && e.account === account);
    expect((signalEvents[0].detail.signal as Signal).provenance?.inputsHash).toMatch(/^sha256:/);
  });

  it('says when nothing is promoted to the environment', async () => {
    const runner = { promotions: store, registry, account: 'a', emit: async () => {} };
    await expect(runStrategyBar(runner, { env: 'prod', panel })).rejects.toThrow(
      /no strategy promoted to prod/,
    );
  });
});

describe('paper trading through the runner', () => {
  it('trades what quant paper trades for the same strategy and bars', async () => {
    const viaRunner = await paperThroughRunner(
      { clients, svc, promotions: store, registry },
      { env: 'paper', panel, lastBars: panel.dates.length, runId: 'via-runner' },
    );
    const direct = await runPaper(clients, svc, {
      strategy: 'sma-cross',
      params: { fast: 2, slow: 4 },
      panel,
      runId: 'direct',
    });
    const trades = (b: typeof direct.blotter) =>
      b.map((o) => [o.symbol, o.side, o.qty, o.status, o.fillPrice]);
    expect(viaRunner.blotter.length).toBeGreaterThan(2);
    expect(trades(viaRunner.blotter)).toEqual(trades(direct.blotter));
    expect(viaRunner.finalNav).toBe(direct.finalNav);
    expect(viaRunner.signals).toBe(direct.signals);
    expect(viaRunner.deadLetters).toBe(0);
    expect(viaRunner.strategy).toBe('sma-cross');
  });
});

describe('the Lambda logic (handleRunnerEvent)', () => {
  const config = runnerConfigFromEnv({
    STRATEGY_ENV: 'paper',
    STRATEGY_ACCOUNT: 'lambda-acct',
    STRATEGY_SYMBOLS: 'ZZ',
    SIGNAL_BUS: 'bus',
  });
  const bars = {
    read: async (_s: string, _i: string, from: number, to: number) =>
      panel.dates
        .map((d, i) => ({ time: Date.parse(`${d}T00:00:00Z`), close: closes[i], volume: 1e6 }))
        .filter((b) => b.time >= from && b.time <= to),
  };

  it('runs on the bars up to the event time and emits the signal for that bar', async () => {
    const emitted: Signal[] = [];
    const r = await handleRunnerEvent(
      { config, bars, runner: { promotions: store, registry }, emit: async (s) => void emitted.push(s) },
      { 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-01-14T00:00:00Z', id: 'x' },
    );
    expect(r.signal?.signalId).toBe(`sr.paper.lambda-acct.sma-cross.${Date.UTC(2026, 0, 14)}`);
    expect(emitted).toEqual([r.signal]);
    const viaBars = await handleRunnerEvent(
      { config, bars, runner: { promotions: store, registry }, emit: async () => {} },
      {
        'detail-type': 'BarsUpdated',
        source: 'quant.bars',
        time: '2026-01-20T05:00:00Z',
        detail: { through: '2026-01-14T00:00:00Z' },
      },
    );
    expect(viaBars.signal).toEqual(r.signal);
  });

  it('rejects malformed events naming the field, and bad configuration naming the variable', async () => {
    const h = { config, bars, runner: { promotions: store, registry }, emit: async () => {} };
    await expect(
      handleRunnerEvent(h, { 'detail-type': 'Scheduled Event', source: 'aws.events', time: 'soon' }),
    ).rejects.toThrow(/event: .*time/);
    await expect(handleRunnerEvent(h, { foo: 1 })).rejects.toThrow(InputError);
    expect(() => runnerConfigFromEnv({ STRATEGY_ENV: 'live' })).toThrow(
      /STRATEGY_ENV: "live" is not one of paper, staging, prod/,
    );
    expect(() => runnerConfigFromEnv({ STRATEGY_ENV: 'paper' })).toThrow(/STRATEGY_ACCOUNT is required/);
  });
});
