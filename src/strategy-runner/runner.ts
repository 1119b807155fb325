/**
 * The strategy runner: on each new bar, for one environment, it reads the promoted strategy (and,
 * for a model strategy, the environment's current approved model version), runs the strategy on
 * the bars up to and including that bar, and, when its targets changed since the previous bar (the
 * convention of `quant paper` and the backtest), emits one Signal of target weights into the
 * execution path (risk, idempotency, audit). The signal id is a function of (environment,
 * strategy, bar time) only, so a repeated event for the same bar never trades twice; the signal
 * carries the model version and a hash of its inputs. Rule-based strategies use the same path.
 */
import { createHash } from 'node:crypto';
import {
  getStrategy,
  parseStrategyParams,
  type ParamValue,
  type StrategyParams,
} from '../backtest/strategies';
import type { Panel } from '../backtest/types';
import type { Environment } from '../contract/models';
import { InputError } from '../errors';
import { attachModelInputs } from '../ml/model-inputs';
import { loadRegisteredModel, type ModelRegistry } from '../ml/registry/types';
import type { NewsReader } from '../news/reader';
import { parseSignal, type Signal } from '../trading/signals';
import { MODEL_STRATEGIES, type Promotion, type PromotionStore } from './promotions';

/** A registered model version's files, as a model strategy needs them. */
export interface LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly onnx: Uint8Array;
  readonly manifest: unknown;
}

/** A strategy ready to run on bars: target weights `w[a][t]` per symbol and bar. */
export interface BarStrategy {
  readonly minSymbols: number;
  readonly maxSymbols: number;
  /** A model strategy's features (its manifest's): what it needs beyond bars is read for it. */
  readonly features?: readonly string[];
  positions(panel: Panel): Float64Array[];
}

/**
 * Builds a model strategy (ml-signal) bound to a loaded model and its other parameters (threshold,
 * sizing: validated by the factory, which supplies the model itself).
 */
export type ModelStrategyFactory = (
  strategy: string,
  model: LoadedModel,
  params: Readonly<Record<string, ParamValue>>,
) => Promise<BarStrategy>;

