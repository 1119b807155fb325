/**
 * Transaction cost analysis of parent orders (an algorithm parent with its children, or a plain
 * order as a parent with one child). For side s (+1 buy, −1 sell), requested X shares, filled Q at
 * average price P̄f, decision price Pd (the signal's), arrival price Pa (the market when the first
 * child was released), P̄m the fill-weighted market price at each child's release, Pend the market
 * at the end of the schedule, all in bps of the decision notional X·Pd:
 *
 *   delay       = s·Q·(Pa − Pd)   / (X·Pd)   waiting between the decision and the market
 *   timing      = s·Q·(P̄m − Pa)   / (X·Pd)   the market's move while the schedule worked
 *   impact      = s·Q·(P̄f − P̄m)   / (X·Pd)   paid above the market at each release (spread, impact, fees)
 *   opportunity = s·(X−Q)·(Pend − Pd) / (X·Pd) what the unfilled shares missed
 *   shortfall   = delay + timing + impact + opportunity (Perold's implementation shortfall)
 *
 * Slippage against the interval's market VWAP and against its TWAP (the plain mean price of the
 * interval): s·(P̄f − benchmark) / benchmark. Participation: Q / market volume of the interval.
 * Positive numbers are costs.
 */
import type { OrderRecord } from './execution';

export interface TcaChild {
  /** Release time, epoch ms. */
  readonly time: number;
  /** Market price at the release (the child's reference price). */
  readonly market: number;
  readonly filledQty: number;
  /** Average fill price (ignored when nothing filled). */
  readonly fillPrice: number;
}

export interface IntervalStats {
  readonly vwap: number;
  readonly twap: number;
  readonly volume: number;
}

export interface TcaInput {
  readonly parentId: string;
  readonly account: string;
  readonly strategy: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly algo: string;
  readonly qty: number;
  readonly decisionTime: number;
  readonly decisionPrice: number;
  readonly children: readonly TcaChild[];
  /** Market price at the end of the schedule (for the opportunity cost). @default last child's market */
  readonly endPrice?: number;
  readonly endTime?: number;
  readonly interval?: IntervalStats;
  readonly sigma?: number;
  readonly adv?: number;
}

export interface TcaRow extends Pick<
  TcaInput,
  'parentId' | 'account' | 'strategy' | 'symbol' | 'side' | 'algo' | 'qty' | 'decisionTime' | 'decisionPrice'
> {
  readonly filledQty: number;
  readonly children: number;
  readonly startTime: number;
  readonly endTime: number;
  readonly arrivalPrice: number;
  /** NaN when nothing filled. */
  readonly avgFillPrice: number;
  readonly endPrice: number;
  readonly intervalVwap: number;
  readonly intervalTwap: number;
  readonly marketVolume: number;
  readonly shortfallBps: number;
  readonly delayBps: number;
  readonly impactBps: number;
  readonly timingBps: number;
  readonly opportunityBps: number;
  /** NaN when nothing filled or no interval data. */
  readonly vsVwapBps: number;
  readonly vsIntervalBps: number;
  readonly participation: number;
  readonly sigma: number;
  readonly adv: number;
}

const BPS = 10_000;

