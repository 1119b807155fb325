/**
 * Paper trading: replays bars through the same execution handler (idempotency, DLQ, risk engine,
 * conditional book reservation) and the paper broker, on a simulated clock. A strategy emits a
 * signal at the close of a bar where its target changes (the backtest timing convention), priced
 * at that close; the book is marked to market at every bar so drawdown and daily-loss limits act.
 */
import { randomUUID } from 'node:crypto';
import { TRADING_SIGNAL_DETAIL_TYPE, TRADING_SIGNAL_SOURCE } from '../contract/trading';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { AwsClients } from '../aws/clients';
import { getStrategy, parseStrategyParams, prepareStrategy } from '../backtest/strategies';
import { withModelInputs } from '../ml/model-inputs';
import type { NewsReader } from '../news/reader';
import type { Panel } from '../backtest/types';
import { InputError } from '../errors';
import { parseRiskConfig } from '../risk/schemas';
import type { RiskConfig } from '../risk/types';
import { limitUtilization, type Utilization } from '../risk/utilization';
import { ReturnsWindow } from '../risk/var';
import { SimulatedClock, type AlgoSpec } from './algos';
import { bookToPortfolio, markToMarket, type Book } from './book';
import { PaperBroker } from './broker';
import { LocalChildScheduler } from './child-scheduler';
import type { TradingServices } from './context';
import { createExecutionHandler, executionStores, type SignalOutcome } from './execution-handler';
import type { OrderRecord } from './execution';
import { returnsFromPanel } from '../risk/returns-source';
import { lakeBuckets } from '../lake/buckets';
import { LakeMinuteBars } from './quotes';
import { computeTca, tcaInputsFromBlotter, type TcaRow } from './tca';
import { panelTape } from './tca-lake';

export interface PaperOptions {
  readonly strategy: string;
  readonly params?: Readonly<Record<string, string | number | boolean>>;
  readonly panel: Panel;
  /** @default 1,000,000 */
  readonly nav?: number;
  /** Paper broker commission in bps. @default 1 */
  readonly costBps?: number;
  /** Limits (securities and rules). @default every symbol a US equity, defaults below */
  readonly limits?: unknown;
  /** Trade only the last N bars (the strategy still sees all of them). @default all */
  readonly lastBars?: number;
  /** @default a random id */
  readonly runId?: string;
  /**
   * Days of returns before the first traded bar for the VaR and correlation rules (used when the
   * limits set `varBudget` or `maxCorrelatedExposure`). @default 250
   */
  readonly returnsDays?: number;
  /**
   * Work every order as a parent with this algorithm: its children are released on the simulated
   * clock after the bar close, priced and filled at that close (the simulated market between bars),
   * through the same child path as the state machine in AWS. The schedule must end before the
   * next bar. @default plain orders
   */
  readonly algo?: AlgoSpec;
  /** Reader of the lake's news_sentiment, for models on feature set version 2 (src/ml/model-inputs.ts). */
  readonly news?: NewsReader;
}

export interface PaperResult {
  readonly account: string;
  readonly signals: number;
  readonly blotter: OrderRecord[];
  readonly utilization: Utilization[];
  readonly book: Book;
  readonly state: string;
  readonly deadLetters: number;
  readonly startNav: number;
  readonly finalNav: number;
  /** Transaction cost analysis of every parent order (src/trading/tca.ts), on the run's bars. */
  readonly tca: TcaRow[];
}

/** Limits for a paper run when none are given: sized for single-asset and small-universe strategies. */
export function defaultPaperLimits(panel: Panel): RiskConfig {
  const securities = Object.fromEntries(
    panel.symbols.map((s, a) => {
      const v = panel.volume?.[a];
      let adv: number | undefined;
      if (v && v.length > 0) {
        let sum = 0;
        for (let t = 0; t < v.length; t++) sum += v[t];
        adv = sum / v.length > 0 ? sum / v.length : undefined;
      }
      return [s, { region: 'US', assetClass: 'equity', ...(adv ? { adv } : {}) }];
    }),
  );
  const hasAdv = Object.values(securities).every((s) => 'adv' in s);
  return {
    securities,
    limits: {
      maxPositionWeight: 1,
      maxGrossLeverage: 2,
      maxOrderNotional: 5_000_000,
      maxReferenceAgeMs: 60_000,
      ...(hasAdv ? { maxOrderAdvFraction: 0.1 } : {}),
      regionCaps: { US: 2 },
      maxDrawdown: 0.5,
      maxDailyLoss: 0.1,
    },
  };
}

