/**
 * The live pre-trade risk engine as the backtest's gate between target weights and the book.
 *
 * At the close of a bar where some target changes (or a held symbol is delisted) the rebalance
 * becomes share orders exactly as a signal of target weights does in live trading
 * (src/trading/execution.ts `intentsOf`: target shares = trunc(weight × NAV / price), minus the
 * shares held), in the universe's symbol order, and each order goes through `RiskEngine.check`
 * with `resize: true` against the book with the earlier orders of the rebalance booked
 * (`RiskEngine.apply`), as the execution path books each approved quantity before the next order.
 * So every rule of `quant risk check` acts: portfolio (gross, net, position weight, drawdown and
 * daily-loss states), region, asset class and sector caps, security (notional, collar, locate),
 * ADV, VaR budget and correlation. An approved order reaches its target weight, a resized one the
 * weight of its resized shares, a rejected one keeps the current weight.
 *
 * As of each date: the securities are the limits file's, with region / asset class / sector from
 * the point-in-time reference when one is given (unknown before its first record), the ADV the
 * mean volume of the last `advWindow` bars up to t (in the shares of bar t: splits adjusted), the
 * reference price and time those of bar t's close, the returns window the `returnsDays` total
 * returns up to t. Nothing after the close of t is read.
 */
import type { GateReport, RebalanceGate } from '../risk-api';
import { RiskEngine } from '../risk/engine';
import type { RiskConfig, RiskOrder, Security } from '../risk/types';
import { ReturnsWindow } from '../risk/var';
import type { AdjustedPanel, ReferenceIndex } from './point-in-time';
import type { Panel } from './types';

export interface RiskGateOptions {
  /** The limits file of `quant risk check` (securities and limits). Absent: only delistings act. */
  readonly config?: RiskConfig;
  /** Raw panel: the prices and volumes the market quoted (orders are sized in these shares). */
  readonly raw: Panel;
  /** Corporate actions applied (adjusted closes for the returns window, split factors, delistings). */
  readonly adjusted?: AdjustedPanel;
  /** Region, asset class and sector as of each date. @default the limits file's securities */
  readonly reference?: ReferenceIndex;
  /** Money the unit of equity stands for. @default 1,000,000 */
  readonly capital?: number;
  /** Strategy name on the orders (the per-strategy order rate). @default 'backtest' */
  readonly strategy?: string;
  /** Daily returns in the VaR / correlation window. @default 250 */
  readonly returnsDays?: number;
  /** Bars in the ADV mean. @default 20 */
  readonly advWindow?: number;
}

export const DELISTED_RULE = 'delisted';