export function computeTca(input: TcaInput): TcaRow {
  const s = input.side === 'buy' ? 1 : -1;
  const X = input.qty;
  const Pd = input.decisionPrice;
  const kids = [...input.children].sort((a, b) => a.time - b.time);
  if (kids.length === 0) throw new Error(`parent ${input.parentId}: no children to analyse`);
  const Pa = kids[0].market;
  let Q = 0;
  let fillNotional = 0;
  let marketNotional = 0;
  for (const c of kids) {
    if (c.filledQty <= 0) continue;
    Q += c.filledQty;
    fillNotional += c.filledQty * c.fillPrice;
    marketNotional += c.filledQty * c.market;
  }
  const Pf = Q > 0 ? fillNotional / Q : NaN;
  const Pm = Q > 0 ? marketNotional / Q : NaN;
  const Pend = input.endPrice ?? kids[kids.length - 1].market;
  const base = X * Pd;
  // `+ 0` turns a sell's -0 into 0.
  const delay = Q > 0 ? (s * Q * (Pa - Pd) * BPS) / base + 0 : 0;
  const timing = Q > 0 ? (s * Q * (Pm - Pa) * BPS) / base + 0 : 0;
  const impact = Q > 0 ? (s * (fillNotional - marketNotional) * BPS) / base + 0 : 0;
  const opportunity = (s * (X - Q) * (Pend - Pd) * BPS) / base + 0;
  const iv = input.interval;
  return {
    parentId: input.parentId,
    account: input.account,
    strategy: input.strategy,
    symbol: input.symbol,
    side: input.side,
    algo: input.algo,
    qty: X,
    filledQty: Q,
    children: kids.length,
    decisionTime: input.decisionTime,
    startTime: kids[0].time,
    endTime: input.endTime ?? kids[kids.length - 1].time,
    decisionPrice: Pd,
    arrivalPrice: Pa,
    avgFillPrice: Pf,
    endPrice: Pend,
    intervalVwap: iv?.vwap ?? NaN,
    intervalTwap: iv?.twap ?? NaN,
    marketVolume: iv?.volume ?? NaN,
    shortfallBps: delay + timing + impact + opportunity,
    delayBps: delay,
    impactBps: impact,
    timingBps: timing,
    opportunityBps: opportunity,
    vsVwapBps: iv && Q > 0 ? (s * (Pf - iv.vwap) * BPS) / iv.vwap : NaN,
    vsIntervalBps: iv && Q > 0 ? (s * (Pf - iv.twap) * BPS) / iv.twap : NaN,
    participation: iv && iv.volume > 0 ? Q / iv.volume : NaN,
    sigma: input.sigma ?? NaN,
    adv: input.adv ?? NaN,
  };
}

/** Market data around an order: prices, interval statistics and the cost model's inputs. */
export interface MarketTape {
  /** Latest price at or before `time`. */
  priceAt(symbol: string, time: number): Promise<number | undefined>;
  /** The market over [from, to]. */
  interval(symbol: string, from: number, to: number): Promise<IntervalStats | undefined>;
  /** Daily volatility of returns and average daily volume (shares) known at `time`. */
  risk(symbol: string, time: number): Promise<{ sigma: number; adv: number } | undefined>;
}

/**
 * The TCA inputs of every parent in a blotter: algorithm parents with their children (the schedule
 * ends at the later of its last release and createdAt + durationSec), and plain orders as parents
 * of one child released at their creation. Rejected plain orders have nothing to analyse beyond a
 * missed trade and are left out, as are parents none of whose children exist yet.
 */
export async function tcaInputsFromBlotter(
  blotter: readonly OrderRecord[],
  tape?: MarketTape,
): Promise<TcaInput[]> {
  const children = new Map<string, OrderRecord[]>();
  for (const o of blotter) {
    if (o.parentId === undefined) continue;
    children.set(o.parentId, [...(children.get(o.parentId) ?? []), o]);
  }
  const out: TcaInput[] = [];
  for (const o of blotter) {
    if (o.parentId !== undefined) continue;
    let kids: TcaChild[];
    let endTime: number;
    if (o.algo) {
      const mine = children.get(o.orderId) ?? [];
      if (mine.length === 0) continue;
      kids = mine.map(childOf);
      endTime = Math.max(...kids.map((k) => k.time), o.priceTime + o.algo.durationSec * 1000);
    } else {
      if (o.status === 'REJECTED' || o.status === 'PENDING') continue;
      kids = [childOf(o)];
      endTime = kids[0].time;
    }
    const start = Math.min(...kids.map((k) => k.time));
    const [endPrice, interval, risk] = tape
      ? await Promise.all([
          tape.priceAt(o.symbol, endTime),
          tape.interval(o.symbol, start, endTime),
          tape.risk(o.symbol, o.priceTime),
        ])
      : [undefined, undefined, undefined];
    out.push({
      parentId: o.orderId,
      account: o.account,
      strategy: o.strategy,
      symbol: o.symbol,
      side: o.side,
      algo: o.algo?.algo ?? 'none',
      qty: o.qty,
      decisionTime: o.priceTime,
      decisionPrice: o.price,
      children: kids,
      endPrice,
      endTime,
      interval,
      sigma: risk?.sigma,
      adv: risk?.adv,
    });
  }
  return out;
}

function childOf(o: OrderRecord): TcaChild {
  return {
    time: Date.parse(o.createdAt),
    market: o.price,
    filledQty: o.filledQty,
    fillPrice: o.fillPrice,
  };
}

