import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';
import type { QuantApp } from '../../lib/app';
import {
  ConfigError,
  dev,
  environmentConfig,
  environments,
  prod,
  selectEnvironments,
  staging,
} from '../../lib/config';
import type { EnvironmentConfig } from '../../lib/config';
import { SKIP_BUNDLING, cdkJsonContext, repoRoot } from './helpers';

const run = promisify(execFile);
const outdir = mkdtempSync(path.join(os.tmpdir(), 'cdk-config-test-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs bin/app.ts the way the CDK CLI does (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR). */
async function runBinApp(context: Record<string, unknown>): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(path.join(outdir, 'bin-'));
  try {
    await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin/app.ts')], {
      cwd: repoRoot,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: dir },
    });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    return { code: err.code ?? -1, stderr: err.stderr ?? '' };
  }
}

describe('environment selection', () => {
  it('selects one environment by name, all three without a name', () => {
    expect(selectEnvironments('staging')).toEqual([staging]);
    expect(selectEnvironments(undefined).map((c) => c.name)).toEqual(['dev', 'staging', 'prod']);
  });

  it('fails on an unknown name, listing the valid ones', () => {
    expect(() => environmentConfig('qa')).toThrow(
      /Unknown environment "qa"\. Valid environments: dev, staging, prod/,
    );
    expect(() => selectEnvironments('Prod')).toThrow(/Valid environments: dev, staging, prod/);
    expect(() => selectEnvironments(42)).toThrow(/"env" must be a string.*dev, staging, prod/);
    expect(() => environmentConfig('toString')).toThrow(/Unknown environment/);
  });

  it('fails through the context path of bin/app.ts (-c env=NAME) with the valid names', async () => {
    const bad = await runBinApp({ ...cdkJsonContext(), env: 'qa' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('error: Unknown environment "qa". Valid environments: dev, staging, prod');
    // A configuration mistake is reported without a stack trace.
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('rejects an empty or duplicated environment list', () => {
    expect(() => createApp([], { nag: false })).toThrow(/no environment/);
    expect(() => createApp([dev, dev], { nag: false })).toThrow(/"dev" given twice/);
  });
});

describe('every environment synthesizes offline, with cdk-nag on', () => {
  let quant: QuantApp;
  beforeAll(() => {
    // The whole app as `cdk synth` builds it: all three stages, cdk.json context, nag as a validation plugin
    // (synth throws on any unacknowledged finding).
    // Bundling is skipped here (CI's `cdk synth` bundles); the templates are otherwise the same.
    quant = createApp(Object.values(environments), {
      context: SKIP_BUNDLING,
      outdir: path.join(outdir, 'all'),
    });
  });

  it('synthesizes dev, staging and prod with no missing context (no lookups) and no nag errors', () => {
    const assembly = quant.app.synth();
    expect(assembly.manifest.missing ?? []).toEqual([]);
    const report = JSON.parse(
      readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
    ) as { pluginReports: { pluginName: string; conclusion: string; violations?: unknown[] }[] };
    for (const r of report.pluginReports) {
      expect({ plugin: r.pluginName, conclusion: r.conclusion, violations: r.violations ?? [] }).toEqual({
        plugin: r.pluginName,
        conclusion: 'success',
        violations: [],
      });
    }
    for (const name of ['dev', 'staging', 'prod']) {
      const stageAsm = assembly.getNestedAssembly(`assembly-${name}`);
      expect(stageAsm.stacks.map((s) => s.stackName).sort()).toEqual(
        expect.arrayContaining([
          `${name}-Network`,
          `${name}-DataLake`,
          `${name}-Monitoring`,
          `${name}-Dashboard`,
        ]),
      );
      for (const s of stageAsm.stacks) {
        const cfg = environmentConfig(name);
        expect(s.environment.account).toBe(cfg.account);
        // The DR-region stacks (replicas, warm standby) deploy to the DR region; every other stack to
        // the environment's region.
        const inDr = [`${name}-DisasterRecoveryRegion`, `${name}-DisasterRecoveryStandby`].includes(
          s.stackName,
        );
        expect(s.environment.region).toBe(inDr ? cfg.disasterRecovery?.drRegion : cfg.region);
      }
    }
  });

  it('protects stateful stacks from termination in prod only', () => {
    expect(quant.stages.prod.dataLake.terminationProtection).toBe(true);
    expect(quant.stages.prod.alerts.terminationProtection).toBe(true);
    expect(quant.stages.prod.network.terminationProtection).toBe(false);
    expect(quant.stages.dev.dataLake.terminationProtection).toBe(false);
    expect(quant.stages.staging.dataLake.terminationProtection).toBe(false);
  });

  it('uses the AZs from config, not a lookup', () => {
    for (const cfg of [dev, staging, prod]) {
      expect(quant.stages[cfg.name].network.vpc.availabilityZones).toEqual(cfg.network.availabilityZones);
      expect(quant.stages[cfg.name].dataLake.availabilityZones).toEqual(cfg.network.availabilityZones);
    }
  });
});

describe('cdk.json', () => {
  const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as Record<
    string,
    unknown
  > & { context: Record<string, unknown> };
  it('runs the app with tsx, offline, without notices or telemetry', () => {
    expect(cdkJson.app).toBe('npx tsx bin/app.ts');
    expect(cdkJson.notices).toBe(false);
    expect(cdkJson.context['cli-telemetry']).toBe(false);
    expect(cdkJson.context['@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2']).toBe(true);
    // No committed lookup results: nothing is looked up.
    expect(Object.keys(cdkJson.context).filter((k) => k.includes(':account='))).toEqual([]);
  });
});

describe('bad configuration fails synth naming the field', () => {
  const build = (patch: (c: EnvironmentConfig) => EnvironmentConfig) => () =>
    createApp([patch(dev)], { nag: false });
  it.each([
    ['dev.account', (c: EnvironmentConfig) => ({ ...c, account: '12345' })],
    ['dev.region', (c: EnvironmentConfig) => ({ ...c, region: 'US East' })],
    [
      'network.vpcCidr',
      (c: EnvironmentConfig) => ({ ...c, network: { ...c.network, vpcCidr: '10.0.0.0/8' } }),
    ],
    [
      'network.vpcCidr',
      (c: EnvironmentConfig) => ({ ...c, network: { ...c.network, vpcCidr: '300.1.0.0/16' } }),
    ],
    [
      'network.availabilityZones',
      (c: EnvironmentConfig) => ({
        ...c,
        network: { ...c.network, availabilityZones: ['us-west-2a', 'us-west-2b'] },
      }),
    ],
    [
      'network.availabilityZones',
      (c: EnvironmentConfig) => ({ ...c, network: { ...c.network, availabilityZones: ['us-east-1a'] } }),
    ],
    ['network.natGateways', (c: EnvironmentConfig) => ({ ...c, network: { ...c.network, natGateways: 5 } })],
    [
      'network.flowLogRetentionDays',
      (c: EnvironmentConfig) => ({ ...c, network: { ...c.network, flowLogRetentionDays: 10 } }),
    ],
    [
      'monitoring.logRetentionDays',
      (c: EnvironmentConfig) => ({ ...c, monitoring: { ...c.monitoring, logRetentionDays: 0 } }),
    ],
    [
      'monitoring.alarmEmail',
      (c: EnvironmentConfig) => ({ ...c, monitoring: { ...c.monitoring, alarmEmail: 'not-an-address' } }),
    ],
    [
      'dataLake.projectionStartDate',
      (c: EnvironmentConfig) => ({ ...c, dataLake: { ...c.dataLake, projectionStartDate: '01/01/2000' } }),
    ],
    [
      'dataLake.auditRetentionDays',
      (c: EnvironmentConfig) => ({ ...c, dataLake: { ...c.dataLake, auditRetentionDays: 0 } }),
    ],
    [
      'dataLake.athenaBytesScannedCutoff',
      (c: EnvironmentConfig) => ({ ...c, dataLake: { ...c.dataLake, athenaBytesScannedCutoff: 1000 } }),
    ],
    [
      'dataLake.raw.infrequentAccessAfterDays',
      (c: EnvironmentConfig) => ({
        ...c,
        dataLake: { ...c.dataLake, raw: { ...c.dataLake.raw, infrequentAccessAfterDays: 10 } },
      }),
    ],
    [
      'dataLake.curated.expireAfterDays',
      (c: EnvironmentConfig) => ({
        ...c,
        dataLake: { ...c.dataLake, curated: { ...prod.dataLake.curated, expireAfterDays: 100 } },
      }),
    ],
    [
      'dataLake.vendor.noncurrentVersionExpireDays',
      (c: EnvironmentConfig) => ({
        ...c,
        dataLake: { ...c.dataLake, vendor: { ...c.dataLake.vendor, noncurrentVersionExpireDays: -1 } },
      }),
    ],
  ])('%s', (field, patch) => {
    expect(build(patch)).toThrow(field);
  });

  it('reports configuration mistakes as ConfigError (bin/app.ts prints them without a stack trace)', () => {
    expect(() => selectEnvironments('qa')).toThrow(ConfigError);
    expect(build((c) => ({ ...c, network: { ...c.network, natGateways: 0 } }))).toThrow(ConfigError);
    expect(build((c) => ({ ...c, dataLake: { ...c.dataLake, projectionStartDate: '2000-13-45' } }))).toThrow(
      ConfigError,
    );
    expect(build((c) => ({ ...c, monitoring: { ...c.monitoring, alarmEmail: 'x' } }))).toThrow(ConfigError);
    expect(build((c) => ({ ...c, account: 'x' }))).toThrow(ConfigError);
  });
});
