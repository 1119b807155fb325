/**
 * Paper trading through the strategy runner: bars are replayed one at a time on a simulated clock;
 * at each bar the runner reads the environment's promotion, runs the strategy on the bars up to
 * that bar and emits its signal, which goes through the same execution handler as `quant paper`
 * (idempotency, DLQ, risk engine, conditional book reservation, audit) to the paper broker. This
 * is what the runner does in AWS on each bar, with the clock and the broker simulated.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../aws/clients';
import type { Panel } from '../backtest/types';
import { STRATEGY_RUNNER_EVENT, type Environment } from '../contract/models';
import { InputError } from '../errors';
import type { ModelRegistry } from '../ml/registry/types';
import { sentimentWindows } from '../news/daily';
import { PrefetchedNewsReader, type NewsReader } from '../news/reader';
import { SimulatedClock } from '../trading/algos';
import { bookToPortfolio, markToMarket, type Book } from '../trading/book';
import { PaperBroker } from '../trading/broker';
import type { TradingServices } from '../trading/context';
import { createExecutionHandler, executionStores, type SignalOutcome } from '../trading/execution-handler';
import type { OrderRecord } from '../trading/execution';
import type { Signal } from '../trading/signals';
import { accountBlotter, defaultPaperLimits } from '../trading/paper';
import type { PromotionStore } from './promotions';
import { barTimeOf, panelUpTo, runStrategyBar, type BarStrategy, type ModelStrategyFactory } from './runner';

export interface RunnerPaperOptions {
  readonly env: Environment;
  readonly panel: Panel;
  /** Trade only the last N bars (the strategy still sees `lookback` bars before each). @default 250 */
  readonly lastBars?: number;
  /** Bars of history the runner gives the strategy at each bar. @default 400 */
  readonly lookback?: number;
  /** @default 1,000,000 */
  readonly nav?: number;
  /** @default 1 */
  readonly costBps?: number;
  /** @default random */
  readonly runId?: string;
}

export interface RunnerPaperResult {
  readonly account: string;
  readonly env: Environment;
  readonly strategy: string;
  readonly modelVersion?: number;
  readonly bars: number;
  readonly signals: number;
  readonly blotter: OrderRecord[];
  readonly book: Book;
  readonly deadLetters: number;
  readonly startNav: number;
  readonly finalNav: number;
  /** Wall time of the runner per bar (promotion read, strategy, signal), ms: p50 and max. */
  readonly runnerMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

const LOCAL_CONTEXT = {
  functionName: 'strategy-runner-local',
  awsRequestId: 'local',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

export interface RunnerPaperDeps {
  readonly clients: AwsClients;
  readonly svc: TradingServices;
  readonly promotions: PromotionStore;
  readonly registry: ModelRegistry;
  readonly modelStrategy?: ModelStrategyFactory;
  /** Reader of the lake's news_sentiment (models on feature set version 2 need it). */
  readonly news?: NewsReader;
}

export async function paperThroughRunner(
  deps: RunnerPaperDeps,
  opts: RunnerPaperOptions,
): Promise<RunnerPaperResult> {
  const { clients, svc } = deps;
  const panel = opts.panel;
  const n = panel.dates.length;
  if (n < 2) throw new InputError('bars: at least 2 bars are needed', 'bars');
  const first = Math.max(0, n - (opts.lastBars ?? 250));
  const lookback = opts.lookback ?? 400;
  const account = `paper-${opts.runId ?? randomUUID().slice(0, 8)}`;
  const navCents = Math.round((opts.nav ?? 1_000_000) * 100);
  const config = defaultPaperLimits(panel);
  await svc.books.create(account, navCents);
  await svc.risk.putLimits(account, config);
  const times = panel.dates.map(barTimeOf);
  const clock = new SimulatedClock(times[first]);
  const close = new Map<string, number>();
  const broker = new PaperBroker((s) => (close.has(s) ? { price: close.get(s)! } : undefined), {
    commissionBps: opts.costBps ?? 1,
  });
  const outcomes: SignalOutcome[] = [];
  const handler = createExecutionHandler({
    ...executionStores(clients, svc),
    broker,
    now: clock.now,
    onOutcome: (o) => outcomes.push(o),
  });
  // Each bar reads its own window; the replay's whole range is read once.
  const windows = deps.news ? sentimentWindows(panel.dates) : undefined;
  const news =
    deps.news &&
    windows &&
    new PrefetchedNewsReader(deps.news, panel.symbols, windows.lo[0], windows.hi[windows.hi.length - 1]);
  // Time the runner alone (promotion, model, strategy, signal), not the execution it triggers.
  let emitted = Number.NaN;
  const runnerDeps = {
    news,
    promotions: deps.promotions,
    registry: deps.registry,
    account,
    modelStrategy: deps.modelStrategy,
    models: new Map<string, Promise<BarStrategy>>(),
    now: clock.now,
    emit: async (signal: Signal) => {
      emitted = performance.now();
      await handler.eventBridge(
        {
          id: signal.signalId,
          'detail-type': STRATEGY_RUNNER_EVENT.detailType,
          source: STRATEGY_RUNNER_EVENT.source,
          detail: signal,
        },
        LOCAL_CONTEXT,
      );
    },
  };
  const spent: number[] = [];
  let strategy = '';
  let modelVersion: number | undefined;
  for (let t = first; t < n; t++) {
    clock.advanceTo(times[t]);
    const prices: Record<string, number> = {};
    panel.symbols.forEach((s, a) => {
      prices[s] = panel.close[a][t];
      close.set(s, panel.close[a][t]);
    });
    const book = await markToMarket(svc.books, account, prices, panel.dates[t].slice(0, 10));
    await svc.risk.apply(
      { account },
      { type: 'auto', portfolio: bookToPortfolio(book, 'ACTIVE'), limits: config.limits },
    );
    emitted = Number.NaN;
    const t0 = performance.now();
    const r = await runStrategyBar(runnerDeps, {
      env: opts.env,
      panel: panelUpTo(panel, t, lookback),
      always: t === first,
    });
    spent.push((Number.isNaN(emitted) ? performance.now() : emitted) - t0);
    strategy = r.promotion.strategy;
    modelVersion = r.modelVersion;
  }
  const finalBook = (await svc.books.get(account))!;
  const blotter = await accountBlotter(clients.doc, svc.tables.orders, account);
  const sorted = [...spent].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  return {
    account,
    env: opts.env,
    strategy,
    modelVersion,
    bars: n - first,
    signals: outcomes.length,
    blotter,
    book: finalBook,
    deadLetters: outcomes.filter((o) => o.status === 'dead_letter').length,
    startNav: navCents / 100,
    finalNav: finalBook.navCents / 100,
    runnerMs: { p50: q(0.5), p99: q(0.99), max: sorted[sorted.length - 1] ?? 0 },
  };
}