export function createRiskGate(opts: RiskGateOptions): RebalanceGate {
  const { raw } = opts;
  const k = raw.symbols.length;
  const capital = opts.capital ?? 1_000_000;
  const strategy = opts.strategy ?? 'backtest';
  const returnsDays = opts.returnsDays ?? 250;
  const advWindow = opts.advWindow ?? 20;
  const limits = opts.config?.limits;
  const needsWindow = limits?.varBudget !== undefined || limits?.maxCorrelatedExposure !== undefined;
  const times = raw.dates.map((d) => Date.parse(d.length === 10 ? `${d}T00:00:00Z` : d));
  const adjClose = opts.adjusted?.panel.close ?? raw.close;
  const split = opts.adjusted?.splitFactor;
  const delistBar = raw.symbols.map((s) => opts.adjusted?.delistBar.get(s) ?? Infinity);

  const counts = { orders: 0, approved: 0, resized: 0, rejected: 0 };
  const byRule: Record<string, number> = {};
  const byRuleDecision: Record<string, { resized: number; rejected: number }> = {};
  const lastTarget = new Float64Array(k).fill(NaN);
  let peakNav = 0;
  let prevNav = 0;

  // Per symbol, once: the limits file's security, and prefix sums of the volume in first-bar
  // shares (volume / split factor), so the ADV in the shares of bar t is a difference times the
  // split factor of t.
  const base: (Security | undefined)[] = raw.symbols.map((s) =>
    opts.config && Object.hasOwn(opts.config.securities, s) ? opts.config.securities[s] : undefined,
  );
  const volSums = raw.volume?.map((v, a) => {
    const sums = new Float64Array(v.length + 1);
    for (let t = 0; t < v.length; t++) sums[t + 1] = sums[t] + (split ? v[t] / split[a][t] : v[t]);
    return sums;
  });

  const securitiesAt = (t: number): Record<string, Security> => {
    const out: Record<string, Security> = {};
    const from = Math.max(0, t - advWindow + 1);
    for (let a = 0; a < k; a++) {
      const b = base[a];
      let region = b?.region;
      let assetClass = b?.assetClass;
      let sector = b?.sector;
      if (opts.reference) {
        const ref = opts.reference.at(raw.symbols[a], raw.dates[t]);
        if (!ref) continue;
        ({ region, assetClass, sector } = ref);
      } else if (!b) continue;
      let adv = b?.adv;
      if (volSums) {
        const mean = ((volSums[a][t + 1] - volSums[a][from]) / (t - from + 1)) * (split ? split[a][t] : 1);
        if (mean > 0) adv = mean;
      }
      out[raw.symbols[a]] = {
        region,
        assetClass,
        sector,
        adv,
        referencePrice: raw.close[a][t],
        referenceTime: times[t],
        duration: b?.duration,
        beta: b?.beta,
      };
    }
    return out;
  };

  // Close-to-close returns per symbol, computed once (each window is a view of them), with a
  // prefix count of the non-finite ones (such a window goes through the checking constructor,
  // which reports the symbol and day as before).
  let returnsOnce: { r: Float64Array[]; bad: Int32Array[] } | undefined;
  const windowAt = (t: number): ReturnsWindow | undefined => {
    const from = Math.max(0, t - returnsDays);
    if (t - from < 2) return undefined;
    returnsOnce ??= (() => {
      const r: Float64Array[] = [];
      const bad: Int32Array[] = [];
      for (let a = 0; a < k; a++) {
        const c = adjClose[a];
        const n = Math.max(0, c.length - 1);
        const ra = new Float64Array(n);
        const ba = new Int32Array(n + 1);
        for (let s = 0; s < n; s++) {
          const x = c[s + 1] / c[s] - 1;
          ra[s] = x;
          ba[s + 1] = ba[s] + (Number.isFinite(x) ? 0 : 1);
        }
        r.push(ra);
        bad.push(ba);
      }
      return { r, bad };
    })();
    const { r, bad } = returnsOnce;
    const series = new Map<string, Float64Array>();
    const means = new Map<string, number>();
    let clean = true;
    for (let a = 0; a < k; a++) {
      const view = r[a].subarray(from, t);
      // Summed in order, as the checking constructor does: the same means to the last bit.
      let sum = 0;
      for (let i = 0; i < view.length; i++) sum += view[i];
      series.set(raw.symbols[a], view);
      means.set(raw.symbols[a], sum / view.length);
      if (bad[a][t] !== bad[a][from]) clean = false;
    }
    return clean ? ReturnsWindow.fromViews(series, means) : new ReturnsWindow(Object.fromEntries(series));
  };

  const count = (rule: string, decision: 'resized' | 'rejected'): void => {
    byRule[rule] = (byRule[rule] ?? 0) + 1;
    const d = (byRuleDecision[rule] ??= { resized: 0, rejected: 0 });
    d[decision]++;
  };

  return {
    name: 'risk-engine',
    rebalance(t, current, target, equity) {
      const nav = equity * capital;
      peakNav = Math.max(peakNav, nav);
      const startOfDayNav = prevNav > 0 ? prevNav : nav;
      prevNav = nav;
      const out = new Float64Array(k);
      let changed = false;
      let delisting = false;
      for (let a = 0; a < k; a++) {
        out[a] = current[a];
        if (t >= delistBar[a]) {
          // Delisted: closed at its last close; a later wish to hold it is an order that cannot trade.
          if (t === delistBar[a] && current[a] !== 0) delisting = true;
          if (t > delistBar[a] && target[a] !== 0 && target[a] !== lastTarget[a]) {
            counts.orders++;
            counts.rejected++;
            count(DELISTED_RULE, 'rejected');
          }
          out[a] = 0;
          lastTarget[a] = target[a];
          continue;
        }
        if (target[a] !== lastTarget[a]) changed = true;
      }
      if (!changed && !delisting) return out;
      if (!opts.config) {
        for (let a = 0; a < k; a++) {
          if (t < delistBar[a]) out[a] = target[a];
          lastTarget[a] = target[a];
        }
        return out;
      }
      const engine = new RiskEngine(
        { securities: securitiesAt(t), limits: opts.config.limits },
        needsWindow ? windowAt(t) : undefined,
      );
      const missingWindow = needsWindow && t - Math.max(0, t - returnsDays) < 2;
      const positions = [];
      for (let a = 0; a < k; a++) {
        if (t >= delistBar[a]) continue; // closed at its last close: no longer in the book
        const qty = Math.round((current[a] * nav) / raw.close[a][t]);
        if (qty !== 0) positions.push({ symbol: raw.symbols[a], qty, price: raw.close[a][t] });
      }
      const snap = engine.snapshot({ nav, state: 'ACTIVE', positions, peakNav, startOfDayNav });
      let sent = 0;
      for (let a = 0; a < k; a++) {
        if (t >= delistBar[a]) continue;
        const want = target[a];
        lastTarget[a] = want;
        // As a signal of targets: every symbol whose shares would change is an order.
        if (want === current[a]) continue;
        const price = raw.close[a][t];
        const held = Math.round((current[a] * nav) / price);
        const delta = Math.trunc((want * nav) / price) - held;
        if (delta === 0) {
          out[a] = want;
          continue;
        }
        const order: RiskOrder = {
          symbol: raw.symbols[a],
          side: delta > 0 ? 'buy' : 'sell',
          qty: Math.abs(delta),
          price,
          strategy,
        };
        counts.orders++;
        if (missingWindow) {
          // As the execution path: a VaR or correlation limit without a returns window rejects.
          counts.rejected++;
          count('returnsWindow', 'rejected');
          continue;
        }
        const d = engine.check(snap, order, { resize: true, now: times[t], ordersInLastSecond: sent });
        sent++;
        if (d.decision === 'approve') {
          counts.approved++;
          out[a] = want;
        } else {
          const decision = d.decision === 'resize' ? 'resized' : 'rejected';
          for (const b of d.breaches) count(b.rule, decision);
          if (d.decision === 'resize') {
            counts.resized++;
            out[a] = ((held + Math.sign(delta) * d.approvedQty) * price) / nav;
          } else counts.rejected++;
        }
        if (d.approvedQty > 0) engine.apply(snap, order, d.approvedQty);
      }
      return out;
    },
    report(): GateReport {
      const split = Object.fromEntries(Object.entries(byRuleDecision).map(([r, d]) => [r, { ...d }]));
      return { ...counts, byRule: { ...byRule }, byRuleDecision: split };
    },
  };
}
