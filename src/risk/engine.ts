/**
 * The pre-trade risk engine: pure and allocation-light, so one check against a 1,000-position
 * portfolio costs a few map lookups. `snapshot()` aggregates the portfolio once (gross, net,
 * region / asset-class / sector sums, VaR scenario P&L); `check()` then adjusts only the
 * ordered symbol's contribution.
 *
 * Money is summed in integer cents (each position's notional is rounded to the cent), so sums
 * are exact and a ratio of two sums is the correctly rounded double of the exact ratio: an
 * exposure exactly at its limit compares equal to it, never a hair above.
 */
import type { ReturnsWindow } from './var';
import { Z99, lowQuantileShifted } from './var';
import type {
  Breach,
  Limits,
  RiskConfig,
  RiskDecision,
  RiskOrder,
  RiskPortfolio,
  RuleId,
  Security,
  TradingState,
} from './types';

const STATE_RANK: Readonly<Record<TradingState, number>> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

/** The more restrictive of two states. */
export function mostRestrictive(a: TradingState, b: TradingState): TradingState {
  return STATE_RANK[a] >= STATE_RANK[b] ? a : b;
}

/**
 * The state the drawdown and daily-loss limits force: HALTED at or beyond `maxDrawdown` from
 * the peak NAV, REDUCING at or beyond `maxDailyLoss` since the start of the day.
 */
export function automaticState(portfolio: RiskPortfolio, limits: Limits): TradingState {
  const { nav, peakNav, startOfDayNav } = portfolio;
  if (limits.maxDrawdown !== undefined && peakNav !== undefined && peakNav > 0) {
    if ((peakNav - nav) / peakNav >= limits.maxDrawdown) return 'HALTED';
  }
  if (limits.maxDailyLoss !== undefined && startOfDayNav !== undefined && startOfDayNav > 0) {
    if ((startOfDayNav - nav) / startOfDayNav >= limits.maxDailyLoss) return 'REDUCING';
  }
  return 'ACTIVE';
}

export function toCents(money: number): number {
  return Math.round(money * 100);
}

interface Holding {
  qty: number;
  price: number;
  /** |qty| × price in cents. */
  absCents: number;
  /** Signed notional in cents. */
  signedCents: number;
}

/** A portfolio prepared for fast checks. Mutated only by `RiskEngine.apply`. */
export interface PortfolioSnapshot {
  readonly nav: number;
  readonly navCents: number;
  /** Declared state escalated by the automatic drawdown / daily-loss transitions. */
  readonly state: TradingState;
  readonly holdings: Map<string, Holding>;
  grossCents: number;
  netCents: number;
  readonly region: Map<string, number>;
  readonly assetClass: Map<string, number>;
  readonly sector: Map<string, number>;
  readonly locates: Map<string, number>;
  /** Historical scenario P&L of the current holdings (money), when a returns window is set. */
  pnl?: Float64Array;
  /** Parametric: portfolio variance and per-symbol Σ_j cov(s, j) e_j (lazy). */
  variance?: number;
  /**
   * The VaR (money) of the book before the order under check (lazy): it does not depend on the
   * ordered quantity, so a check and every step of its resize bisection share it.
   */
  varBefore?: { symbol: string; delta: number; value: number };
  readonly covDot: Map<string, number>;
  /** Σ|exposure| cents of other holdings correlated with a symbol (lazy). */
  readonly correlated: Map<string, number>;
}

export interface CheckOptions {
  /** Resize an order that breaches only quantity-dependent rules. */
  readonly resize?: boolean;
  /** Clock for the stale-reference rule, epoch ms. @default Date.now() */
  readonly now?: number;
  /** Orders this strategy sent in the last second (before this one). @default 0 */
  readonly ordersInLastSecond?: number;
}

function addTo(map: Map<string, number>, key: string | undefined, cents: number): void {
  if (key === undefined) return;
  map.set(key, (map.get(key) ?? 0) + cents);
}

