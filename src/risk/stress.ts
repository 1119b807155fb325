/**
 * Stress tests: the linear P&L of a portfolio under factor shocks (equity, rates, fx, commodity),
 * grouped by asset class, region and sector, and the portfolio-level limits the shocked book breaches.
 * The contract of `quant risk stress` is in docs/stress.md; hand-computed examples in
 * test/unit/risk/stress.test.ts.
 */
import { InputError } from '../errors';
import type { RiskConfig, RiskPortfolio, Security } from './types';
import { historicalVarFromPnl, parametricVar, type ReturnsWindow } from './var';

export const STRESS_FACTORS = ['equity', 'rates', 'fx', 'commodity'] as const;
export type StressFactor = (typeof STRESS_FACTORS)[number];
/** A shock per factor: equity, fx, commodity as a fractional price move; rates as Δy (0.01 = +100 bp). */
export type Shocks = Partial<Record<StressFactor, number>>;

export interface StressScenario {
  readonly name: string;
  readonly shocks: Shocks;
  /**
   * "Correlation goes to 1", linearly approximated: every position, whatever its asset class, moves
   * with the equity shock (value × beta × equity); the other factors are ignored.
   */
  readonly correlationOne?: boolean;
  /**
   * The fx shock is a move of the US dollar: each FX position moves by it times its security's `usd`
   * sign (a long-euro position loses when the dollar rises). Without it, the linear contract: every
   * FX position moves by the shock.
   */
  readonly fxIsDollar?: boolean;
}

export type StressRule = 'maxDrawdown' | 'maxDailyLoss' | 'varBudget';
export interface StressBreach {
  readonly rule: StressRule;
  readonly limit: number;
  /** null only for varBudget when the shocked NAV is not positive (VaR / NAV undefined). */
  readonly value: number | null;
}

export interface StressResult {
  readonly pnl: number;
  readonly byAssetClass: Record<string, number>;
  readonly byRegion: Record<string, number>;
  readonly bySector: Record<string, number>;
  readonly positions: { symbol: string; pnl: number }[];
  readonly breaches: StressBreach[];
}

/** Group name for a security without a region, asset class or sector. */
export const UNCLASSIFIED = 'unclassified';

/** The factor an asset class moves with (case-insensitive), or undefined (not moved). */
export function factorOf(assetClass: string | undefined): StressFactor | undefined {
  switch (assetClass?.toLowerCase()) {
    case 'equity':
      return 'equity';
    case 'fixed income':
    case 'fixedincome':
      return 'rates';
    case 'fx':
      return 'fx';
    case 'commodities':
    case 'commodity':
      return 'commodity';
    default:
      return undefined;
  }
}

/** File names used in error messages. */
export interface StressSources {
  readonly portfolio: string;
  readonly limits: string;
  readonly returns?: string;
}

const DEFAULT_SOURCES: StressSources = { portfolio: 'portfolio', limits: 'limits', returns: 'returns' };

/**
 * A portfolio prepared for many scenarios: each position's sensitivity to its factor, so that a
 * scenario costs one multiply-add per position.
 */
export class StressBook {
  readonly n: number;
  private readonly symbols: string[];
  private readonly factor: Int8Array; // index into STRESS_FACTORS, -1 = not moved
  /** P&L per unit of its factor's shock (value × beta, −value × duration, or value). */
  private readonly sens: Float64Array;
  /** The security's `usd` sign for FX positions (1 elsewhere), applied under fxIsDollar. */
  private readonly usd: Float64Array;
  /** value × beta: the sensitivity to the equity shock under correlationOne. */
  private readonly betaValue: Float64Array;
  private readonly value: Float64Array;
  private readonly classIdx: Int32Array;
  private readonly regionIdx: Int32Array;
  private readonly sectorIdx: Int32Array;
  private readonly classes: string[] = [];
  private readonly regions: string[] = [];
  private readonly sectors: string[] = [];
  private readonly exposureSymbols: string[] = [];
  private readonly exposureIdx: Int32Array;

