import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runQuant, type CliResult } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-cli-'));
const file = (name: string, value: unknown): string => {
  const p = path.join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};

const limits = {
  securities: {
    AAPL: { region: 'US', assetClass: 'equity', sector: 'Technology', adv: 50000000, referencePrice: 190.0 },
  },
  limits: {
    maxPositionWeight: 0.05,
    maxOrderAdvFraction: 0.1,
    maxGrossLeverage: 1.5,
    maxOrderNotional: 1000000,
    priceCollarPct: 0.05,
    regionCaps: { US: 0.4 },
    assetClassCaps: { equity: 0.5 },
    sectorCaps: { Technology: 0.2 },
  },
};
const portfolio = { nav: 1000000, state: 'ACTIVE', positions: [{ symbol: 'AAPL', qty: 100, price: 190.0 }] };

const run = (...args: string[]): Promise<CliResult> => runQuant(['risk', 'check', ...args]);

let L: string;
let P: string;
beforeAll(() => {
  L = file('limits.json', limits);
  P = file('portfolio.json', portfolio);
});
afterEach(() => vi.restoreAllMocks());

describe('quant risk check', () => {
  it('prints the decision JSON of the contract', async () => {
    const order = file('order.json', { symbol: 'AAPL', side: 'buy', qty: 1000, price: 190.0 });
    const r = await run('--limits', L, '--portfolio', P, '--order', order, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({
      decision: 'reject',
      breaches: [
        { rule: 'maxPositionWeight', limit: 0.05, value: 0.209 },
        { rule: 'sectorCap', limit: 0.2, value: 0.209 },
      ],
      approvedQty: 0,
    });
    const resized = await run('--limits', L, '--portfolio', P, '--order', order, '--resize', '--json');
    expect(JSON.parse(resized.out)).toMatchObject({ decision: 'resize', approvedQty: 163 });
  });

  it('approves with the order quantity and an empty breach list', async () => {
    const order = file('small.json', { symbol: 'AAPL', side: 'sell', qty: 50, price: 191 });
    const r = await run('--limits', L, '--portfolio', P, '--order', order, '--json');
    expect(JSON.parse(r.out)).toEqual({ decision: 'approve', breaches: [], approvedQty: 50 });
  });

  it('unknown symbol → reject with rule unknownSymbol', async () => {
    const order = file('unknown.json', { symbol: 'NOPE', side: 'buy', qty: 1, price: 1 });
    const r = await run('--limits', L, '--portfolio', P, '--order', order, '--json');
    expect(JSON.parse(r.out)).toEqual({
      decision: 'reject',
      breaches: [{ rule: 'unknownSymbol', limit: 0, value: 0 }],
      approvedQty: 0,
    });
  });

  it.each([
    [
      'order.json',
      { symbol: 'AAPL', side: 'buy', qty: -5, price: 190 },
      /order-neg\.json: qty: must be a positive/,
    ],
    ['order.json', { symbol: 'AAPL', side: 'hold', qty: 5, price: 190 }, /order-side\.json: side/],
    ['order.json', { symbol: 'AAPL', side: 'buy', qty: 5, price: 'abc' }, /order-price\.json: price/],
    ['order.json', { symbol: 'AAPL', side: 'buy', qty: 1e30, price: 190 }, /order-huge\.json: qty/],
    ['order.json', { symbol: 'AAPL', side: 'buy', qty: 1.5, price: 190 }, /order-frac\.json: qty: .*whole/],
    ['order.json', '{"symbol": "AAPL", "side": "buy", "qty": 5', /order-trunc\.json: not valid JSON/],
    ['portfolio.json', { nav: 0, state: 'ACTIVE', positions: [] }, /portfolio-nav\.json: nav/],
    ['portfolio.json', { nav: 1, state: 'PAUSED', positions: [] }, /portfolio-state\.json: state/],
    [
      'portfolio.json',
      { nav: 1, state: 'ACTIVE', positions: [{ symbol: 'A', qty: 'x', price: 1 }] },
      /portfolio-pos\.json: positions\.0\.qty/,
    ],
    [
      'limits.json',
      { securities: {}, limits: { maxPositonWeight: 0.05 } },
      /limits-typo\.json: limits: .*maxPositonWeight/,
    ],
    ['limits.json', { securities: { A: { adv: -1 } }, limits: {} }, /limits-adv\.json: securities\.A\.adv/],
    [
      'limits.json',
      { securities: {}, limits: { sectorCaps: { Tech: '0.2' } } },
      /limits-cap\.json: limits\.sectorCaps\.Tech/,
    ],
  ])('malformed %s → exit 2 naming file and field (%#)', async (kind, content, message) => {
    const suffix = message.source.match(/-(\w+)\\\.json/)![1];
    const name = `${kind.replace('.json', '')}-${suffix}.json`;
    const f = file(name, content);
    const order = file('ok-order.json', { symbol: 'AAPL', side: 'buy', qty: 1, price: 190 });
    const args: Record<string, string> = { 'limits.json': L, 'portfolio.json': P, 'order.json': order };
    args[kind] = f;
    const r = await run(
      '--limits',
      args['limits.json'],
      '--portfolio',
      args['portfolio.json'],
      '--order',
      args['order.json'],
      '--json',
    );
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
  });

  it('a missing file → exit 2 naming the file', async () => {
    const r = await run('--limits', L, '--portfolio', P, '--order', path.join(dir, 'nope.json'), '--json');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.json: cannot read/);
  });
});