function report(out: Breach[] | null, rule: RuleId, limit: number, value: number): number {
  if (out !== null) out.push({ rule, limit, value });
  return 1;
}

/** Exposure semantics: breached when above the limit and above the value before the order. */
function exposure(
  out: Breach[] | null,
  rule: RuleId,
  limit: number | undefined,
  before: number,
  after: number,
): number {
  if (limit === undefined || !(after > limit && after > before)) return 0;
  return report(out, rule, limit, after);
}

interface GroupCaps {
  region?: number;
  assetClass?: number;
  sector?: number;
}

export class RiskEngine {
  readonly limits: Limits;
  readonly securities: Readonly<Record<string, Security>>;
  /** The account's strategies, when its limits list them (others are refused). */
  private readonly strategies?: ReadonlySet<string>;
  private readonly window?: ReturnsWindow;
  private readonly scratch: Float64Array;
  /** Securities by symbol (a Map: large records are slow dictionaries in V8). */
  private readonly secs = new Map<string, Security>();
  /** The caps of each security's own region, asset class and sector, resolved once. */
  private readonly groupCaps = new Map<string, GroupCaps>();

  constructor(config: RiskConfig, window?: ReturnsWindow) {
    this.limits = config.limits;
    this.securities = config.securities;
    this.strategies = config.strategies && new Set(config.strategies);
    const L = config.limits;
    const cap = (
      caps: Readonly<Record<string, number>> | undefined,
      key: string | undefined,
    ): number | undefined =>
      caps !== undefined && key !== undefined && Object.hasOwn(caps, key) ? caps[key] : undefined;
    for (const [symbol, sec] of Object.entries(config.securities)) {
      this.secs.set(symbol, sec);
      const g: GroupCaps = {
        region: cap(L.regionCaps, sec.region),
        assetClass: cap(L.assetClassCaps, sec.assetClass),
        sector: cap(L.sectorCaps, sec.sector),
      };
      if (g.region !== undefined || g.assetClass !== undefined || g.sector !== undefined)
        this.groupCaps.set(symbol, g);
    }
    this.window = window;
    this.scratch = new Float64Array(32);
  }

  private security(symbol: string): Security | undefined {
    return this.secs.get(symbol);
  }

  /** Aggregates a portfolio once for any number of checks. */
  snapshot(portfolio: RiskPortfolio): PortfolioSnapshot {
    const snap: PortfolioSnapshot = {
      nav: portfolio.nav,
      navCents: toCents(portfolio.nav),
      state: mostRestrictive(portfolio.state, automaticState(portfolio, this.limits)),
      holdings: new Map(),
      grossCents: 0,
      netCents: 0,
      region: new Map(),
      assetClass: new Map(),
      sector: new Map(),
      locates: new Map(Object.entries(portfolio.locates ?? {})),
      covDot: new Map(),
      correlated: new Map(),
    };
    // Several lines for one symbol are netted into one holding (valued at the last price).
    const qty = new Map<string, { qty: number; price: number }>();
    for (const p of portfolio.positions) {
      const prev = qty.get(p.symbol);
      qty.set(p.symbol, { qty: (prev?.qty ?? 0) + p.qty, price: p.price });
    }
    for (const [symbol, { qty: q, price }] of qty) {
      const absCents = toCents(Math.abs(q) * price);
      const h: Holding = { qty: q, price, absCents, signedCents: q < 0 ? -absCents : absCents };
      snap.holdings.set(symbol, h);
      this.addHolding(snap, symbol, h, 1);
    }
    if (this.window && this.needsVar()) {
      const pnl = new Float64Array(this.window.length);
      for (const [symbol, h] of snap.holdings) {
        const r = this.window.get(symbol);
        if (!r) continue;
        const e = h.signedCents / 100;
        for (let t = 0; t < pnl.length; t++) pnl[t] += e * r[t];
      }
      snap.pnl = pnl;
    }
    return snap;
  }

  private needsVar(): boolean {
    return this.limits.varBudget !== undefined;
  }

