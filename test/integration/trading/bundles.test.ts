/**
 * The trading Lambdas as `cdk synth` bundles them (QuantFunction: esbuild, ESM, minified,
 * @aws-sdk/* external): each bundle is under 1 MB and loads in a plain Node process with the
 * environment the TradingStack gives it (no network at module load). Load times are measured in
 * bench/trading.bench.ts, not asserted here.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import type { QuantFunction } from '../../../lib/constructs';
import type { QuantStage } from '../../../lib/quant-stage';
import { repoRoot, testApp } from '../../infra/helpers';

let stage: QuantStage;
const work = mkdtempSync(path.join(os.tmpdir(), 'trading-bundles-'));

beforeAll(() => {
  // Bundle only the trading stack's functions (the real esbuild step of `cdk synth`).
  stage = testApp([dev], { 'aws:cdk:bundling-stacks': ['**/Trading'] }).stages.dev;
  // The bundles keep @aws-sdk/* external (the Lambda runtime provides it); here it resolves
  // from the repository's node_modules.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(work, 'node_modules'), 'dir');
}, 240_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
  AWS_SECRET_ACCESS_KEY: 'local',
  RISK_TABLE: 'risk',
  ORDERS_TABLE: 'orders',
  IDEMPOTENCY_TABLE: 'idempotency',
  AUDIT_STREAM: 'audit',
  DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/dlq',
  TRADING_ACCOUNT: 'main',
  BROKER: 'paper',
  PAPER_COST_BPS: '1',
  POWERTOOLS_METRICS_DISABLED: 'true',
  LAKE_CURATED_BUCKET: 'curated',
  LAKE_RESULTS_BUCKET: 'results',
};

describe('trading Lambda bundles', () => {
  it.each(['execution', 'riskCheck', 'killSwitch', 'algoChild', 'riskReturns', 'tca'] as const)(
    '%s: under 1 MB minified, and its module loads in plain Node',
    async (name) => {
      const t = stage.trading;
      const fn: QuantFunction = {
        execution: t.orderExecution.function,
        riskCheck: t.riskCheckApi.function,
        killSwitch: t.halt.function,
        algoChild: t.algos.algoChild,
        riskReturns: t.returnsJob!.function,
        tca: t.dailyTca.function,
      }[name];
      const asset = fn.node.findChild('Code') as s3assets.Asset;
      const dir = path.join(stage.outdir, asset.assetPath);
      const bundle = path.join(dir, 'index.mjs');
      const bytes = statSync(bundle).size;
      expect(bytes).toBeGreaterThan(10_000); // the handler and src/ really are in it
      expect(bytes).toBeLessThan(1_000_000);
      expect(readFileSync(bundle, 'utf8')).not.toMatch(/from\s*"aws-cdk-lib/); // runtime never imports CDK
      // DuckDB's native module is not bundled (the sweep Lambdas once crashed on it): lake reads are hyparquet.
      expect(readFileSync(bundle, 'utf8')).not.toMatch(/@duckdb\/node-api|duckdb\.node/);
      const copy = path.join(work, `${name}.mjs`);
      copyFileSync(bundle, copy);
      const script = `const m = await import(${JSON.stringify(pathToFileURL(copy).href)});
        process.stdout.write(typeof m.handler);`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH, ...ENV },
        cwd: work,
      });
      expect(stdout).toBe('function');
    },
    120_000,
  );
});
