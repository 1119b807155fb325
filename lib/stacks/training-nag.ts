import type { WildcardReason } from '../constructs';
import { PROMOTIONS_PREFIX } from '../../src/contract/models';

/** Wildcards the training stack's policies are meant to have, and why (matched against IAM5 findings). */
export const TRAINING_WILDCARD_REASONS: readonly WildcardReason[] = [
  [
    /^Action::s3:(GetObject|GetBucket|List|Abort|DeleteObject)\*$/,
    'CDK grant action groups for reading or writing objects; the resources of the same statements limit them to lake buckets and prefixes.',
  ],
  [
    /^Action::kms:(GenerateDataKey|ReEncrypt)\*$/,
    'Data-key actions SSE-KMS needs for objects of the lake key and the training volume key; each statement names its key.',
  ],
  [
    /^Resource::\*$/,
    'Actions without resource-level permissions: X-Ray, EC2 network interfaces, ECR GetAuthorizationToken, CloudWatch Logs vended-log delivery, Lake Formation GetDataAccess, and cloudwatch:PutMetricData limited to one namespace by condition.',
  ],
  [
    /^Resource::<(Evaluate|Publish)[0-9A-F]{8}\.Arn>:\*$/,
    'Step Functions invokes the function by any version or alias of the same function.',
  ],
  [
    /GetAttModelsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/(models\/features|training-output|training-checkpoints|models)\/\*$/,
    'One object per run or version under the models bucket prefixes the step owns: features of a run, training output, spot checkpoints, registered versions (names known only at run time).',
  ],
  [
    (f: string) =>
      /GetAttModelsBucket[0-9A-F]+Arn[0-9A-F]+"}}/.test(f) && f.endsWith(`/${PROMOTIONS_PREFIX}*`),
    "Read-only, the strategy runner: its environment's promotion document (one object per environment).",
  ],
  [
    /GetAttCuratedBucket[0-9A-F]+Arn[0-9A-F]+"}}\/\*$/,
    'Read-only: bars of any symbol in the curated zone (features, backtests of the candidate, live features).',
  ],
  [
    /GetAttCuratedBucket[0-9A-F]+Arn[0-9A-F]+"}}\/(bars|news_sentiment|_lake\/pending\/(bars|news_sentiment))\/\*$/,
    'Read-only, the strategy runner: objects of the bars and news_sentiment tables (one per partition, symbols and days known only at run time) and their pending markers.',
  ],
  [
    /GetAttAthenaResultsBucket[0-9A-F]+Arn[0-9A-F]+"}}\/\*$/,
    'Athena writes query result (and UNLOAD manifest) objects in the Athena results bucket.',
  ],
  [
    /^Resource::arn:[^:]+:glue:[^:]+:\d+:(table|userDefinedFunction)\/quant_[a-z0-9_]+\/\*$/,
    'Athena reads table metadata of the lake database (tables are partition-projected; no crawler).',
  ],
  [
    /^Resource::arn:(aws[a-z-]*|<AWS::Partition>):sagemaker:[^:]+:\d+:(training-job|hyper-parameter-tuning-job)\/[a-z0-9-]+-\*$/,
    'Training and tuning job names are generated per run (`<modelName>-<8 hex>`, tuning children add a suffix); the prefix limits them to this model.',
  ],
  [
    /^Resource::arn:(aws[a-z-]*|<AWS::Partition>):sagemaker:[^:]+:\d+:model-package\/[a-z0-9-]+\/\*$/,
    'Model package versions of this model package group (version numbers are assigned by SageMaker).',
  ],
  [
    /^Resource::arn:(aws[a-z-]*|<AWS::Partition>):logs:[^:]+:\d+:log-group:\/aws\/sagemaker\/TrainingJobs:\*$/,
    'SageMaker writes one log stream per training job instance into its fixed log group.',
  ],
  [
    /^Resource::arn:[a-z-]+:s3:::cdk-[a-z0-9]+-assets-\d+-[a-z0-9-]+\/\*$/,
    'The training code asset object in the CDK assets bucket (its key is a content hash).',
  ],
];