  constructor(
    readonly portfolio: RiskPortfolio,
    readonly config: RiskConfig,
    readonly sources: StressSources = DEFAULT_SOURCES,
  ) {
    const ps = portfolio.positions;
    this.n = ps.length;
    this.symbols = ps.map((p) => p.symbol);
    this.factor = new Int8Array(this.n);
    this.sens = new Float64Array(this.n);
    this.betaValue = new Float64Array(this.n);
    this.usd = new Float64Array(this.n).fill(1);
    this.value = new Float64Array(this.n);
    this.classIdx = new Int32Array(this.n);
    this.regionIdx = new Int32Array(this.n);
    this.sectorIdx = new Int32Array(this.n);
    this.exposureIdx = new Int32Array(this.n);
    const index = (list: string[], map: Map<string, number>, name: string | undefined): number => {
      const k = name ?? UNCLASSIFIED;
      let i = map.get(k);
      if (i === undefined) {
        i = list.push(k) - 1;
        map.set(k, i);
      }
      return i;
    };
    const cm = new Map<string, number>();
    const rm = new Map<string, number>();
    const sm = new Map<string, number>();
    const em = new Map<string, number>();
    for (let i = 0; i < this.n; i++) {
      const p = ps[i];
      const sec: Security | undefined = Object.hasOwn(config.securities, p.symbol)
        ? config.securities[p.symbol]
        : undefined;
      // An unknown symbol would silently escape every shock: an error, as `quant risk check`
      // treats an order for it (unknownSymbol).
      if (!sec) {
        throw new InputError(
          `${sources.portfolio}: positions.${i}.symbol: ${JSON.stringify(p.symbol)} is not in ${sources.limits} securities (unknownSymbol)`,
          `${sources.portfolio}:positions.${i}.symbol`,
        );
      }
      const value = p.qty * p.price;
      const f = factorOf(sec.assetClass);
      const beta = sec.beta ?? 1;
      this.value[i] = value;
      this.betaValue[i] = value * beta;
      this.factor[i] = f === undefined ? -1 : STRESS_FACTORS.indexOf(f);
      if (f === 'equity') this.sens[i] = value * beta;
      else if (f === 'rates') this.sens[i] = sec.duration === undefined ? NaN : -value * sec.duration;
      else if (f !== undefined) this.sens[i] = value;
      if (f === 'fx') this.usd[i] = sec.usd ?? 1;
      this.classIdx[i] = index(this.classes, cm, sec.assetClass);
      this.regionIdx[i] = index(this.regions, rm, sec.region);
      this.sectorIdx[i] = index(this.sectors, sm, sec.sector);
      this.exposureIdx[i] = index(this.exposureSymbols, em, p.symbol);
    }
  }

  /** Throws an InputError for a held fixed-income position without a duration under a rates shock. */
  private checkShocks(shocks: Shocks): void {
    if (!shocks.rates) return;
    for (let i = 0; i < this.n; i++) {
      if (Number.isNaN(this.sens[i]) && this.value[i] !== 0) {
        throw new InputError(
          `${this.sources.limits}: securities.${this.symbols[i]}.duration: required for a rates shock on a fixed-income position`,
          `${this.sources.limits}:securities.${this.symbols[i]}.duration`,
        );
      }
    }
  }

  /** P&L in cents of each position under `scenario`, into `out`. */
  pnlCents(scenario: StressScenario, out: Float64Array): void {
    const s = STRESS_FACTORS.map((f) => scenario.shocks[f] ?? 0);
    if (scenario.correlationOne) {
      const e = s[0];
      for (let i = 0; i < this.n; i++) out[i] = Math.round(this.betaValue[i] * e * 100) + 0;
      return;
    }
    this.checkShocks(scenario.shocks);
    const fx = STRESS_FACTORS.indexOf('fx');
    for (let i = 0; i < this.n; i++) {
      const f = this.factor[i];
      const x = f < 0 ? 0 : f === fx && scenario.fxIsDollar ? s[f] * this.usd[i] : s[f];
      // `+ 0` turns -0 into 0 so JSON never shows "-0".
      out[i] = x === 0 ? 0 : Math.round(this.sens[i] * x * 100) + 0;
    }
  }

