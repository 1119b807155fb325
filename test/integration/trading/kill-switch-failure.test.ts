/**
 * The kill-switch Lambda handler must throw when it cannot halt: EventBridge invokes it
 * asynchronously, and only a thrown error makes Lambda retry and then deliver the event to the
 * on-failure queue (lib/stacks/trading-stack.ts). Here the risk table is deleted from the local
 * DynamoDB (dynalite) after the handler started, so the HALTED state cannot be written.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { tradingServices, type TradingServices } from '../../../src/trading/context';
import { localLambdaEnv } from '../../../src/trading/lambda-support';
import { localCloudWorld } from '../../helpers/local-cloud';

const lc = localCloudWorld({ name: 'kill-switch-failure' });
let svc: TradingServices;
let handler: (event: unknown, context: Context) => Promise<unknown>;

const context = {
  functionName: 'kill-switch',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;
const alarm = (value: string) => ({
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  detail: { alarmName: 'dev-Trading-Drawdown', state: { value, reason: 'drawdown 21%' } },
});

beforeAll(async () => {
  const rt = lc.cloud.runtime;
  if (rt.mode !== 'local') throw new Error('expected a local runtime');
  Object.assign(process.env, localLambdaEnv(rt), {
    TRADING_ACCOUNT: 'main',
    POWERTOOLS_DEV: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  svc = await tradingServices(lc.clients, {});
  handler = (await import('../../../lambda/kill-switch/index')).handler as typeof handler;
});
describe('kill switch handler: a failed halt is an error, not a result', () => {
  it('rejects when the HALTED state cannot be written (so async retries and the failure queue apply)', async () => {
    // The handler works against the table...
    expect(await handler(alarm('OK'), context)).toEqual({ changed: false, state: 'ACTIVE' });
    // ...until the table is gone: the halt must surface as a rejection, not a resolved result.
    await lc.clients.dynamodb.send(new DeleteTableCommand({ TableName: svc.tables.risk }));
    await expect(handler(alarm('ALARM'), context)).rejects.toThrow(
      /not found|ResourceNotFound|non-existent/i,
    );
  });
});
