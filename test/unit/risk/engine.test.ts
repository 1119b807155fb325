import { describe, expect, it } from 'vitest';
import { RiskEngine, checkOrder } from '../../../src/risk/engine';
import type { Limits, RiskConfig, RiskOrder, RiskPortfolio, Security } from '../../../src/risk/types';

// Every expected value below is worked out by hand in the comment next to it.
const SEC: Record<string, Security> = {
  AAPL: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 50_000_000, referencePrice: 190 },
  MSFT: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 20_000_000, referencePrice: 200 },
  XOM: { region: 'US', assetClass: 'equity', sector: 'Energy', adv: 15_000_000, referencePrice: 100 },
  SAP: { region: 'Europe', assetClass: 'equity', sector: 'Technology', adv: 1_000_000, referencePrice: 100 },
  BUND: { region: 'Europe', assetClass: 'fixedIncome', adv: 1_000_000, referencePrice: 100 },
};
const cfg = (limits: Limits, securities: Record<string, Security> = SEC): RiskConfig => ({
  securities,
  limits,
});
const pf = (
  positions: RiskPortfolio['positions'] = [],
  extra: Partial<RiskPortfolio> = {},
): RiskPortfolio => ({
  nav: 1_000_000,
  state: 'ACTIVE',
  positions,
  ...extra,
});
const buy = (symbol: string, qty: number, price: number): RiskOrder => ({ symbol, side: 'buy', qty, price });
const sell = (symbol: string, qty: number, price: number): RiskOrder => ({
  symbol,
  side: 'sell',
  qty,
  price,
});

describe('risk check: the CLI contract example', () => {
  const limits: Limits = {
    maxPositionWeight: 0.05,
    maxOrderAdvFraction: 0.1,
    maxGrossLeverage: 1.5,
    maxOrderNotional: 1_000_000,
    priceCollarPct: 0.05,
    regionCaps: { US: 0.4 },
    assetClassCaps: { equity: 0.5 },
    sectorCaps: { Technology: 0.2 },
  };
  const portfolio = pf([{ symbol: 'AAPL', qty: 100, price: 190 }]);

  it('approves an order inside every limit with its full quantity', () => {
    // after: 200 × 190 = 38,000 → weight 0.038
    expect(checkOrder(cfg(limits), portfolio, buy('AAPL', 100, 190))).toEqual({
      decision: 'approve',
      breaches: [],
      approvedQty: 100,
    });
  });

  it('rejects with every breached rule and resizes to the largest whole quantity', () => {
    // after: 1,100 × 190 = 209,000 → weight 0.209 > 0.05 and sector 0.209 > 0.2; US 0.209 ≤ 0.4
    const order = buy('AAPL', 1000, 190);
    const breaches = [
      { rule: 'maxPositionWeight', limit: 0.05, value: 0.209 },
      { rule: 'sectorCap', limit: 0.2, value: 0.209 },
    ];
    expect(checkOrder(cfg(limits), portfolio, order)).toEqual({
      decision: 'reject',
      breaches,
      approvedQty: 0,
    });
    // 263 × 190 = 49,970 ≤ 50,000 but 264 × 190 = 50,160: buy 163 more
    expect(checkOrder(cfg(limits), portfolio, order, { resize: true })).toEqual({
      decision: 'resize',
      breaches,
      approvedQty: 163,
    });
  });
});

