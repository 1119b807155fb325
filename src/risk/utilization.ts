/**
 * Limit utilization of a portfolio: for each configured exposure limit, the current value and the
 * share of the limit it uses (the dashboard's "limit utilization %", the paper run's table).
 */
import { LOSS_RULES } from '../contract/metrics';
import { RiskEngine } from './engine';
import type { RiskConfig, RiskPortfolio } from './types';

export interface Utilization {
  readonly rule: string;
  /** The symbol or group the row is about ('' for portfolio-wide rules). */
  readonly scope: string;
  readonly value: number;
  readonly limit: number;
  /** value / limit × 100 (Infinity for a zero limit with a non-zero value). */
  readonly pct: number;
}

const row = (rule: string, scope: string, value: number, limit: number): Utilization => ({
  rule,
  scope,
  value,
  limit,
  pct: limit === 0 ? (value === 0 ? 0 : Infinity) : (value / limit) * 100,
});

/** Utilization of every exposure limit, highest first. */
export function limitUtilization(config: RiskConfig, portfolio: RiskPortfolio): Utilization[] {
  const L = config.limits;
  const snap = new RiskEngine(config).snapshot(portfolio);
  const nav = snap.navCents;
  const out: Utilization[] = [];
  if (L.maxPositionWeight !== undefined) {
    let top = '';
    let topCents = -1;
    for (const [symbol, h] of snap.holdings) {
      if (h.absCents > topCents) {
        top = symbol;
        topCents = h.absCents;
      }
    }
    out.push(row('maxPositionWeight', top, topCents < 0 ? 0 : topCents / nav, L.maxPositionWeight));
  }
  if (L.maxGrossLeverage !== undefined)
    out.push(row('maxGrossLeverage', '', snap.grossCents / nav, L.maxGrossLeverage));
  if (L.maxGrossExposure !== undefined)
    out.push(row('maxGrossExposure', '', snap.grossCents / 100, L.maxGrossExposure));
  if (L.maxNetExposure !== undefined)
    out.push(row('maxNetExposure', '', Math.abs(snap.netCents) / 100, L.maxNetExposure));
  const groups: [string, Readonly<Record<string, number>> | undefined, Map<string, number>][] = [
    ['regionCap', L.regionCaps, snap.region],
    ['assetClassCap', L.assetClassCaps, snap.assetClass],
    ['sectorCap', L.sectorCaps, snap.sector],
  ];
  for (const [rule, caps, sums] of groups) {
    for (const [group, cap] of Object.entries(caps ?? {}))
      out.push(row(rule, group, (sums.get(group) ?? 0) / nav, cap));
  }
  // Loss from the peak and from the start of the day.
  for (const [rule, limit, from] of [
    [LOSS_RULES.drawdown, L.maxDrawdown, portfolio.peakNav],
    [LOSS_RULES.dailyLoss, L.maxDailyLoss, portfolio.startOfDayNav],
  ] as const) {
    if (limit !== undefined && from)
      out.push(row(rule, '', Math.max(0, (from - portfolio.nav) / from), limit));
  }
  return out.sort((a, b) => b.pct - a.pct);
}
