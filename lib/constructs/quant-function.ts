import { Duration } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { EncryptedLogGroup } from './encrypted-log-group';

export interface QuantFunctionProps {
  /** Path of the handler module, e.g. `path.join(repoRoot, 'lambda/execution/index.ts')`. */
  readonly entry: string;
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
 * esbuild (no Docker) as minified ESM with source maps, X-Ray active tracing, and its own KMS-encrypted
 * log group with a finite retention.
 */
export class QuantFunction extends nodejs.NodejsFunction {
  /** The function's log group. */
  readonly logGroupResource: EncryptedLogGroup;

  constructor(scope: Construct, id: string, props: QuantFunctionProps) {
    // The log group is a sibling: it must exist before the function that writes to it is constructed.
    const logGroup = new EncryptedLogGroup(scope, `${id}Logs`, {
      encryptionKey: props.logKey,
      retentionDays: props.logRetentionDays,
    });
    super(scope, id, {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
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
  }
}
