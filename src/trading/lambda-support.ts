/**
 * What the trading Lambdas share: the runtime from their environment (AWS in a deployed function;
 * the local cloud when QUANT_LOCAL_* endpoints are set, which is how `quant paper` and the tests
 * invoke the very same handlers in process), and the small pure request handlers of the
 * risk-check API and the kill switch.
 */
import * as z from 'zod';
import type { Runtime } from '../aws/clients';
import { InputError, describeZodIssues } from '../errors';
import { RiskEngine } from '../risk/engine';
import { orderSchema } from '../risk/schemas';
import type { RiskDecision, TradingState } from '../risk/types';
import { bookToPortfolio } from './book';
import { changeState, type TradingServices } from './context';
import { idSchema } from '../risk/ids';
import { ALARM_STATE_CHANGE } from '../contract/trading';

export function runtimeFromEnv(env: NodeJS.ProcessEnv): Runtime {
  if (env.QUANT_LOCAL_DYNAMODB) {
    const need = (k: string): string => {
      const v = env[k];
      if (!v) throw new Error(`environment variable ${k} is required with QUANT_LOCAL_DYNAMODB`);
      return v;
    };
    return {
      mode: 'local',
      region: env.AWS_REGION ?? 'us-east-1',
      endpoints: {
        dynamodb: env.QUANT_LOCAL_DYNAMODB,
        s3: need('QUANT_LOCAL_S3'),
        kinesis: need('QUANT_LOCAL_KINESIS'),
      },
      dataDir: need('QUANT_LOCAL_DATA_DIR'),
    };
  }
  return { mode: 'aws', region: env.AWS_REGION };
}

/** Environment that points the trading Lambdas at a local cloud. */
export function localLambdaEnv(rt: Extract<Runtime, { mode: 'local' }>): Record<string, string> {
  return {
    QUANT_LOCAL_DYNAMODB: rt.endpoints.dynamodb,
    QUANT_LOCAL_S3: rt.endpoints.s3,
    QUANT_LOCAL_KINESIS: rt.endpoints.kinesis,
    QUANT_LOCAL_DATA_DIR: rt.dataDir,
    AWS_REGION: rt.region,
  };
}

export const riskCheckRequestSchema = z.object({
  account: idSchema,
  strategy: idSchema,
  order: orderSchema,
  resize: z.boolean().optional(),
});

export interface RiskCheckResponse extends RiskDecision {
  readonly state: TradingState;
}

/**
 * The synchronous pre-trade check for strategies: the account's limits, book and state, no
 * reservation (the execution path reserves). Bad requests are InputErrors (HTTP 400).
 */
export async function riskCheckRequest(
  svc: TradingServices,
  body: unknown,
  now = Date.now(),
): Promise<RiskCheckResponse> {
  const r = riskCheckRequestSchema.safeParse(body);
  if (!r.success) throw new InputError(`request: ${describeZodIssues(r.error.issues)}`, 'request');
  const { account, strategy, order, resize } = r.data;
  const [config, book, state] = await Promise.all([
    svc.risk.getLimits(account),
    svc.books.get(account),
    svc.risk.effectiveState(account, strategy),
  ]);
  if (!book) throw new InputError(`account ${account}: no book`, 'account');
  const engine = new RiskEngine(config);
  const d = engine.check(
    engine.snapshot(bookToPortfolio(book, state)),
    { ...order, strategy },
    { resize, now },
  );
  return { ...d, state };
}

/** The CloudWatch alarm state-change event (EventBridge) that trips the kill switch. */
export const alarmEventSchema = z.object({
  'detail-type': z.literal(ALARM_STATE_CHANGE.detailType),
  detail: z.object({
    alarmName: z.string().min(1),
    state: z.object({ value: z.string(), reason: z.string().optional() }),
  }),
});

/** Sets HALTED when an alarm enters ALARM; other transitions (OK, INSUFFICIENT_DATA) change nothing. */
export async function onKillSwitchAlarm(svc: TradingServices, event: unknown, account: string) {
  const r = alarmEventSchema.safeParse(event);
  if (!r.success) throw new InputError(`alarm event: ${describeZodIssues(r.error.issues)}`, 'event');
  const { alarmName, state } = r.data.detail;
  if (state.value !== ALARM_STATE_CHANGE.alarm)
    return { changed: false, state: (await svc.risk.getState({ account })).state };
  const c = await changeState(svc, { account }, 'halt', `alarm:${alarmName}`, state.reason ?? 'alarm');
  return { changed: c.after !== c.before, state: c.after.state };
}