/** The shortfall and its parts, averaged by decision notional. */
const PARTS = ['shortfallBps', 'delayBps', 'impactBps', 'timingBps', 'opportunityBps'] as const;
type Part = (typeof PARTS)[number];

/** Aggregate of many parents: shortfall and its parts weighted by decision notional. */
export interface TcaSummary extends Pick<TcaRow, Part | 'vsVwapBps' | 'vsIntervalBps' | 'participation'> {
  readonly parents: number;
  readonly notional: number;
}

export function summarizeTca(rows: readonly TcaRow[]): TcaSummary {
  let notional = 0;
  const acc = Object.fromEntries(PARTS.map((k) => [k, 0])) as Record<Part, number>;
  let vw = 0;
  let vwW = 0;
  let vi = 0;
  let viW = 0;
  let filled = 0;
  let volume = 0;
  for (const r of rows) {
    const w = r.qty * r.decisionPrice;
    notional += w;
    for (const k of PARTS) acc[k] += w * r[k];
    const fw = r.filledQty * r.avgFillPrice;
    if (Number.isFinite(r.vsVwapBps)) {
      vw += fw * r.vsVwapBps;
      vwW += fw;
    }
    if (Number.isFinite(r.vsIntervalBps)) {
      vi += fw * r.vsIntervalBps;
      viW += fw;
    }
    if (Number.isFinite(r.participation) && r.marketVolume > 0) {
      filled += r.filledQty;
      volume += r.marketVolume;
    }
  }
  const per = (x: number): number => (notional > 0 ? x / notional : NaN);
  return {
    parents: rows.length,
    notional,
    ...(Object.fromEntries(PARTS.map((k) => [k, per(acc[k])])) as typeof acc),
    vsVwapBps: vwW > 0 ? vw / vwW : NaN,
    vsIntervalBps: viW > 0 ? vi / viW : NaN,
    participation: volume > 0 ? filled / volume : NaN,
  };
}

/**
 * The backtest cost model (src/backtest/costs.ts) fitted to TCA rows: the cost a fill paid above
 * the market, impact_bps per filled share's notional, is modelled as a + k·σ·√(q/ADV)·10⁴ (a: a
 * linear cost in bps; k: the square-root impact coefficient). Ordinary least squares on the rows
 * with a fill, σ and ADV, weighted by filled notional; when a or k comes out negative it is 0 and
 * the other is refitted alone (costs are never negative). Fewer than 2 usable rows fit a alone.
 */
export function calibrateCosts(rows: readonly TcaRow[]): {
  slippageBps: number;
  impactK: number;
  rows: number;
} {
  const pts: { x: number; y: number; w: number }[] = [];
  for (const r of rows) {
    if (!(r.filledQty > 0)) continue;
    // Impact per filled share in bps of the fill's market value (the backtest charges |dw|·cost).
    const y = (r.impactBps * r.qty * r.decisionPrice) / (r.filledQty * r.decisionPrice);
    const hasX = r.sigma > 0 && r.adv > 0;
    const x = hasX ? r.sigma * Math.sqrt(r.filledQty / r.adv) * BPS : NaN;
    pts.push({ x, y, w: r.filledQty * r.avgFillPrice });
  }
  if (pts.length === 0) return { slippageBps: 0, impactK: 0, rows: 0 };
  const withX = pts.filter((p) => Number.isFinite(p.x));
  const meanY = (ps: typeof pts): number =>
    ps.reduce((s, p) => s + p.w * p.y, 0) / ps.reduce((s, p) => s + p.w, 0);
  const clean = (v: number): number => (Math.abs(v) < 1e-12 ? 0 : v);
  if (withX.length < 2) return { slippageBps: clean(Math.max(0, meanY(pts))), impactK: 0, rows: pts.length };
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const p of withX) {
    sw += p.w;
    sx += p.w * p.x;
    sy += p.w * p.y;
    sxx += p.w * p.x * p.x;
    sxy += p.w * p.x * p.y;
  }
  const det = sw * sxx - sx * sx;
  let a = det !== 0 ? (sxx * sy - sx * sxy) / det : sy / sw;
  let k = det !== 0 ? (sw * sxy - sx * sy) / det : 0;
  if (k < 0) {
    k = 0;
    a = sy / sw;
  }
  if (a < 0) {
    a = 0;
    k = sxx > 0 ? Math.max(0, sxy / sxx) : 0;
  }
  return { slippageBps: clean(Math.max(0, a)), impactK: clean(k), rows: withX.length };
}
