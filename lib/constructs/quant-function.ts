import path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import type { EnvSpec } from '../../src/contract/env';
import { packageRoot } from '../../src/package-root';
import { acknowledgeWildcards } from './acknowledge-wildcards';
import { EncryptedLogGroup } from './encrypted-log-group';

export interface QuantFunctionProps {
  /**
   * The handler by its directory under `lambda/` (`lambda/<name>/index.ts`, the list bin/build.js builds),
   * found from the package root. Give this or `entry`.
   * @default none: `entry` names the module
   */
  readonly lambda?: string;
  /**
   * Path of the handler module, e.g. `path.join(repoRoot, 'lambda/execution/index.ts')`. Give this or `lambda`.
   * @default `lambda/<lambda>/index.ts` of the package
   */
  readonly entry?: string;
  /**
   * Exported handler name.
   * @default 'handler'
   */
  readonly handler?: string;
  /** Key that encrypts the function's log group (e.g. `monitoring.logKey`). */
  readonly logKey: kms.IKey;
  /** Log retention in days (a value CloudWatch Logs accepts). */
  readonly logRetentionDays: number;
  /**
   * Environment variables. Powertools' service name and metrics namespace are added unless given.
   * @default {}
   */
  readonly environment?: Record<string, string>;
  /**
   * Powertools service name (logs, metrics, traces).
   * @default the construct id
   */
  readonly serviceName?: string;
  /**
   * Powertools metrics namespace.
   * @default 'QuantPlatform'
   */
  readonly metricsNamespace?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency: caps the function (protects downstream systems, e.g. a broker API) and
   * guarantees it that much of the account's pool.
   * @default no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * VPC to run in (subnets and security groups below).
   * @default not in a VPC
   */
  readonly vpc?: lambda.FunctionProps['vpc'];
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: lambda.FunctionProps['vpcSubnets'];
  /** @default a new security group */
  readonly securityGroups?: lambda.FunctionProps['securityGroups'];
  /**
   * Queue for failed asynchronous invocations.
   * @default none
   */
  readonly deadLetterQueue?: lambda.FunctionProps['deadLetterQueue'];
  /**
   * Why the function needs no dead-letter queue, acknowledging NIST 800-53 R5 LambdaDLQ (DLQs catch
   * only failed asynchronous invocations: say how the function is invoked and where failures go).
   * @default none: without `deadLetterQueue` that is a finding
   */
  readonly noDeadLetterQueueReason?: string;
  /**
   * Why the function runs outside a VPC, acknowledging NIST 800-53 R5 LambdaInsideVPC.
   * @default none: without `vpc` that is a finding
   */
  readonly outsideVpcReason?: string;
  /**
   * Key for the environment variables.
   * @default AWS-managed key
   */
  readonly environmentEncryption?: kms.IKey;
  /**
   * Modules left out of the bundle (the Node.js 22 runtime ships AWS SDK v3).
   * @default ['@aws-sdk/*']
   */
  readonly externalModules?: string[];
}

/**
 * A TypeScript Lambda with the platform's defaults: Node.js 22 on arm64 (Graviton), bundled locally with
 * esbuild (no Docker) as minified ESM with source maps, X-Ray active tracing, its own KMS-encrypted
 * log group with a finite retention, and a least-privilege role without AWS managed policies (it may
 * write only to its own log group). Grant it more with the usual `grant*` methods.
 */
export class QuantFunction extends nodejs.NodejsFunction {
  /** The function's log group. */
  readonly logGroupResource: EncryptedLogGroup;
  /** Permissions every function needs that AWS does not scope to a resource (X-Ray, VPC ENIs). */
  readonly runtimePolicy: iam.Policy;

  constructor(scope: Construct, id: string, props: QuantFunctionProps) {
    if ((props.lambda === undefined) === (props.entry === undefined))
      throw new Error(`QuantFunction ${id}: give exactly one of lambda (a directory of lambda/) and entry`);
    const entry = props.entry ?? path.join(packageRoot(), 'lambda', props.lambda!, 'index.ts');
    // The log group is a sibling: it must exist before the function that writes to it is constructed.
    const logGroup = EncryptedLogGroup.of(scope, `${id}Logs`, props);
    // Our own role instead of AWSLambdaBasicExecutionRole/AWSLambdaVPCAccessExecutionRole (managed policies
    // that allow writing to any log group).
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${id} function`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    const unscoped = [
      new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    ];
    if (props.vpc) {
      const stack = Stack.of(scope);
      unscoped.push(
        // Describe actions work only on `*`.
        new iam.PolicyStatement({
          actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
          resources: ['*'],
        }),
        // The writes stay in this account and region (the form the Lambda documentation gives).
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: [`arn:${stack.partition}:ec2:${stack.region}:${stack.account}:*/*`],
        }),
      );
    }
    const runtimePolicy = new iam.Policy(scope, `${id}RuntimePolicy`, {
      roles: [role],
      statements: unscoped,
    });
    Validations.of(runtimePolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords and, in a VPC, ec2:DescribeNetworkInterfaces/DescribeSubnets support no resource-level permissions; this statement holds only those.',
    });
    if (props.vpc) {
      acknowledgeWildcards(runtimePolicy, [
        [
          /^Resource::arn:[^:]+:ec2:[^:]+:[^:]+:\*\/\*$/,
          "Lambda creates and deletes the function's network interfaces in the subnets and security groups of its VPC config (ids known only then); limited to this account and region.",
        ],
      ]);
    }
    super(scope, id, {
      role,
      entry,
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logGroup,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      deadLetterQueue: props.deadLetterQueue,
      environmentEncryption: props.environmentEncryption,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? id,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'QuantPlatform',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        externalModules: props.externalModules ?? ['@aws-sdk/*'],
        // CommonJS dependencies call require(); give the ESM bundle one.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
      },
    });
    this.logGroupResource = logGroup;
    this.runtimePolicy = runtimePolicy;
    this.node.addDependency(runtimePolicy);
    // Active tracing set on the resource: the `tracing` prop would add the X-Ray grant with Resource * to the
    // role's default policy, where other grants land too.
    (this.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: 'Active' };
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'One runtime for every function of the platform (nodejs22.x on arm64, pinned by the guardrail test) and one esbuild target (node22); a runtime upgrade moves all functions and the bundling target together.',
    });
    if (props.noDeadLetterQueueReason !== undefined && !props.deadLetterQueue) {
      Validations.of(this).acknowledge({
        id: 'NIST.800.53.R5-LambdaDLQ',
        reason: props.noDeadLetterQueueReason,
      });
    }
    if (props.outsideVpcReason !== undefined && !props.vpc) {
      Validations.of(this).acknowledge({
        id: 'NIST.800.53.R5-LambdaInsideVPC',
        reason: props.outsideVpcReason,
      });
    }
  }
}

/**
 * The environment that satisfies a handler's spec (src/contract/functions.ts): one value per key of the
 * spec, under the variable name the spec gives, so a stack never spells a name the handler reads.
 * Optional variables may be left out (`undefined`).
 */
export function specEnvironment<S extends EnvSpec>(
  spec: S,
  values: { readonly [K in keyof S]: string | undefined },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, v] of Object.entries(spec)) {
    const value = values[key as keyof S];
    if (value !== undefined) env[v.name] = value;
  }
  return env;
}
