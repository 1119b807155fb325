import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import { checkId } from '../../../src/risk/ids';
import { orderSchema } from '../../../src/risk/schemas';
import { riskCheckRequestSchema } from '../../../src/trading/lambda-support';
import { parseSignal } from '../../../src/trading/signals';

const order = { symbol: 'AAPL', side: 'buy', qty: 1, price: 10 };

describe('account and strategy ids', () => {
  it('accept the usual characters', () => {
    expect(checkId('main', 'account')).toBe('main');
    expect(checkId('desk-1/sma.cross:v2', 'strategy')).toBe('desk-1/sma.cross:v2');
  });

  it.each(['*', 'a#b', 'main*', '', 'a b'])('refuse %j everywhere they enter', (bad) => {
    expect(() => checkId(bad, '--strategy')).toThrow(InputError);
    expect(riskCheckRequestSchema.safeParse({ account: 'main', strategy: bad, order }).success).toBe(false);
    expect(riskCheckRequestSchema.safeParse({ account: bad, strategy: 's', order }).success).toBe(false);
    expect(orderSchema.safeParse({ ...order, strategy: bad }).success).toBe(false);
    const signal = {
      signalId: 'sig-1',
      account: bad,
      strategy: 's',
      createdAt: 1_700_000_000_000,
      orders: [{ ...order, priceTime: 1_700_000_000_000 }],
    };
    expect(() => parseSignal(signal)).toThrow(/account/);
  });
});