  /** Runs one scenario; `window` enables varBudget. */
  run(scenario: StressScenario, window?: ReturnsWindow): StressResult {
    const cents = new Float64Array(this.n);
    this.pnlCents(scenario, cents);
    const byClass = new Float64Array(this.classes.length);
    const byRegion = new Float64Array(this.regions.length);
    const bySector = new Float64Array(this.sectors.length);
    let total = 0;
    const positions: { symbol: string; pnl: number }[] = new Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const c = cents[i];
      total += c;
      byClass[this.classIdx[i]] += c;
      byRegion[this.regionIdx[i]] += c;
      bySector[this.sectorIdx[i]] += c;
      positions[i] = { symbol: this.symbols[i], pnl: c / 100 };
    }
    const group = (names: string[], sums: Float64Array): Record<string, number> =>
      Object.fromEntries(names.map((k, j) => [k, sums[j] / 100 + 0]));
    const pnl = total / 100 + 0;
    return {
      pnl,
      byAssetClass: group(this.classes, byClass),
      byRegion: group(this.regions, byRegion),
      bySector: group(this.sectors, bySector),
      positions,
      breaches: this.breaches(pnl, cents, scenario, window),
    };
  }

  /** Portfolio-level rules on the shocked NAV (nav + pnl). */
  breaches(
    pnl: number,
    cents: Float64Array,
    scenario: StressScenario,
    window?: ReturnsWindow,
  ): StressBreach[] {
    const L = this.config.limits;
    const { nav } = this.portfolio;
    const shocked = nav + pnl;
    const out: StressBreach[] = [];
    if (L.maxDrawdown !== undefined) {
      const v = 1 - shocked / (this.portfolio.peakNav ?? nav);
      if (v > L.maxDrawdown) out.push({ rule: 'maxDrawdown', limit: L.maxDrawdown, value: v });
    }
    if (L.maxDailyLoss !== undefined) {
      const v = 1 - shocked / (this.portfolio.startOfDayNav ?? nav);
      if (v > L.maxDailyLoss) out.push({ rule: 'maxDailyLoss', limit: L.maxDailyLoss, value: v });
    }
    if (L.varBudget !== undefined && window !== undefined) {
      const v = this.varRatio(cents, scenario, shocked, window);
      if (v === null || v > L.varBudget) out.push({ rule: 'varBudget', limit: L.varBudget, value: v });
    }
    return out;
  }

  /** 1-day 99% VaR of the shocked exposures (value + pnl per symbol) / shocked NAV. */
  private varRatio(
    cents: Float64Array,
    scenario: StressScenario,
    shockedNav: number,
    window: ReturnsWindow,
  ): number | null {
    const series = this.varSeries(window);
    if (shockedNav <= 0) return null;
    if ((this.config.limits.varMethod ?? 'historical') === 'parametric') {
      const m = new Map<string, number>();
      for (let i = 0; i < this.n; i++) {
        const sym = this.symbols[i];
        m.set(sym, (m.get(sym) ?? 0) + this.value[i] + cents[i] / 100);
      }
      return parametricVar(window, m) / shockedNav;
    }
    // The P&L is linear in the shocks, so the shocked book's daily P&L over the window is the
    // unshocked one plus each factor's series times its shock: O(days) per scenario instead of
    // O(positions × days). (It uses the unrounded P&L: within a cent per position of the rounded one.)
    const pnl = Float64Array.from(series.base);
    const add = (k: Float64Array, x: number): void => {
      if (x !== 0) for (let t = 0; t < pnl.length; t++) pnl[t] += x * k[t];
    };
    if (scenario.correlationOne) add(series.corr, scenario.shocks.equity ?? 0);
    else STRESS_FACTORS.forEach((f, k) => add(series.factor[k], scenario.shocks[f] ?? 0));
    return historicalVarFromPnl(pnl) / shockedNav;
  }

  private seriesCache?: {
    window: ReturnsWindow;
    base: Float64Array;
    factor: Float64Array[];
    corr: Float64Array;
  };

  /**
   * Per window: Σ value × r (the unshocked daily P&L), Σ sensitivity × r per factor, and
   * Σ value × beta × r (correlation 1). A held symbol without returns is an error.
   */
  private varSeries(window: ReturnsWindow): NonNullable<StressBook['seriesCache']> {
    if (this.seriesCache?.window === window) return this.seriesCache;
    const days = window.length;
    const base = new Float64Array(days);
    const factor = STRESS_FACTORS.map(() => new Float64Array(days));
    const corr = new Float64Array(days);
    for (let i = 0; i < this.n; i++) {
      if (this.value[i] === 0) continue;
      const sym = this.symbols[i];
      const r = window.get(sym);
      if (!r) {
        const name = this.sources.returns ?? 'returns';
        // A held symbol without returns would silently add no risk.
        throw new InputError(
          `${name}: ${sym}: no returns for a held position (needed by limits.varBudget)`,
          `${name}:${sym}`,
        );
      }
      const v = this.value[i];
      const bv = this.betaValue[i];
      const f = this.factor[i];
      // NaN: fixed income without duration, refused before any non-zero rates shock is used.
      const sens = Number.isNaN(this.sens[i]) ? 0 : this.sens[i];
      const k = f < 0 ? undefined : factor[f];
      for (let t = 0; t < days; t++) {
        const x = r[t];
        base[t] += v * x;
        corr[t] += bv * x;
        if (k !== undefined) k[t] += sens * x;
      }
    }
    this.seriesCache = { window, base, factor, corr };
    return this.seriesCache;
  }

  /** The total P&L (money) of a scenario, without the breakdowns (reverse stress, benchmarks). */
  totalPnl(scenario: StressScenario, scratch: Float64Array): number {
    this.pnlCents(scenario, scratch);
    let t = 0;
    for (let i = 0; i < this.n; i++) t += scratch[i];
    return t / 100;
  }
}