  private addHolding(snap: PortfolioSnapshot, symbol: string, h: Holding, sign: 1 | -1): void {
    snap.grossCents += sign * h.absCents;
    snap.netCents += sign * h.signedCents;
    const sec = this.security(symbol);
    if (sec) {
      addTo(snap.region, sec.region, sign * h.absCents);
      addTo(snap.assetClass, sec.assetClass, sign * h.absCents);
      addTo(snap.sector, sec.sector, sign * h.absCents);
    }
  }

  /** Books an executed quantity into the snapshot (basket checks, paper trading). */
  apply(snap: PortfolioSnapshot, order: RiskOrder, qty: number): void {
    if (qty === 0) return;
    const prev = snap.holdings.get(order.symbol);
    const newQty = (prev?.qty ?? 0) + (order.side === 'buy' ? qty : -qty);
    if (prev) this.addHolding(snap, order.symbol, prev, -1);
    const absCents = toCents(Math.abs(newQty) * order.price);
    const h: Holding = {
      qty: newQty,
      price: order.price,
      absCents,
      signedCents: newQty < 0 ? -absCents : absCents,
    };
    snap.holdings.set(order.symbol, h);
    this.addHolding(snap, order.symbol, h, 1);
    const d = (h.signedCents - (prev?.signedCents ?? 0)) / 100;
    const r = this.window?.get(order.symbol);
    if (snap.pnl && r) for (let t = 0; t < snap.pnl.length; t++) snap.pnl[t] += d * r[t];
    snap.variance = undefined;
    snap.varBefore = undefined;
    snap.covDot.clear();
    snap.correlated.clear();
  }

