/**
 * Compliance gates on every stack of every environment, as `cdk synth` applies them (lib/app.ts):
 * cdk-nag NIST 800-53 R5 beside AwsSolutions with zero unacknowledged findings, no acknowledgement
 * that acknowledges nothing or repeats another, and no IAM statement that allows a write on
 * `Resource: "*"` beyond the few actions AWS grants only that way.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { dev, prod, staging } from '../../lib/config';
import type { EnvironmentConfig } from '../../lib/config';
import type { QuantStage } from '../../lib/quant-stage';
import {
  cdkJsonContext,
  doubleAcknowledgements,
  nagAcknowledgements,
  nagViolations,
  staleAcknowledgements,
  synthStage,
  template,
} from './helpers';
import type { PackName } from './helpers';

const ENVIRONMENTS: readonly EnvironmentConfig[] = [dev, staging, prod];
const STACKS = [
  'Monitoring',
  'Dashboard',
  'Network',
  'DataLake',
  'Backtest',
  'Ingestion',
  'DataSync',
  'Trading',
  'Training',
  'FeedHandler',
] as const;
const PACKS: readonly PackName[] = ['AwsSolutions', 'NIST.800.53.R5'];

const stages = new Map<string, QuantStage>();
beforeAll(() => {
  for (const config of ENVIRONMENTS) {
    const stage = synthStage(config);
    // Synthesize every stack first: acknowledgements made while validating are then recorded.
    for (const s of stage.node.children) if (s instanceof Stack) template(s);
    stages.set(config.name, stage);
  }
});

function stackOf(env: string, id: string): Stack {
  const s = stages.get(env)!.node.tryFindChild(id);
  if (!(s instanceof Stack)) throw new Error(`${env} has no stack ${id}`);
  return s;
}

describe('cdk-nag NIST 800-53 R5: no unacknowledged finding', () => {
  it.each(STACKS)('%s stack, in dev, staging and prod', (id) => {
    for (const config of ENVIRONMENTS) {
      expect(nagViolations(stackOf(config.name, id), 'NIST.800.53.R5'), config.name).toEqual([]);
    }
  });
});

/** Stacks only some environments have (disasterRecovery config): checked where they exist. */
const OPTIONAL_STACKS = ['DisasterRecoveryRegion', 'DisasterRecovery', 'DisasterRecoveryStandby'] as const;

describe('the disaster-recovery stacks, where configured: both packs, clean acknowledgements', () => {
  it.each(OPTIONAL_STACKS)('%s stack', (id) => {
    const present = ENVIRONMENTS.filter((c) => stages.get(c.name)!.node.tryFindChild(id) instanceof Stack);
    expect(present.map((c) => c.name)).toContain('prod');
    for (const config of present) {
      const stack = stackOf(config.name, id);
      for (const pack of PACKS) {
        expect(nagViolations(stack, pack), `${config.name} ${pack}`).toEqual([]);
        expect(staleAcknowledgements(stack, pack), `${config.name} ${pack} stale`).toEqual([]);
        expect(doubleAcknowledgements(stack, pack), `${config.name} ${pack} doubled`).toEqual([]);
      }
    }
  });
});

describe('acknowledgement hygiene (AwsSolutions and NIST 800-53 R5)', () => {
  it.each(STACKS)('%s stack: no stale or doubled acknowledgement, every reason given', (id) => {
    for (const config of ENVIRONMENTS) {
      const stack = stackOf(config.name, id);
      for (const pack of PACKS) {
        expect(staleAcknowledgements(stack, pack), `${config.name} ${pack} stale`).toEqual([]);
        expect(doubleAcknowledgements(stack, pack), `${config.name} ${pack} doubled`).toEqual([]);
        for (const a of nagAcknowledgements(stack, pack)) {
          expect(a.reason.trim().length, `${a.rule} at ${a.path}`).toBeGreaterThan(20);
        }
      }
    }
  });

  it('the checks catch a stale and a doubled acknowledgement', () => {
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Hygiene');
    const bucket = new s3.Bucket(stack, 'Plain');
    // Doubled: the same finding acknowledged on the bucket and on its resource.
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'first reason, on the bucket' });
    Validations.of(bucket.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'second reason, on the resource',
    });
    // Stale: a rule this bucket does not break.
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-IAM4', reason: 'acknowledges nothing at all' });
    template(stack);
    expect(staleAcknowledgements(stack).map((a) => a.rule)).toEqual(['AwsSolutions-IAM4']);
    expect(doubleAcknowledgements(stack)).toEqual(['AwsSolutions-S1 Hygiene/Plain/Resource']);
  });
});