export interface RunnerDeps {
  readonly promotions: PromotionStore;
  readonly registry: ModelRegistry;
  /** Account (book) the environment trades. */
  readonly account: string;
  /** Puts the signal into the execution path (EventBridge in AWS, the handler locally). */
  emit(signal: Signal): Promise<void>;
  /** Needed for model strategies. */
  readonly modelStrategy?: ModelStrategyFactory;
  /**
   * Reader of the lake's news_sentiment, for models on feature set version 2 (src/ml/model-inputs.ts);
   * without it such a model is refused.
   */
  readonly news?: NewsReader;
  /** Loaded models by `name@version` (kept across bars: a warm Lambda loads each version once). */
  readonly models?: Map<string, Promise<BarStrategy>>;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface BarOutcome {
  /** Undefined when the targets equal the previous bar's (nothing to trade: no signal). */
  readonly signal?: Signal;
  readonly promotion: Promotion;
  readonly modelVersion?: number;
  readonly inputsHash: string;
}

/**
 * `sr.<env>.<account>.<strategy>.<bar close epoch ms>`: the same bar always gives the same id (an
 * environment trades one account; the account keeps separate paper replays apart).
 */
export const runnerSignalId = (
  env: Environment,
  account: string,
  strategy: string,
  barTime: number,
): string => `sr.${env}.${account}.${strategy}.${barTime}`;

export const barTimeOf = (d: string): number => Date.parse(d.length === 10 ? `${d}T00:00:00Z` : d);

/** sha256 of what the strategy saw: strategy, parameters, model version, the bars and their side data. */
export function inputsHash(
  strategy: string,
  params: StrategyParams,
  model: { name: string; version: number } | undefined,
  panel: Panel,
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ strategy, params, model: model ?? null, symbols: panel.symbols }));
  h.update(JSON.stringify(panel.dates));
  for (const c of panel.close) h.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  for (const v of panel.volume ?? []) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  // Side data (the news sentiment of a model on feature set version 2) only when there is some:
  // the hash of a run on bars alone is what it was.
  for (const [name, field] of Object.entries(panel.aux?.fields ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    h.update(name);
    for (const v of field) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return `sha256:${h.digest('hex')}`;
}

/** A strategy of the registry bound to its parameters (and, for a model, its manifest's features). */
export function barStrategy(name: string, params: StrategyParams, features?: readonly string[]): BarStrategy {
  const s = getStrategy(name);
  return {
    minSymbols: s.minSymbols,
    maxSymbols: s.maxSymbols,
    features,
    positions: (panel) => s.positions(panel, params),
  };
}

async function strategyFor(
  deps: RunnerDeps,
  env: Environment,
  p: Promotion,
): Promise<{ strategy: BarStrategy; params: StrategyParams; model?: { name: string; version: number } }> {
  if (!MODEL_STRATEGIES.has(p.strategy)) {
    const params = parseStrategyParams(p.strategy, p.params);
    return { params, strategy: barStrategy(p.strategy, params) };
  }
  if (!p.model) throw new Error(`promotion of ${env}: ${p.strategy} without a model`);
  const params = p.params;
  if (!deps.modelStrategy) throw new Error(`strategy ${p.strategy}: no model runtime configured here`);
  // The environment's current approved version: a rollback takes effect at the next bar.
  const version = await deps.registry.current(p.model.name, env);
  if (version === undefined)
    throw new InputError(`model ${p.model.name}: no version approved for ${env}`, 'model');
  const key = `${p.strategy}:${p.model.name}@${version}:${JSON.stringify(params)}`;
  const cache = deps.models ?? new Map<string, Promise<BarStrategy>>();
  let s = cache.get(key);
  if (!s) {
    const factory = deps.modelStrategy;
    s = loadRegisteredModel(deps.registry, p.model.name, version).then((m) => factory(p.strategy, m, params));
    // A failed load is not cached: the next bar tries again.
    s.catch(() => cache.delete(key));
    cache.set(key, s);
  }
  return { strategy: await s, params, model: { name: p.model.name, version } };
}

/**
 * Runs the environment's promoted strategy at the last bar of `panel` (bars up to and including
 * t, oldest first) and emits its signal. Throws InputError when nothing is promoted.
 */
export async function runStrategyBar(
  deps: RunnerDeps,
  input: {
    readonly env: Environment;
    readonly panel: Panel;
    /** Emit even when the targets did not change since the previous bar (a replay's first bar). */
    readonly always?: boolean;
  },
): Promise<BarOutcome> {
  const { env } = input;
  const promotion = await deps.promotions.get(env);
  if (!promotion)
    throw new InputError(`--env: no strategy promoted to ${env} (quant strategy promote)`, '--env');
  const n = input.panel.dates.length;
  if (n === 0) throw new InputError('bars: no bars', 'bars');
  const { strategy, params, model } = await strategyFor(deps, env, promotion);
  const panel =
    model && strategy.features
      ? await attachModelInputs(
          input.panel,
          [{ model: `${model.name}@${model.version}`, features: strategy.features }],
          () => deps.news,
        )
      : input.panel;
  if (panel.symbols.length < strategy.minSymbols || panel.symbols.length > strategy.maxSymbols)
    throw new InputError(
      `bars: ${promotion.strategy} takes ${strategy.minSymbols}-${strategy.maxSymbols} symbols, got ${panel.symbols.length}`,
      'bars',
    );
  const weights = strategy.positions(panel);
  const t = n - 1;
  const barTime = barTimeOf(panel.dates[t]);
  const hash = inputsHash(promotion.strategy, params, model, panel);
  const w = (a: number, i: number) => (Number.isFinite(weights[a][i]) ? weights[a][i] : 0);
  // As `quant paper` and the backtest: a signal where the targets change. Unchanged weights would
  // otherwise re-size the position to NAV at every bar (turnover the backtest never had).
  if (!input.always && t > 0 && panel.symbols.every((_, a) => w(a, t) === w(a, t - 1)))
    return { promotion, modelVersion: model?.version, inputsHash: hash };
  const signal = parseSignal(
    {
      signalId: runnerSignalId(env, deps.account, promotion.strategy, barTime),
      account: deps.account,
      strategy: promotion.strategy,
      createdAt: barTime,
      targets: panel.symbols.map((symbol, a) => ({
        symbol,
        targetWeight: w(a, t),
        price: panel.close[a][t],
        priceTime: barTime,
      })),
      provenance: {
        env,
        ...(model ? { model: model.name, modelVersion: model.version } : {}),
        inputsHash: hash,
      },
    },
    'signal',
  );
  await deps.emit(signal);
  return { signal, promotion, modelVersion: model?.version, inputsHash: hash };
}

/** The last `lookback` bars up to and including bar t (views, no copy of the prices or side data). */
export function panelUpTo(panel: Panel, t: number, lookback: number): Panel {
  const from = Math.max(0, t + 1 - lookback);
  const fields = panel.aux?.fields;
  return {
    symbols: panel.symbols,
    dates: panel.dates.slice(from, t + 1),
    close: panel.close.map((c) => c.subarray(from, t + 1)),
    volume: panel.volume?.map((v) => v.subarray(from, t + 1)),
    ...(fields
      ? {
          aux: {
            fields: Object.fromEntries(
              Object.entries(fields).map(([k, f]) => [k, f.map((x) => x.subarray(from, t + 1))]),
            ),
          },
        }
      : {}),
  };
}