/** Stress one portfolio under one set of shocks (the `quant risk stress --shock` path). */
export function stressTest(
  portfolio: RiskPortfolio,
  config: RiskConfig,
  shocks: Shocks,
  options: { window?: ReturnsWindow; sources?: StressSources } = {},
): StressResult {
  return new StressBook(portfolio, config, options.sources).run({ name: 'shocks', shocks }, options.window);
}

/**
 * Parses one `--shock factor=number` argument (`equity=-0.20`, `rates=+0.01`). Errors name the
 * option and the problem.
 */
export function parseShock(arg: string): [StressFactor, number] {
  const eq = arg.indexOf('=');
  if (eq < 0) {
    throw new InputError(
      `--shock: expected factor=number (e.g. equity=-0.20), got ${JSON.stringify(arg)}`,
      '--shock',
    );
  }
  const name = arg.slice(0, eq).trim().toLowerCase();
  const text = arg.slice(eq + 1).trim();
  if (!(STRESS_FACTORS as readonly string[]).includes(name)) {
    throw new InputError(
      `--shock: unknown factor ${JSON.stringify(arg.slice(0, eq))}; expected one of ${STRESS_FACTORS.join(', ')}`,
      '--shock',
    );
  }
  const v = text === '' ? NaN : Number(text);
  if (!Number.isFinite(v)) {
    throw new InputError(`--shock: ${name}: not a number: ${JSON.stringify(text)}`, '--shock');
  }
  return [name as StressFactor, v];
}

/** Parses every `--shock`; a factor given twice is an error (which one was meant?). */
export function parseShocks(args: readonly string[]): Shocks {
  const out: Shocks = {};
  for (const a of args) {
    const [f, v] = parseShock(a);
    if (out[f] !== undefined) throw new InputError(`--shock: ${f} given more than once`, '--shock');
    out[f] = v;
  }
  return out;
}