/**
 * Writes AWS grants only on `*` (the Service Authorization Reference lists no resource type for
 * them), each with the reason it is here. Everything else that writes names its resources.
 */
const STAR_ONLY_WRITES: Readonly<Record<string, string>> = {
  // CloudWatch Logs vended-log delivery (Step Functions logging to a log group).
  'logs:CreateLogDelivery': 'log delivery',
  'logs:UpdateLogDelivery': 'log delivery',
  'logs:DeleteLogDelivery': 'log delivery',
  'logs:PutResourcePolicy': 'log delivery',
  // X-Ray trace upload by Lambda and Step Functions.
  'xray:PutTraceSegments': 'X-Ray',
  'xray:PutTelemetryRecords': 'X-Ray',
  // Only with a cloudwatch:namespace condition (checked below).
  'cloudwatch:PutMetricData': 'metrics',
  // Session Manager channels of the SSM agent (feed handler hosts).
  'ssmmessages:CreateControlChannel': 'Session Manager',
  'ssmmessages:CreateDataChannel': 'Session Manager',
  'ssmmessages:OpenControlChannel': 'Session Manager',
  'ssmmessages:OpenDataChannel': 'Session Manager',
};

type PolicyStatement = {
  Effect: string;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const isRead = (action: string) => /^[a-z0-9-]+:(Describe|Get|List|BatchGet)[A-Za-z]*$/.test(action);

/** `Stack/LogicalId action` for every Allow of a write on `Resource: "*"` not in STAR_ONLY_WRITES. */
function starWrites(stacks: readonly Stack[]): string[] {
  const out: string[] = [];
  for (const stack of stacks) {
    const resources =
      (
        template(stack).toJSON() as {
          Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
        }
      ).Resources ?? {};
    for (const [id, r] of Object.entries(resources)) {
      const docs: unknown[] = [];
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
        docs.push(r.Properties?.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') {
        for (const p of (r.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? [])
          docs.push(p.PolicyDocument);
      }
      for (const doc of docs) {
        for (const st of (doc as { Statement?: PolicyStatement[] } | undefined)?.Statement ?? []) {
          if (st.Effect !== 'Allow' || ![st.Resource].flat().includes('*')) continue;
          for (const action of [st.Action ?? []].flat()) {
            if (isRead(action)) continue;
            const allowed =
              action in STAR_ONLY_WRITES &&
              (action !== 'cloudwatch:PutMetricData' ||
                Object.values(st.Condition ?? {}).some((c) => 'cloudwatch:namespace' in c));
            if (!allowed) out.push(`${stack.node.path}/${id} ${action}`);
          }
        }
      }
    }
  }
  return out;
}

describe('IAM: no write on Resource "*"', () => {
  it('holds for every synthesized template of dev, staging and prod', () => {
    const stacks = ENVIRONMENTS.flatMap((c) =>
      stages.get(c.name)!.node.children.filter((s): s is Stack => s instanceof Stack),
    );
    expect(stacks.length).toBeGreaterThanOrEqual(3 * STACKS.length);
    expect(starWrites(stacks)).toEqual([]);
  });

  it('the scan catches a write on "*", and PutMetricData without a namespace condition', () => {
    const stack = new Stack(new App({ context: cdkJsonContext() }), 'Wide');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: ['*'] }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:PutMetricData'], resources: ['*'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] }));
    expect(starWrites([stack]).sort()).toEqual([
      expect.stringMatching(/^Wide\/RoleDefaultPolicy[0-9A-F]{8} cloudwatch:PutMetricData$/),
      expect.stringMatching(/^Wide\/RoleDefaultPolicy[0-9A-F]{8} s3:PutObject$/),
    ]);
  });
});
