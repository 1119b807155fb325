/**
 * The strategy runner's Lambda logic (lambda/strategy-runner is a thin shell): an EventBridge
 * schedule or the bars pipeline's event triggers one run for the configured environment; the
 * symbols' bars come from the curated zone (up to the event's time), and the signal goes to the
 * trading bus as a `TradingSignal` event, which the execution function handles (risk,
 * idempotency by signal id, audit).
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import type { Panel } from '../backtest/types';
import {
  DEFAULT_RUNNER_BAR_INTERVAL,
  STRATEGY_RUNNER_ENV,
  STRATEGY_RUNNER_EVENT,
  ENVIRONMENTS,
} from '../contract/models';
import { BARS_UPDATED_EVENT } from '../contract/bars';
import { int, list, oneOf, optionalText, readEnv, text } from '../contract/env';
import { describeZodIssues, InputError } from '../errors';
import type { LakeBar, LakeBarReader } from '../lake/bars-reader';
import type { Signal } from '../trading/signals';
import { runStrategyBar, type BarOutcome, type RunnerDeps } from './runner';

const scheduled = z.looseObject({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
  time: z.iso.datetime(),
});
const barsUpdated = z.looseObject({
  'detail-type': z.literal(BARS_UPDATED_EVENT.detailType),
  source: z.string().min(1),
  time: z.iso.datetime(),
  detail: z.looseObject({
    interval: z.string().optional(),
    /** Close time of the newest bar written (ISO): the run uses bars up to it. */
    through: z.iso.datetime().optional(),
  }),
});
export const runnerEventSchema = z.union([scheduled, barsUpdated]);
export type RunnerEvent = z.infer<typeof runnerEventSchema>;

export type RunnerConfig = ReturnType<typeof runnerConfigFromEnv>;

type Env = Readonly<Record<string, string | undefined>>;

/** The runner's configuration from its environment variables; a missing one names the variable. */
export function runnerConfigFromEnv(env: Env) {
  const E = STRATEGY_RUNNER_ENV;
  return readEnv(
    {
      env: oneOf(E.environment, ENVIRONMENTS),
      lookback: int(E.lookbackBars, { min: 2, fallback: 400 }),
      account: text(E.account),
      symbols: list(E.symbols),
      interval: optionalText(E.barInterval, DEFAULT_RUNNER_BAR_INTERVAL),
      signalBus: text(E.signalBus),
    },
    env,
  );
}

const INTERVAL_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function intervalMs(interval: string): number {
  const m = /^(\d+)([smhdw])$/.exec(interval);
  if (!m) throw new Error(`bar interval "${interval}" is not like 1d, 5m`);
  return Number(m[1]) * INTERVAL_MS[m[2]];
}

/** Bars of every symbol on the times they all have, the last `lookback` of them. */
export function alignLakeBars(
  symbols: readonly string[],
  bars: readonly LakeBar[][],
  lookback: number,
): Panel {
  let common: number[] = bars[0]?.map((b) => b.time) ?? [];
  for (const s of bars.slice(1)) {
    const have = new Set(s.map((b) => b.time));
    common = common.filter((t) => have.has(t));
  }
  common = common.slice(-lookback);
  const index = bars.map((s) => new Map(s.map((b) => [b.time, b])));
  const iso = (t: number) => {
    const d = new Date(t).toISOString();
    return d.endsWith('T00:00:00.000Z') ? d.slice(0, 10) : d;
  };
  return {
    symbols,
    dates: common.map(iso),
    close: index.map((m) => Float64Array.from(common, (t) => m.get(t)!.close)),
    volume: index.map((m) => Float64Array.from(common, (t) => m.get(t)!.volume)),
  };
}

export interface HandlerDeps {
  readonly config: RunnerConfig;
  readonly bars: Pick<LakeBarReader, 'read'>;
  readonly runner: Omit<RunnerDeps, 'account' | 'emit'>;
  readonly emit: (signal: Signal) => Promise<void>;
}

/** EventBridge emitter: one `TradingSignal` event per signal; a failed entry is an error (retried). */
export function eventBridgeEmitter(events: Pick<EventBridgeClient, 'send'>, bus: string) {
  return async (signal: Signal): Promise<void> => {
    const r = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: bus,
            Source: STRATEGY_RUNNER_EVENT.source,
            DetailType: STRATEGY_RUNNER_EVENT.detailType,
            Detail: JSON.stringify(signal),
          },
        ],
      }),
      { abortSignal: AbortSignal.timeout(10_000) },
    );
    if (r.FailedEntryCount)
      throw new Error(
        `signal ${signal.signalId}: not put on ${bus}: ${r.Entries?.[0]?.ErrorMessage ?? 'failed'}`,
      );
  };
}

export async function handleRunnerEvent(deps: HandlerDeps, event: unknown): Promise<BarOutcome> {
  const p = runnerEventSchema.safeParse(event);
  if (!p.success) throw new InputError(`event: ${describeZodIssues(p.error.issues)}`, 'event');
  const { config } = deps;
  const ev = p.data;
  const through = ev['detail-type'] === BARS_UPDATED_EVENT.detailType ? ev.detail.through : undefined;
  const at = Date.parse(through ?? ev.time);
  const step = intervalMs(config.interval);
  // Calendar time enough for `lookback` bars with weekends and holidays (daily: ~1.5x).
  const from = at - Math.ceil(config.lookback * 1.6 + 10) * step;
  const bars = await Promise.all(config.symbols.map((s) => deps.bars.read(s, config.interval, from, at)));
  const empty = config.symbols.filter((_, i) => bars[i].length === 0);
  if (empty.length > 0)
    throw new InputError(
      `bars: no ${config.interval} bars up to ${new Date(at).toISOString()} for ${empty.join(', ')}`,
      'bars',
    );
  const panel = alignLakeBars(config.symbols, bars, config.lookback);
  if (panel.dates.length === 0)
    throw new InputError(`bars: ${config.symbols.join(', ')} share no bar times`, 'bars');
  return runStrategyBar(
    { ...deps.runner, account: config.account, emit: deps.emit },
    { env: config.env, panel },
  );
}
