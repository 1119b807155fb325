/**
 * Synthetic point-in-time data for the macro universe (src/synthetic/macro-universe.ts): its
 * reference data (region, asset class, sector) and a raw-price version of a total-return panel
 * with the corporate actions that explain the difference (quarterly dividends, one split, one
 * delisting), so that `adjustPanel` (src/backtest/point-in-time.ts) gives the total-return
 * closes back. Seeded by the panel itself: the same panel gives the same actions.
 */
import type { CorporateAction, ReferenceRecord } from '../backtest/point-in-time';
import type { Panel } from '../backtest/types';
import { MACRO_ASSETS } from './macro-universe';

const REFERENCE: Readonly<Record<string, { region: string; assetClass: string; sector: string }>> = {
  SPY: { region: 'US', assetClass: 'equity', sector: 'broad market' },
  EFA: { region: 'Developed ex-US', assetClass: 'equity', sector: 'broad market' },
  EEM: { region: 'Emerging', assetClass: 'equity', sector: 'broad market' },
  AGG: { region: 'US', assetClass: 'fixedIncome', sector: 'aggregate bonds' },
  TLT: { region: 'US', assetClass: 'fixedIncome', sector: 'treasuries' },
  GLD: { region: 'Global', assetClass: 'commodity', sector: 'precious metals' },
  DBC: { region: 'Global', assetClass: 'commodity', sector: 'broad commodities' },
  UUP: { region: 'US', assetClass: 'fx', sector: 'currency' },
  FXE: { region: 'Europe', assetClass: 'fx', sector: 'currency' },
};

/** Reference records of the macro universe, in force from `from` (YYYY-MM-DD). */
export function macroReference(from: string): ReferenceRecord[] {
  return MACRO_ASSETS.map((a) => ({ symbol: a.symbol, from: from.slice(0, 10), ...REFERENCE[a.symbol] }));
}

/** Annual cash yield paid quarterly (as a fraction of the price before the ex-date). */
const YIELD: Readonly<Record<string, number>> = { SPY: 0.018, EFA: 0.03, EEM: 0.025, AGG: 0.03, TLT: 0.03 };

export interface RawUniverse {
  /** Raw closes and volumes, as an exchange would have printed them. */
  readonly raw: Panel;
  readonly actions: CorporateAction[];
}

/**
 * Raw prices from a total-return panel: dividends every 63 bars for the symbols that pay, a
 * 3-for-1 split of EEM at 60% of the history, DBC delisted at 85% (its later rows repeat its last
 * close, as a file aligned on one calendar carries them). Symbols outside the macro universe are
 * left as they are.
 */
export function rawMacroUniverse(tr: Panel): RawUniverse {
  const n = tr.dates.length;
  const actions: CorporateAction[] = [];
  const splitBar = Math.floor(n * 0.6);
  const delistBar = Math.floor(n * 0.85);
  const close: Float64Array[] = [];
  const volume: Float64Array[] = [];
  tr.symbols.forEach((symbol, a) => {
    const c = tr.close[a];
    const raw = new Float64Array(n);
    const vol = new Float64Array(tr.volume?.[a] ?? new Float64Array(n));
    raw[0] = c[0];
    let shares = 1;
    for (let t = 1; t < n; t++) {
      const growth = c[t] / c[t - 1];
      let ratio = 1;
      let dividend = 0;
      if (symbol === 'EEM' && t === splitBar) {
        ratio = 3;
        actions.push({ symbol, date: tr.dates[t].slice(0, 10), type: 'split', ratio });
      }
      const y = YIELD[symbol];
      if (y !== undefined && t % 63 === 0) {
        dividend = Math.round((((y / 4) * raw[t - 1]) / ratio) * 1e4) / 1e4;
        actions.push({ symbol, date: tr.dates[t].slice(0, 10), type: 'dividend', amount: dividend });
      }
      shares *= ratio;
      // (raw[t] + dividend) * ratio / raw[t-1] = growth: the adjustment gives `tr` back.
      raw[t] = (raw[t - 1] * growth) / ratio - dividend;
      vol[t] *= shares;
    }
    if (symbol === 'DBC' && delistBar > 0 && delistBar < n) {
      actions.push({ symbol, date: tr.dates[delistBar].slice(0, 10), type: 'delist' });
      for (let t = delistBar + 1; t < n; t++) {
        raw[t] = raw[delistBar];
        vol[t] = 0;
      }
    }
    close.push(raw);
    volume.push(vol);
  });
  return { raw: { symbols: tr.symbols, dates: tr.dates, close, volume }, actions };
}
