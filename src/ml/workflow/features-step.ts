/**
 * Workflow step (a): the features file in the job's `train` channel. From the lake: the feature
 * SQL on the query engine (src/ml/features/file.ts). From a bars file: the same features in
 * TypeScript (src/ml/features/compute.ts, held equal to the SQL by its tests).
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Panel } from '../../backtest/types';
import { DEFAULT_HORIZON, FEATURE_NAMES, LABEL_COLUMN } from '../../contract/ml';
import { InputError } from '../../errors';
import type { QueryEngine } from '../../lake/query';
import { computeFeatures, forwardReturns } from '../features/compute';
import { featuresCsv, writeFeatureFile, type FeatureFileResult } from '../features/file';
import type { JobPaths } from './job';

export type BarsSource =
  | { readonly kind: 'lake'; readonly symbols: readonly string[]; readonly interval?: string }
  | { readonly kind: 'file'; readonly path: string };

/** `lake:SPY,EFA` or a bars file; anything else is an InputError naming `--bars`. */
export function parseBarsSource(v: string): BarsSource {
  if (v.startsWith('lake:')) {
    const symbols = v
      .slice(5)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (symbols.length === 0)
      throw new InputError(`--bars: "${v}" names no symbols (lake:SYM1,SYM2)`, '--bars');
    for (const s of symbols)
      if (!/^[A-Za-z0-9._-]{1,32}$/.test(s))
        throw new InputError(`--bars: "${s}" is not a valid symbol`, '--bars');
    return { kind: 'lake', symbols };
  }
  if (v.trim() === '') throw new InputError('--bars: empty', '--bars');
  return { kind: 'file', path: v };
}

/** How `quant backtest` and loadPanel name the same bars. */
export const barsSpecs = (src: BarsSource): string[] =>
  src.kind === 'lake' ? src.symbols.map((s) => `lake:${s}`) : [src.path];

export type FeaturesStepOutput = FeatureFileResult;

/** Features of the lake's bars into the job's train channel (replacing what was there). */
export async function featuresFromLake(
  engine: QueryEngine,
  job: JobPaths,
  src: { symbols: readonly string[]; interval?: string },
  horizon = DEFAULT_HORIZON,
  opts: { readonly sentiment?: boolean } = {},
): Promise<FeaturesStepOutput> {
  rmSync(job.train, { recursive: true, force: true });
  return writeFeatureFile(
    engine,
    { symbols: src.symbols, interval: src.interval ?? '1d', horizon, sentiment: opts.sentiment },
    path.join(job.train, 'features.csv'),
  );
}

/** Features of a panel (bars from a file) into the job's train channel, rows by symbol then ts. */
export function featuresFromPanel(
  job: JobPaths,
  panel: Panel,
  horizon = DEFAULT_HORIZON,
): FeaturesStepOutput {
  const m = computeFeatures(panel, FEATURE_NAMES);
  const F = FEATURE_NAMES.length;
  const order = panel.symbols.map((s, a) => [s, a] as const).sort((x, y) => x[0].localeCompare(y[0]));
  const rows: Record<string, unknown>[] = [];
  let labelled = 0;
  for (const [symbol, a] of order) {
    const fwd = forwardReturns(panel.close[a], horizon);
    for (let t = 0; t < panel.dates.length; t++) {
      const r: Record<string, unknown> = { ts: panel.dates[t], symbol };
      FEATURE_NAMES.forEach((f, j) => (r[f] = m.values[a][t * F + j]));
      r[LABEL_COLUMN] = Number.isFinite(fwd[t]) ? fwd[t] : null;
      if (r[LABEL_COLUMN] !== null) labelled++;
      rows.push(r);
    }
  }
  rmSync(job.train, { recursive: true, force: true });
  mkdirSync(job.train, { recursive: true });
  const file = path.join(job.train, 'features.csv');
  writeFileSync(`${file}.tmp`, featuresCsv(rows));
  renameSync(`${file}.tmp`, file);
  return { file, rows: rows.length, labelled, symbols: order.map(([s]) => s) };
}
