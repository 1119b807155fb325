import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import { localLambdaEnv } from '../../../src/trading/lambda-support';
import { localCloudWorld } from '../../helpers/local-cloud';

// The deployed handlers, invoked in process with real event shapes against the local cloud.
const lc = localCloudWorld({ name: 'trading-lambdas' });
let svc: TradingServices;
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let riskCheck: Handler;
let killSwitch: Handler;
let execution: Handler;
const context = {
  functionName: 'fn',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

const urlEvent = (body: string): LambdaFunctionURLEvent =>
  ({
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/' } },
    body,
    isBase64Encoded: false,
  }) as unknown as LambdaFunctionURLEvent;

const alarm = (value: string) => ({
  version: '0',
  id: 'a1',
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  detail: { alarmName: 'dev-Trading-Drawdown', state: { value, reason: 'Threshold Crossed: drawdown 21%' } },
});

beforeAll(async () => {
  const rt = lc.cloud.runtime;
  if (rt.mode !== 'local') throw new Error('expected a local runtime');
  Object.assign(process.env, localLambdaEnv(rt), {
    TRADING_ACCOUNT: 'main',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  svc = await tradingServices(lc.clients, {}, { limitsTtlMs: 0 });
  await svc.books.create('main', 100_000_000);
  await svc.risk.putLimits('main', {
    securities: { AAPL: { adv: 50_000_000, referencePrice: 190 } },
    limits: { maxPositionWeight: 0.05, maxOrderAdvFraction: 0.1 },
  });
  riskCheck = (await import('../../../lambda/risk-check/index')).handler as Handler;
  killSwitch = (await import('../../../lambda/kill-switch/index')).handler as Handler;
  execution = (await import('../../../lambda/execution/index')).handler as Handler;
});
describe('trading Lambdas in process', () => {
  it('risk-check answers the decision; a bad request is a 400 naming the field', async () => {
    const ok = (await riskCheck(
      urlEvent(
        JSON.stringify({
          account: 'main',
          strategy: 'sma',
          order: { symbol: 'AAPL', side: 'buy', qty: 300, price: 190 },
          resize: true,
        }),
      ),
      context,
    )) as { statusCode: number; body: string };
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ decision: 'resize', approvedQty: 263, state: 'ACTIVE' });
    const bad = (await riskCheck(
      urlEvent(
        JSON.stringify({
          account: 'main',
          strategy: 'sma',
          order: { symbol: 'AAPL', side: 'buy', qty: -1, price: 190 },
        }),
      ),
      context,
    )) as {
      statusCode: number;
      body: string;
    };
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/order\.qty/);
    expect(((await riskCheck(urlEvent('{'), context)) as { statusCode: number }).statusCode).toBe(400);
  });

  it('execution (EventBridge) fills; the kill switch halts on ALARM; then zero orders pass', async () => {
    const signal = (id: string) => ({
      id: `e-${id}`,
      'detail-type': 'TradingSignal',
      source: 'quant.strategies',
      detail: {
        signalId: id,
        account: 'main',
        strategy: 'sma',
        createdAt: Date.now(),
        orders: [{ symbol: 'AAPL', side: 'buy', qty: 10, price: 190, priceTime: Date.now() }],
      },
    });
    await execution(signal('l-1'), context);
    expect((await svc.books.get('main'))!.positions.AAPL.qty).toBe(10);
    expect(await killSwitch(alarm('OK'), context)).toEqual({ changed: false, state: 'ACTIVE' });
    expect(await killSwitch(alarm('ALARM'), context)).toEqual({ changed: true, state: 'HALTED' });
    expect(await svc.risk.getState({ account: 'main' })).toMatchObject({
      state: 'HALTED',
      actor: 'alarm:dev-Trading-Drawdown',
    });
    await execution(signal('l-2'), context);
    expect((await svc.books.get('main'))!.positions.AAPL.qty).toBe(10);
    // ALARM again while halted: latched, no change
    expect(await killSwitch(alarm('ALARM'), context)).toEqual({ changed: false, state: 'HALTED' });
    await expect(killSwitch({ 'detail-type': 'Something else' }, context)).rejects.toThrow(/alarm event/);
  });
});
