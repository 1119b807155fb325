/**
 * The daily stress run in AWS (lambda/risk-stress, scheduled next to the returns job): the
 * account's book and limits from the risk table (where the execution path keeps them), its returns
 * window from the curated zone (`risk/returns/<account>.json`, written by the returns job), the
 * scenarios from the schedule's input (replays already resolved to shocks), through the same
 * `stressReport` as `quant risk stress --scenarios`. The result is written as one JSON object to
 * the audit zone, `risk/stress/<account>/<YYYY-MM-DD>.json`, and summarised for the metrics.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { LAKE_PREFIXES } from '../contract/lake';
import { InputError, describeZodIssues } from '../errors';
import { BookStore, bookToPortfolio } from '../trading/book';
import { idSchema } from './ids';
import { S3ReturnsSource } from './returns-source';
import { RiskStore } from './store';
import { StressBook } from './stress';
import { resolvedScenarioSchema, stressReport, type StressReport } from './stress-scenarios';
import type { ReturnsWindow } from './var';

export const stressJobSchema = z.strictObject({
  account: idSchema,
  scenarios: z.array(resolvedScenarioSchema).min(1, 'must list at least one scenario').max(100),
  /** Also find the smallest uniform equity shock that breaches the drawdown limit or VaR budget. */
  reverse: z.boolean().default(true),
});
export type StressJob = z.input<typeof stressJobSchema>;

export interface StressJobDeps {
  readonly doc: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly riskTable: string;
  /** Curated zone: the returns window. */
  readonly curatedBucket: string;
  /** Audit zone: where the result is written. */
  readonly auditBucket: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export interface StressJobResult extends StressReport {
  readonly account: string;
  readonly asOf: string;
  readonly nav: number;
  /** Where the result was written (audit zone). */
  readonly bucket: string;
  readonly key: string;
  /** Why the VaR budget was not evaluated (no or unusable returns window), when it was not. */
  readonly varBudgetNotEvaluated?: string;
  /** The scenario with the largest loss (the first one when none loses). */
  readonly worst: { readonly name: string; readonly pnl: number; readonly pnlPctNav: number };
  /** Limits breached, summed over the scenarios. */
  readonly breaches: number;
}

export async function runStressJob(deps: StressJobDeps, input: unknown): Promise<StressJobResult> {
  const p = stressJobSchema.safeParse(input);
  if (!p.success) throw new InputError(`stress job: ${describeZodIssues(p.error.issues)}`, 'stressJob');
  const { account, scenarios, reverse } = p.data;
  const risk = new RiskStore(deps.doc, deps.riskTable);
  const config = await risk.getLimits(account);
  const book = await new BookStore(deps.doc, deps.riskTable).get(account);
  if (!book) throw new InputError(`account ${account}: no book in the risk table`, 'account');
  const state = (await risk.getState({ account })).state;
  const portfolio = bookToPortfolio(book, state);
  const sources = {
    portfolio: `book of ${account}`,
    limits: `limits of ${account}`,
    returns: 'returns window',
  };

  let window: ReturnsWindow | undefined;
  let varBudgetNotEvaluated: string | undefined;
  if (config.limits.varBudget !== undefined) {
    const returns = new S3ReturnsSource(deps.s3, deps.curatedBucket);
    const found = await returns.get(account);
    window = found.window;
    if (!window) varBudgetNotEvaluated = found.problem ?? 'no returns window';
  }
  const stressBook = new StressBook(portfolio, config, sources);
  let report: StressReport;
  try {
    report = stressReport(stressBook, scenarios, { window, reverse });
  } catch (err) {
    // A held symbol missing from the window: the scenarios' P&L still matters, without VaR.
    if (!(err instanceof InputError) || window === undefined) throw err;
    varBudgetNotEvaluated = err.message;
    window = undefined;
    report = stressReport(stressBook, scenarios, { reverse });
  }

  const asOf = (deps.now ?? (() => new Date()))().toISOString();
  const key = `${LAKE_PREFIXES.riskStress}/${account}/${asOf.slice(0, 10)}.json`;
  let worst = report.scenarios[0];
  for (const s of report.scenarios) if (s.pnl < worst.pnl) worst = s;
  const result: StressJobResult = {
    account,
    asOf,
    nav: portfolio.nav,
    bucket: deps.auditBucket,
    key,
    ...(varBudgetNotEvaluated === undefined ? {} : { varBudgetNotEvaluated }),
    worst: {
      name: worst.name,
      pnl: worst.pnl,
      pnlPctNav: portfolio.nav > 0 ? (worst.pnl / portfolio.nav) * 100 : 0,
    },
    breaches: report.scenarios.reduce((n, s) => n + s.breaches.length, 0),
    ...report,
  };
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.auditBucket,
      Key: key,
      Body: `${JSON.stringify(result)}\n`,
      // The audit bucket has Object Lock, whose PUTs need a checksum: the AWS client adds one by
      // default (src/aws/s3-client.ts; the local one leaves it out for s3rver).
      ContentType: 'application/json',
    }),
  );
  return result;
}