describe('risk check: each rule', () => {
  it('maxOrderAdvFraction: qty / adv, equal to the limit passes', () => {
    const c = cfg({ maxOrderAdvFraction: 0.1 }, { X: { adv: 1000 } });
    expect(checkOrder(c, pf(), buy('X', 100, 10)).decision).toBe('approve'); // 0.1
    expect(checkOrder(c, pf(), buy('X', 101, 10)).breaches).toEqual([
      { rule: 'maxOrderAdvFraction', limit: 0.1, value: 0.101 },
    ]);
    expect(checkOrder(c, pf(), buy('X', 150, 10), { resize: true })).toMatchObject({
      decision: 'resize',
      approvedQty: 100,
    });
  });

  it('maxGrossLeverage: Σ|position| / nav after the order', () => {
    // MSFT 5,000 × 200 = 1,000,000 (1.0); + AAPL 2,632 × 190 = 500,080 → 1.50008
    const p = pf([{ symbol: 'MSFT', qty: -5000, price: 200 }]);
    const c = cfg({ maxGrossLeverage: 1.5 });
    expect(checkOrder(c, p, buy('AAPL', 2632, 190)).breaches).toEqual([
      { rule: 'maxGrossLeverage', limit: 1.5, value: 1.50008 },
    ]);
    expect(checkOrder(c, p, buy('AAPL', 2632, 190), { resize: true }).approvedQty).toBe(2631); // 1.49989
    // a buy that covers the short reduces gross leverage: passes even above the limit
    const over = pf([{ symbol: 'MSFT', qty: -8000, price: 200 }]); // 1.6
    expect(checkOrder(c, over, buy('MSFT', 100, 200)).decision).toBe('approve'); // 1.58
  });

  it('maxOrderNotional: qty × price', () => {
    const c = cfg({ maxOrderNotional: 1_000_000 });
    expect(checkOrder(c, pf(), buy('AAPL', 5263, 190)).decision).toBe('approve'); // 999,970
    expect(checkOrder(c, pf(), sell('AAPL', 5264, 190)).breaches).toEqual([
      { rule: 'maxOrderNotional', limit: 1_000_000, value: 1_000_160 },
    ]);
  });

  it('priceCollarPct: |price − ref| / ref, not resizable', () => {
    const c = cfg({ priceCollarPct: 0.05 });
    expect(checkOrder(c, pf(), buy('AAPL', 10, 199.5)).decision).toBe('approve'); // 9.5 / 190 = 0.05
    expect(checkOrder(c, pf(), buy('AAPL', 10, 180.5)).decision).toBe('approve'); // 0.05 below
    const r = checkOrder(c, pf(), buy('AAPL', 10, 200), { resize: true }); // 10 / 190
    expect(r).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'priceCollarPct', limit: 0.05, value: 10 / 190 }],
      approvedQty: 0,
    });
  });

  it('regionCap, assetClassCap, sectorCap: only the ordered symbol’s own groups', () => {
    // MSFT 2,000 × 200 = 400,000: US 0.4, equity 0.4, Technology 0.4; SAP 3,000 × 100 = Europe 0.3
    const p = pf([
      { symbol: 'MSFT', qty: 2000, price: 200 },
      { symbol: 'SAP', qty: 3000, price: 100 },
    ]);
    const c = cfg({
      regionCaps: { US: 0.4, Europe: 0.1 },
      assetClassCaps: { equity: 0.71 },
      sectorCaps: { Technology: 0.8, Energy: 0.01 },
    });
    // XOM 1 × 100: US 0.4001 > 0.4; equity 0.7001 ≤ 0.71; Energy 0.0001 ≤ 0.01
    expect(checkOrder(c, p, buy('XOM', 1, 100)).breaches).toEqual([
      { rule: 'regionCap', limit: 0.4, value: 0.4001 },
    ]);
    // BUND is Europe (0.3 > 0.1 already): +1,000 × 100 → 0.4 > 0.3 before → breach; fixedIncome uncapped
    expect(checkOrder(c, p, buy('BUND', 1000, 100)).breaches).toEqual([
      { rule: 'regionCap', limit: 0.1, value: 0.4 },
    ]);
    // XOM 100 × 100: equity 0.71 → equal passes; 101 → 0.7101 breaches; Energy 0.0101 > 0.01
    expect(
      checkOrder(
        c,
        pf([
          { symbol: 'MSFT', qty: 2000, price: 200 },
          { symbol: 'SAP', qty: 3000, price: 100 },
        ]),
        buy('XOM', 101, 100),
        { resize: false },
      ).breaches.map((b) => b.rule),
    ).toEqual(['regionCap', 'assetClassCap', 'sectorCap']);
    const only = cfg({ assetClassCaps: { equity: 0.71 }, sectorCaps: { Energy: 0.01 } });
    expect(checkOrder(only, p, buy('XOM', 101, 100)).breaches).toEqual([
      { rule: 'assetClassCap', limit: 0.71, value: 0.7101 },
      { rule: 'sectorCap', limit: 0.01, value: 0.0101 },
    ]);
    expect(checkOrder(only, p, buy('XOM', 101, 100), { resize: true }).approvedQty).toBe(100);
  });

  it('exposure rules: an order that shrinks an over-limit exposure passes; growing it fails', () => {
    const c = cfg({ maxPositionWeight: 0.05 });
    const p = pf([{ symbol: 'AAPL', qty: 1000, price: 190 }]); // 0.19
    expect(checkOrder(c, p, sell('AAPL', 100, 190)).decision).toBe('approve'); // 0.171
    expect(checkOrder(c, p, buy('AAPL', 1, 190)).breaches).toEqual([
      { rule: 'maxPositionWeight', limit: 0.05, value: 0.19019 },
    ]);
    // flipping to −1,000 leaves |position| equal: not above the value before
    expect(checkOrder(c, p, sell('AAPL', 2000, 190)).decision).toBe('approve');
    expect(checkOrder(c, p, sell('AAPL', 2001, 190)).breaches[0].value).toBeCloseTo(0.19019, 12);
    // resize of the flip: the largest quantity not above max(limit, before) is 2,000
    expect(checkOrder(c, p, sell('AAPL', 5000, 190), { resize: true }).approvedQty).toBe(2000);
  });

  it('values the ordered symbol at the order price, before and after', () => {
    // held at 100 (0.1) but the order price is 190: before = 1,000 × 190 = 0.19, after 900 × 190
    const c = cfg({ maxPositionWeight: 0.05 });
    const p = pf([{ symbol: 'AAPL', qty: 1000, price: 100 }]);
    expect(checkOrder(c, p, sell('AAPL', 100, 190)).decision).toBe('approve');
    expect(checkOrder(c, p, buy('AAPL', 1, 190)).breaches[0].value).toBeCloseTo(0.19019, 12);
  });

  it('unknownSymbol rejects, even with resize', () => {
    expect(checkOrder(cfg({}), pf(), buy('ZZZZ', 1, 1), { resize: true })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'unknownSymbol', limit: 0, value: 0 }],
      approvedQty: 0,
    });
  });

  it('unknownStrategy: a strategy the limits do not list rejects; listed or unrestricted passes', () => {
    const listed: RiskConfig = { ...cfg({}), strategies: ['sma', 'ml-signal'] };
    const order = (strategy?: string): RiskOrder => ({ ...buy('AAPL', 10, 190), strategy });
    expect(checkOrder(listed, pf(), order('smaa'), { resize: true })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'unknownStrategy', limit: 0, value: 0 }],
      approvedQty: 0,
    });
    expect(checkOrder(listed, pf(), order('ml-signal')).decision).toBe('approve');
    // An order that names no strategy is the operator's own (quant risk check); not restricted.
    expect(checkOrder(listed, pf(), order()).decision).toBe('approve');
    expect(checkOrder(cfg({}), pf(), order('anything')).decision).toBe('approve');
  });

  it('HALTED rejects everything, reducing orders included', () => {
    const p = pf([{ symbol: 'AAPL', qty: 100, price: 190 }], { state: 'HALTED' });
    for (const o of [buy('AAPL', 1, 190), sell('AAPL', 50, 190)]) {
      expect(checkOrder(cfg({}), p, o, { resize: true })).toEqual({
        decision: 'reject',
        breaches: [{ rule: 'tradingState', limit: 0, value: 0 }],
        approvedQty: 0,
      });
    }
  });

  it('REDUCING rejects orders that increase |position| and allows reductions', () => {
    const p = pf([{ symbol: 'AAPL', qty: 100, price: 190 }], { state: 'REDUCING' });
    expect(checkOrder(cfg({}), p, buy('AAPL', 1, 190)).breaches).toEqual([
      { rule: 'tradingState', limit: 0, value: 0 },
    ]);
    expect(checkOrder(cfg({}), p, buy('MSFT', 1, 200)).decision).toBe('reject'); // from 0
    expect(checkOrder(cfg({}), p, sell('AAPL', 100, 190)).decision).toBe('approve');
    expect(checkOrder(cfg({}), p, sell('AAPL', 200, 190)).decision).toBe('approve'); // |−100| = |100|
    expect(checkOrder(cfg({}), p, sell('AAPL', 300, 190)).decision).toBe('reject');
    expect(checkOrder(cfg({}), p, sell('AAPL', 300, 190), { resize: true })).toMatchObject({
      decision: 'resize',
      approvedQty: 200,
    });
  });

  it('automatic transitions: drawdown halts, daily loss reduces', () => {
    const c = cfg({ maxDrawdown: 0.2, maxDailyLoss: 0.05 });
    const p = [{ symbol: 'AAPL', qty: 100, price: 190 }];
    // 1 − 1,000,000 / 1,250,000 = 0.2 → HALTED
    expect(checkOrder(c, pf(p, { peakNav: 1_250_000 }), sell('AAPL', 1, 190)).decision).toBe('reject');
    expect(checkOrder(c, pf(p, { peakNav: 1_249_000 }), buy('AAPL', 1, 190)).decision).toBe('approve');
    // 1 − 1,000,000 / 1,060,000 = 0.0566 → REDUCING: sells pass, buys fail
    const down = pf(p, { startOfDayNav: 1_060_000 });
    expect(checkOrder(c, down, sell('AAPL', 1, 190)).decision).toBe('approve');
    expect(checkOrder(c, down, buy('AAPL', 1, 190)).breaches).toEqual([
      { rule: 'tradingState', limit: 0, value: 0 },
    ]);
  });

  it('staleReferencePrice: older than maxReferenceAgeMs, or no time at all', () => {
    const c = cfg({ maxReferenceAgeMs: 5000 }, { X: { referencePrice: 10, referenceTime: 1_000_000 } });
    expect(checkOrder(c, pf(), buy('X', 1, 10), { now: 1_005_000 }).decision).toBe('approve');
    expect(checkOrder(c, pf(), buy('X', 1, 10), { now: 1_005_001, resize: true })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'staleReferencePrice', limit: 5000, value: 5001 }],
      approvedQty: 0,
    });
    const noTime = cfg({ maxReferenceAgeMs: 5000 }, { X: { referencePrice: 10 } });
    expect(checkOrder(noTime, pf(), buy('X', 1, 10)).breaches[0]).toMatchObject({
      rule: 'staleReferencePrice',
    });
  });

  it('maxOrdersPerSecond counts this order', () => {
    const c = cfg({ maxOrdersPerSecond: 5 });
    expect(checkOrder(c, pf(), buy('AAPL', 1, 190), { ordersInLastSecond: 4 }).decision).toBe('approve');
    expect(checkOrder(c, pf(), buy('AAPL', 1, 190), { ordersInLastSecond: 5 }).breaches).toEqual([
      { rule: 'maxOrdersPerSecond', limit: 5, value: 6 },
    ]);
  });

  it('shortLocate: a short sale beyond located borrow fails; covering passes', () => {
    const c = cfg({ requireLocate: true });
    const p = pf([{ symbol: 'AAPL', qty: 100, price: 190 }], { locates: { AAPL: 50 } });
    expect(checkOrder(c, p, sell('AAPL', 150, 190)).decision).toBe('approve'); // short 50
    expect(checkOrder(c, p, sell('AAPL', 151, 190)).breaches).toEqual([
      { rule: 'shortLocate', limit: 50, value: 51 },
    ]);
    expect(checkOrder(c, p, sell('AAPL', 500, 190), { resize: true }).approvedQty).toBe(150);
    const short = pf([{ symbol: 'AAPL', qty: -300, price: 190 }]); // no locates: covering still fine
    expect(checkOrder(c, short, buy('AAPL', 10, 190)).decision).toBe('approve');
  });

  it('maxGrossExposure and maxNetExposure in money', () => {
    const p = pf([
      { symbol: 'MSFT', qty: 1000, price: 200 },
      { symbol: 'XOM', qty: -1000, price: 100 },
    ]); // gross 300,000, net 100,000
    const c = cfg({ maxGrossExposure: 320_000, maxNetExposure: 110_000 });
    // + AAPL 100 × 190 = 19,000: gross 319,000, net 119,000 > 110,000
    expect(checkOrder(c, p, buy('AAPL', 100, 190)).breaches).toEqual([
      { rule: 'maxNetExposure', limit: 110_000, value: 119_000 },
    ]);
    // − AAPL 200: gross 338,000 > 320,000, net 62,000
    expect(checkOrder(c, p, sell('AAPL', 200, 190)).breaches).toEqual([
      { rule: 'maxGrossExposure', limit: 320_000, value: 338_000 },
    ]);
  });

  it('resize: none fits → reject with quantity 0; breaches describe the requested quantity', () => {
    const c = cfg({ maxPositionWeight: 0.05 });
    const p = pf([{ symbol: 'AAPL', qty: 264, price: 190 }]); // 50,160 > 50,000 already
    expect(checkOrder(c, p, buy('AAPL', 10, 190), { resize: true })).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'maxPositionWeight', limit: 0.05, value: 0.05206 }],
      approvedQty: 0,
    });
    // mixed: a quantity rule and a fixed rule → reject
    const mixed = cfg({ maxPositionWeight: 0.05, priceCollarPct: 0.01 });
    expect(checkOrder(mixed, pf(), buy('AAPL', 1000, 200), { resize: true }).decision).toBe('reject');
  });

  it('nets several lines of one symbol', () => {
    const c = cfg({ maxPositionWeight: 0.05 });
    const p = pf([
      { symbol: 'AAPL', qty: 200, price: 190 },
      { symbol: 'AAPL', qty: 63, price: 190 },
    ]);
    expect(checkOrder(c, p, buy('AAPL', 1, 190)).decision).toBe('reject'); // 264
  });
});

describe('basket checks', () => {
  it('books each approved order before checking the next', () => {
    const engine = new RiskEngine(cfg({ maxPositionWeight: 0.05 }));
    // 150 × 190 = 28,500 each; together 57,000 > 50,000 → the second is resized to 113 (263 − 150)
    const out = engine.checkBasket(
      pf(),
      [buy('AAPL', 150, 190), buy('AAPL', 150, 190), buy('MSFT', 10, 200)],
      {
        resize: true,
      },
    );
    expect(out.map((d) => [d.decision, d.approvedQty])).toEqual([
      ['approve', 150],
      ['resize', 113],
      ['approve', 10],
    ]);
  });

  it('a snapshot is not changed by check', () => {
    const engine = new RiskEngine(cfg({ maxPositionWeight: 0.05 }));
    const snap = engine.snapshot(pf());
    expect(engine.check(snap, buy('AAPL', 250, 190)).decision).toBe('approve');
    expect(engine.check(snap, buy('AAPL', 250, 190)).decision).toBe('approve');
    engine.apply(snap, buy('AAPL', 250, 190), 250);
    expect(engine.check(snap, buy('AAPL', 250, 190)).decision).toBe('reject');
  });
});