  /** Checks one order; `snapshot` is not changed. */
  check(snap: PortfolioSnapshot, order: RiskOrder, options: CheckOptions = {}): RiskDecision {
    const breaches: Breach[] = [];
    const sec = this.security(order.symbol);
    this.fixedRules(snap, order, sec, options, breaches);
    const fixedCount = breaches.length;
    this.quantityRules(snap, order, sec, order.qty, breaches);
    if (breaches.length === 0) return { decision: 'approve', breaches, approvedQty: order.qty };
    if (!options.resize || fixedCount > 0) return { decision: 'reject', breaches, approvedQty: 0 };
    // Each quantity rule's feasible set is an interval [0, qmax] (values are convex in the
    // quantity), so the largest passing quantity is found by bisection with the same rules.
    let lo = 0;
    let hi = order.qty;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.quantityRules(snap, order, sec, mid, null)) hi = mid;
      else lo = mid;
    }
    if (lo === 0) return { decision: 'reject', breaches, approvedQty: 0 };
    return { decision: 'resize', breaches, approvedQty: lo };
  }

  /** Checks a basket in order; each approved (or resized) order is booked before the next. */
  checkBasket(
    portfolio: RiskPortfolio,
    orders: readonly RiskOrder[],
    options: CheckOptions = {},
  ): RiskDecision[] {
    const snap = this.snapshot(portfolio);
    const out: RiskDecision[] = [];
    for (const o of orders) {
      const d = this.check(snap, o, options);
      if (d.approvedQty > 0) this.apply(snap, o, d.approvedQty);
      out.push(d);
    }
    return out;
  }

  /** Rules that do not depend on the quantity: state (HALTED), symbol, reference price, rate. */
  private fixedRules(
    snap: PortfolioSnapshot,
    order: RiskOrder,
    sec: Security | undefined,
    options: CheckOptions,
    out: Breach[],
  ): void {
    const L = this.limits;
    if (snap.state === 'HALTED') out.push({ rule: 'tradingState', limit: 0, value: 0 });
    if (this.strategies && order.strategy !== undefined && !this.strategies.has(order.strategy))
      out.push({ rule: 'unknownStrategy', limit: 0, value: 0 });
    if (!sec) {
      out.push({ rule: 'unknownSymbol', limit: 0, value: 0 });
      return;
    }
    if (L.maxReferenceAgeMs !== undefined) {
      const age =
        sec.referenceTime === undefined ? Infinity : (options.now ?? Date.now()) - sec.referenceTime;
      // A missing reference time counts as stale; report the age as -1 (JSON has no Infinity).
      if (age > L.maxReferenceAgeMs) {
        out.push({
          rule: 'staleReferencePrice',
          limit: L.maxReferenceAgeMs,
          value: age === Infinity ? -1 : age,
        });
      }
    }
    if (L.priceCollarPct !== undefined && sec.referencePrice !== undefined) {
      const p = Math.round(order.price * 1e6);
      const ref = Math.round(sec.referencePrice * 1e6);
      const v = Math.abs(p - ref) / ref;
      if (v > L.priceCollarPct) out.push({ rule: 'priceCollarPct', limit: L.priceCollarPct, value: v });
    }
    if (L.maxOrdersPerSecond !== undefined) {
      const v = (options.ordersInLastSecond ?? 0) + 1;
      if (v > L.maxOrdersPerSecond)
        out.push({ rule: 'maxOrdersPerSecond', limit: L.maxOrdersPerSecond, value: v });
    }
  }

  /**
   * Quantity-dependent rules at quantity `q`. Pushes breaches into `out` when given; returns
   * whether anything is breached.
   */
  private quantityRules(
    snap: PortfolioSnapshot,
    order: RiskOrder,
    sec: Security | undefined,
    q: number,
    out: Breach[] | null,
  ): boolean {
    // Written without closures: this runs millions of times a second and must not allocate
    // unless it reports a breach.
    const L = this.limits;
    let n = 0;
    const h = snap.holdings.get(order.symbol);
    const a = h === undefined ? 0 : h.qty;
    const after = order.side === 'buy' ? a + q : a - q;
    const pc = order.price * 100;
    const symBefore = Math.round(Math.abs(a) * pc);
    const symAfter = Math.round(Math.abs(after) * pc);
    const oldAbs = h === undefined ? 0 : h.absCents;
    const nav = snap.navCents;

    if (snap.state === 'REDUCING' && Math.abs(after) > Math.abs(a)) n += report(out, 'tradingState', 0, 0);
    if (L.maxOrderNotional !== undefined) {
      const v = Math.round(q * pc) / 100;
      if (v > L.maxOrderNotional) n += report(out, 'maxOrderNotional', L.maxOrderNotional, v);
    }
    if (L.maxOrderAdvFraction !== undefined && sec !== undefined && sec.adv !== undefined) {
      const v = q / sec.adv;
      if (v > L.maxOrderAdvFraction) n += report(out, 'maxOrderAdvFraction', L.maxOrderAdvFraction, v);
    }
    if (L.requireLocate) {
      const located = snap.locates.get(order.symbol) ?? 0;
      n += exposure(out, 'shortLocate', located, Math.max(0, -a), Math.max(0, -after));
    }
    n += exposure(out, 'maxPositionWeight', L.maxPositionWeight, symBefore / nav, symAfter / nav);
    const grossBase = snap.grossCents - oldAbs;
    const gb = grossBase + symBefore;
    const ga = grossBase + symAfter;
    n += exposure(out, 'maxGrossLeverage', L.maxGrossLeverage, gb / nav, ga / nav);
    n += exposure(out, 'maxGrossExposure', L.maxGrossExposure, gb / 100, ga / 100);
    if (L.maxNetExposure !== undefined) {
      const netBase = snap.netCents - (h === undefined ? 0 : h.signedCents);
      const nb = Math.abs(netBase + (a < 0 ? -symBefore : symBefore)) / 100;
      const na = Math.abs(netBase + (after < 0 ? -symAfter : symAfter)) / 100;
      n += exposure(out, 'maxNetExposure', L.maxNetExposure, nb, na);
    }
    const caps = this.groupCaps.get(order.symbol);
    if (caps !== undefined) {
      if (caps.region !== undefined) {
        const base = (snap.region.get(sec!.region!) ?? 0) - oldAbs;
        n += exposure(out, 'regionCap', caps.region, (base + symBefore) / nav, (base + symAfter) / nav);
      }
      if (caps.assetClass !== undefined) {
        const base = (snap.assetClass.get(sec!.assetClass!) ?? 0) - oldAbs;
        n += exposure(
          out,
          'assetClassCap',
          caps.assetClass,
          (base + symBefore) / nav,
          (base + symAfter) / nav,
        );
      }
      if (caps.sector !== undefined) {
        const base = (snap.sector.get(sec!.sector!) ?? 0) - oldAbs;
        n += exposure(out, 'sectorCap', caps.sector, (base + symBefore) / nav, (base + symAfter) / nav);
      }
    }
    if (this.window !== undefined && this.window.has(order.symbol)) {
      const oldSigned = (h === undefined ? 0 : h.signedCents) / 100;
      const eBefore = (a < 0 ? -symBefore : symBefore) / 100;
      const eAfter = (after < 0 ? -symAfter : symAfter) / 100;
      if (L.varBudget !== undefined) {
        const dBefore = eBefore - oldSigned;
        let cached = snap.varBefore;
        if (cached === undefined || cached.symbol !== order.symbol || cached.delta !== dBefore) {
          cached = { symbol: order.symbol, delta: dBefore, value: this.varOf(snap, order.symbol, dBefore) };
          snap.varBefore = cached;
        }
        const vb = cached.value / snap.nav;
        const va = this.varOf(snap, order.symbol, eAfter - oldSigned) / snap.nav;
        n += exposure(out, 'varBudget', L.varBudget, vb, va);
      }
      if (L.maxCorrelatedExposure !== undefined) {
        const c = this.correlatedCents(snap, order.symbol);
        n += exposure(
          out,
          'correlationConcentration',
          L.maxCorrelatedExposure,
          (c + symBefore) / nav,
          (c + symAfter) / nav,
        );
      }
    }
    return n > 0;
  }

  /** 1-day 99% VaR (money) of the snapshot with `symbol`'s exposure changed by `delta`. */
  private varOf(snap: PortfolioSnapshot, symbol: string, delta: number): number {
    const w = this.window!;
    if ((this.limits.varMethod ?? 'historical') === 'historical') {
      return Math.max(0, -lowQuantileShifted(snap.pnl!, w.get(symbol)!, delta, 0.01, this.scratch));
    }
    if (snap.variance === undefined) {
      let v = 0;
      for (const [s1, h1] of snap.holdings) {
        if (!w.has(s1)) continue;
        v += (h1.signedCents / 100) * this.covDot(snap, s1);
      }
      snap.variance = v;
    }
    const v = snap.variance + 2 * delta * this.covDot(snap, symbol) + delta * delta * w.cov(symbol, symbol);
    return Z99 * Math.sqrt(Math.max(0, v));
  }

  private covDot(snap: PortfolioSnapshot, symbol: string): number {
    const hit = snap.covDot.get(symbol);
    if (hit !== undefined) return hit;
    let s = 0;
    for (const [s2, h2] of snap.holdings) s += this.window!.cov(symbol, s2) * (h2.signedCents / 100);
    snap.covDot.set(symbol, s);
    return s;
  }

  private correlatedCents(snap: PortfolioSnapshot, symbol: string): number {
    const hit = snap.correlated.get(symbol);
    if (hit !== undefined) return hit;
    const thr = this.limits.correlationThreshold ?? 0.7;
    let c = 0;
    for (const [s2, h2] of snap.holdings) {
      if (s2 !== symbol && this.window!.corr(symbol, s2) >= thr) c += h2.absCents;
    }
    snap.correlated.set(symbol, c);
    return c;
  }
}

/** One-shot check (the CLI): snapshot the portfolio and check one order. */
export function checkOrder(
  config: RiskConfig,
  portfolio: RiskPortfolio,
  order: RiskOrder,
  options: CheckOptions = {},
  window?: ReturnsWindow,
): RiskDecision {
  const engine = new RiskEngine(config, window);
  return engine.check(engine.snapshot(portfolio), order, options);
}