/**
 * Daily close-to-close returns of every symbol over the `days` bars before bar `end` (exclusive):
 * only what was known before trading starts, so the risk rules never see the future. Undefined
 * when fewer than two returns exist.
 */
export function returnsWindowBefore(panel: Panel, end: number, days: number): ReturnsWindow | undefined {
  if (end - Math.max(1, end - days) < 2) return undefined;
  return new ReturnsWindow(returnsFromPanel(panel, days, end));
}

const LOCAL_CONTEXT = {
  functionName: 'execution-local',
  awsRequestId: 'local',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

export async function runPaper(
  clients: AwsClients,
  svc: TradingServices,
  opts: PaperOptions,
): Promise<PaperResult> {
  const { panel } = opts;
  const strategy = getStrategy(opts.strategy);
  const params = parseStrategyParams(opts.strategy, opts.params ?? {});
  if (panel.symbols.length < strategy.minSymbols || panel.symbols.length > strategy.maxSymbols) {
    throw new InputError(
      `bars: ${opts.strategy} takes ${strategy.minSymbols}-${strategy.maxSymbols} symbols, got ${panel.symbols.length}`,
      'bars',
    );
  }
  await prepareStrategy(opts.strategy, params);
  // A model that needs more than bars (news sentiment) gets it the way it was trained on.
  const inputs = await withModelInputs(panel, [params], () => opts.news);
  const weights = strategy.positions(inputs, params);
  const n = panel.dates.length;
  const first = opts.lastBars === undefined ? 0 : Math.max(0, n - opts.lastBars);
  const config =
    opts.limits === undefined ? defaultPaperLimits(panel) : parseRiskConfig(opts.limits, 'limits');
  const runId = opts.runId ?? randomUUID().slice(0, 8);
  const account = `paper-${runId}`;
  const navCents = Math.round((opts.nav ?? 1_000_000) * 100);
  await svc.books.create(account, navCents);
  await svc.risk.putLimits(account, config);

  const times = panel.dates.map((d) => Date.parse(d.length === 10 ? `${d}T00:00:00Z` : d));
  const clock = new SimulatedClock(times[first]);
  const close = new Map<string, number>();
  const broker = new PaperBroker((s) => (close.has(s) ? { price: close.get(s)! } : undefined), {
    commissionBps: opts.costBps ?? 1,
  });
  const outcomes: SignalOutcome[] = [];
  const needsWindow =
    config.limits.varBudget !== undefined || config.limits.maxCorrelatedExposure !== undefined;
  const window = needsWindow ? returnsWindowBefore(panel, first, opts.returnsDays ?? 250) : undefined;
  if (needsWindow && !window) {
    throw new InputError(
      `bars: the VaR / correlation limits need at least 3 bars before the traded ones (got ${first}); lower --last`,
      'bars',
    );
  }
  let minGap = Infinity;
  for (let t = first + 1; t < n; t++) minGap = Math.min(minGap, times[t] - times[t - 1]);
  if (opts.algo && opts.algo.durationSec * 1000 >= minGap) {
    throw new InputError(
      `algo.durationSec: the schedule (${opts.algo.durationSec} s) must end before the next bar (${minGap / 1000} s apart)`,
      'algo.durationSec',
    );
  }
  const scheduler = opts.algo ? new LocalChildScheduler() : undefined;
  const execDeps = {
    ...executionStores(clients, svc),
    window,
    broker,
    now: clock.now,
    scheduler,
    // A VWAP without a volume curve builds one from the lake's 1-minute bars (as in AWS).
    minuteBars:
      opts.algo?.algo === 'vwap' && !opts.algo.volumeCurve
        ? new LakeMinuteBars(clients.s3, lakeBuckets(clients.runtime, process.env).curated)
        : undefined,
  };
  const handler = createExecutionHandler({
    ...execDeps,
    onOutcome: (o) => outcomes.push(o),
  });

  let signals = 0;
  for (let t = first; t < n; t++) {
    clock.advanceTo(times[t]);
    const prices: Record<string, number> = {};
    panel.symbols.forEach((s, a) => {
      prices[s] = panel.close[a][t];
      close.set(s, panel.close[a][t]);
    });
    const book = await markToMarket(
      svc.books,
      account,
      prices,
      new Date(times[t]).toISOString().slice(0, 10),
    );
    await svc.risk.apply(
      { account },
      { type: 'auto', portfolio: bookToPortfolio(book, 'ACTIVE'), limits: config.limits },
    );
    const changed = t === first || panel.symbols.some((_, a) => weights[a][t] !== weights[a][t - 1]);
    if (!changed) continue;
    signals++;
    const detail = {
      signalId: `${account}-${t}`,
      account,
      strategy: opts.strategy,
      createdAt: times[t],
      targets: panel.symbols.map((symbol, a) => ({
        symbol,
        targetWeight: weights[a][t],
        price: panel.close[a][t],
        priceTime: times[t],
      })),
      ...(opts.algo ? { algo: opts.algo } : {}),
    };
    await handler.eventBridge(
      {
        id: detail.signalId,
        'detail-type': TRADING_SIGNAL_DETAIL_TYPE,
        source: TRADING_SIGNAL_SOURCE,
        detail,
      },
      LOCAL_CONTEXT,
    );
    await scheduler?.run(execDeps, clock, (s, time) =>
      close.has(s) ? { price: close.get(s)!, priceTime: time } : undefined,
    );
  }

  const finalBook = (await svc.books.get(account))!;
  const state = (await svc.risk.getState({ account })).state;
  const blotter = await accountBlotter(clients.doc, svc.tables.orders, account);
  const tca = (await tcaInputsFromBlotter(blotter, panelTape(panel))).map(computeTca);
  return {
    account,
    signals,
    blotter,
    utilization: limitUtilization(config, bookToPortfolio(finalBook, state)),
    book: finalBook,
    state,
    deadLetters: outcomes.filter((o) => o.status === 'dead_letter').length,
    startNav: navCents / 100,
    finalNav: finalBook.navCents / 100,
    tca,
  };
}

/** Rows of the order blotter for a table. */
export function blotterRows(blotter: readonly OrderRecord[]) {
  return blotter.map((o) => ({
    time: o.createdAt.slice(0, 19).replace('T', ' '),
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    approved: o.approvedQty,
    status: o.status,
    fillPrice: o.fillPrice === 0 ? null : Math.round(o.fillPrice * 100) / 100,
    breaches: o.breaches.map((b) => b.rule).join(' '),
  }));
}

/** Rows of the limit-utilization table. */
export function utilizationRows(rows: readonly Utilization[]) {
  return rows.map((u) => ({
    rule: u.rule,
    scope: u.scope,
    value: Math.round(u.value * 1e4) / 1e4,
    limit: u.limit,
    used: `${Number.isFinite(u.pct) ? u.pct.toFixed(1) : '∞'}%`,
  }));
}

/** Every order of an account, in creation order (ties by order id): the paper blotter. */
export async function accountBlotter(
  doc: DynamoDBDocumentClient,
  ordersTable: string,
  account: string,
): Promise<OrderRecord[]> {
  const blotter: OrderRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: ordersTable,
        FilterExpression: 'account = :a',
        ExpressionAttributeValues: { ':a': account },
        ExclusiveStartKey: start,
      }),
    );
    blotter.push(...((page.Items ?? []) as OrderRecord[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return blotter.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.orderId.localeCompare(b.orderId));
}
