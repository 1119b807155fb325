/**
 * Transaction costs, as a fraction of equity, charged on a change of position at the close of bar
 * t and deducted from the return of period t -> t+1:
 *
 *   cost = |dw| * (commissionBps + halfSpreadBps + slippageBps) / 10,000
 *        + |dw| * impactK * sigma * sqrt(qty / ADV)
 *
 * where dw is the change of weight, qty = |dw| * equity * capital / price shares, sigma the
 * standard deviation of the last `window` daily returns up to t and ADV the mean volume of the
 * last `window` bars up to t (square-root market impact). `--cost-bps c` of the CLI is
 * commissionBps = c with everything else 0.
 */
import { InputError } from '../errors';

export interface CostModel {
  /** Commission per unit traded, in basis points of notional. @default 0 */
  readonly commissionBps?: number;
  /** Half the bid-ask spread paid on each trade, in bps. @default 0 */
  readonly halfSpreadBps?: number;
  /** Extra slippage, in bps. @default 0 */
  readonly slippageBps?: number;
  /** Coefficient k of the square-root impact k * sigma * sqrt(qty / ADV); needs volume. @default 0 */
  readonly impactK?: number;
  /** Starting capital in currency units, to turn weights into share quantities. @default 1,000,000 */
  readonly capital?: number;
  /** Bars used for sigma and ADV. @default 20 */
  readonly window?: number;
}

export interface ResolvedCosts {
  /** Linear cost per unit of |dw| (commission + half spread + slippage). */
  readonly linear: number;
  readonly impactK: number;
  readonly capital: number;
  readonly window: number;
}

export function resolveCosts(model: CostModel = {}, costBps?: number): ResolvedCosts {
  const fields: Record<string, number | undefined> = {
    costBps,
    'costs.commissionBps': model.commissionBps,
    'costs.halfSpreadBps': model.halfSpreadBps,
    'costs.slippageBps': model.slippageBps,
    'costs.impactK': model.impactK,
  };
  for (const [field, v] of Object.entries(fields)) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= 10_000)) {
      throw new InputError(`${field}: must be a number between 0 and 10000, got ${v}`, field);
    }
  }
  const capital = model.capital ?? 1_000_000;
  if (!(Number.isFinite(capital) && capital > 0))
    throw new InputError(`costs.capital: must be > 0, got ${capital}`, 'costs.capital');
  const window = model.window ?? 20;
  if (!(Number.isInteger(window) && window >= 2))
    throw new InputError(`costs.window: must be an integer >= 2, got ${window}`, 'costs.window');
  const bps =
    (costBps ?? 0) + (model.commissionBps ?? 0) + (model.halfSpreadBps ?? 0) + (model.slippageBps ?? 0);
  return { linear: bps / 10_000, impactK: model.impactK ?? 0, capital, window };
}

/**
 * Rolling inputs of the impact term for one asset: sigma[t] (stdev of the `window` returns ending
 * at t, sample) and adv[t] (mean volume of the `window` bars ending at t). During warm-up both take
 * their first available value so that early trades are not free; NaN only when the series is
 * shorter than the window.
 */
export function impactInputs(
  close: Float64Array,
  volume: Float64Array,
  window: number,
): { sigma: Float64Array; adv: Float64Array } {
  const n = close.length;
  const sigma = new Float64Array(n).fill(NaN);
  const adv = new Float64Array(n).fill(NaN);
  for (let t = window; t < n; t++) {
    let s = 0;
    let ss = 0;
    for (let i = t - window + 1; i <= t; i++) {
      const r = close[i] / close[i - 1] - 1;
      s += r;
      ss += r * r;
    }
    const mean = s / window;
    sigma[t] = Math.sqrt(Math.max(0, (ss - window * mean * mean) / (window - 1)));
  }
  let v = 0;
  for (let t = 0; t < n; t++) {
    v += volume[t];
    if (t >= window) v -= volume[t - window];
    if (t >= window - 1) adv[t] = v / window;
  }
  if (n > window) {
    sigma.fill(sigma[window], 0, window);
    adv.fill(adv[window - 1], 0, window - 1);
  }
  return { sigma, adv };
}

/** Cost, as a fraction of equity, of a weight change `dw` at a bar with these inputs. */
export function tradeCost(
  dw: number,
  c: ResolvedCosts,
  price: number,
  equity: number,
  sigma: number,
  adv: number,
): number {
  const a = Math.abs(dw);
  let cost = a * c.linear;
  if (c.impactK > 0 && adv > 0 && sigma > 0) {
    const qty = (a * equity * c.capital) / price;
    cost += a * c.impactK * sigma * Math.sqrt(qty / adv);
  }
  return cost;
}
