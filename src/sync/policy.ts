/**
 * The IAM documents the vendor's side needs (`quant sync policy --print`), from plain parameters
 * (runtime code never reads the CDK config; the CLI takes them from flags or a JSON file).
 *
 * - pull (DataSync in our account reads the vendor's bucket): the vendor attaches `bucketPolicy`
 *   to its bucket (and `kmsKeyPolicyStatement` to its key when the bucket uses SSE-KMS); our
 *   DataSync role carries `roleTrust`.
 * - push (the vendor replicates into our vendor zone): the vendor's replication role needs
 *   `roleTrust` (s3.amazonaws.com) and `rolePolicy`; our bucket and key policies come from the stack.
 */
import { createRequire } from 'node:module';
import type * as Zod from 'zod';
import { describeZodIssues, InputError } from '../errors';

/**
 * The parameter schema, built with zod on first use: `quant sync run` loads this module but never
 * builds a policy, and loading zod was ~0.2 s of its start-up.
 */
function makeSchema(z: typeof Zod) {
  const account = z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id');
  const bucket = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name');
  const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected an AWS region like us-east-1');
  const prefix = z
    .string()
    .refine(
      (p) => p === '' || (!p.startsWith('/') && p.endsWith('/')),
      "expected '' or a prefix ending in '/'",
    );
  const kmsKeyArn = z
    .string()
    .regex(/^arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/, 'expected a KMS key ARN');
  const roleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'expected an IAM role name');

  const schema = z
    .object({
      mode: z.enum(['pull', 'push']).default('pull'),
      /** Our account (the quant team's). */
      account,
      /** Our region (where DataSync runs / the vendor zone lives). */
      region,
      vendorAccount: account,
      vendorBucket: bucket,
      vendorRegion: region,
      vendorPrefix: prefix.default(''),
      /** Name of our DataSync role (pull) or the vendor's replication role (push). */
      roleName: roleName.default('quant-vendor-sync'),
      /** Full ARN of the role (the DataSyncStack output `DataSyncRoleArn`); overrides account + roleName. */
      roleArn: z
        .string()
        .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN')
        .optional(),
      /** The vendor bucket's SSE-KMS key, if any (pull). */
      vendorKmsKeyArn: kmsKeyArn.optional(),
      /** Our vendor-zone bucket (push). */
      destBucket: bucket.optional(),
      /** Our vendor zone's KMS key (push). */
      destKmsKeyArn: kmsKeyArn.optional(),
      /** Push: S3 Replication Time Control (15-minute SLA, with replication metrics). */
      replicationTimeControl: z.boolean().default(false),
    })
    .strict()
    .refine((p) => p.mode === 'pull' || (p.destBucket !== undefined && p.destKmsKeyArn !== undefined), {
      message: 'push mode needs destBucket and destKmsKeyArn',
      path: ['destBucket'],
    });
  return schema;
}

let built: ReturnType<typeof makeSchema> | undefined;
export function policyParamsSchema(): ReturnType<typeof makeSchema> {
  built ??= makeSchema((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z);
  return built;
}

export type PolicyParams = Zod.input<ReturnType<typeof makeSchema>>;

type Statement = Record<string, unknown>;
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: Statement[];
}

export interface VendorPolicies {
  readonly mode: 'pull' | 'push';
  /** Who attaches what, in words. */
  readonly instructions: string[];
  readonly bucketPolicy?: PolicyDocument;
  readonly kmsKeyPolicyStatement?: Statement;
  readonly roleArn: string;
  readonly roleTrust: PolicyDocument;
  readonly rolePolicy?: PolicyDocument;
  /** Push: the replication configuration the vendor puts on its bucket (PutBucketReplication). */
  readonly replicationConfiguration?: Record<string, unknown>;
}

export function buildVendorPolicies(input: PolicyParams): VendorPolicies {
  const parsed = policyParamsSchema().safeParse(input);
  if (!parsed.success) throw new InputError(`policy parameters: ${describeZodIssues(parsed.error.issues)}`);
  const p = parsed.data;
  const vendorBucketArn = `arn:aws:s3:::${p.vendorBucket}`;
  const objectsArn = `${vendorBucketArn}/${p.vendorPrefix}*`;
  const denyInsecure: Statement = {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [vendorBucketArn, `${vendorBucketArn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
  if (p.mode === 'pull') {
    const roleArn = p.roleArn ?? `arn:aws:iam::${p.account}:role/${p.roleName}`;
    const list: Statement = {
      Sid: 'QuantSyncList',
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      Resource: vendorBucketArn,
    };
    if (p.vendorPrefix) list.Condition = { StringLike: { 's3:prefix': [`${p.vendorPrefix}*`] } };
    return {
      mode: 'pull',
      instructions: [
        `vendor (account ${p.vendorAccount}): add the statements of bucketPolicy to the policy of bucket ${p.vendorBucket}`,
        ...(p.vendorKmsKeyArn
          ? [`vendor: add kmsKeyPolicyStatement to the key policy of ${p.vendorKmsKeyArn}`]
          : []),
        `quant team (account ${p.account}): the DataSync role ${roleArn} (created by DataSyncStack) trusts roleTrust`,
      ],
      bucketPolicy: {
        Version: '2012-10-17',
        Statement: [
          list,
          {
            Sid: 'QuantSyncRead',
            Effect: 'Allow',
            Principal: { AWS: roleArn },
            Action: [
              's3:GetObject',
              's3:GetObjectTagging',
              's3:GetObjectVersion',
              's3:GetObjectVersionTagging',
            ],
            Resource: objectsArn,
          },
          denyInsecure,
        ],
      },
      kmsKeyPolicyStatement: p.vendorKmsKeyArn
        ? {
            Sid: 'QuantSyncDecrypt',
            Effect: 'Allow',
            Principal: { AWS: roleArn },
            Action: 'kms:Decrypt',
            Resource: '*',
            Condition: { StringEquals: { 'kms:ViaService': `s3.${p.vendorRegion}.amazonaws.com` } },
          }
        : undefined,
      roleArn,
      roleTrust: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'datasync.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: {
              StringEquals: { 'aws:SourceAccount': p.account },
              ArnLike: { 'aws:SourceArn': `arn:aws:datasync:${p.region}:${p.account}:*` },
            },
          },
        ],
      },
    };
  }
  const roleArn = p.roleArn ?? `arn:aws:iam::${p.vendorAccount}:role/${p.roleName}`;
  const destArn = `arn:aws:s3:::${p.destBucket}`;
  return {
    mode: 'push',
    instructions: [
      `vendor (account ${p.vendorAccount}): create role ${roleArn} with roleTrust and rolePolicy, enable versioning on ${p.vendorBucket}, and put replicationConfiguration on it (keys replicate unchanged: prefix "${p.vendorPrefix}"${p.replicationTimeControl ? ', Replication Time Control on' : ''})`,
      `quant team (account ${p.account}): DataSyncStack in replication mode allows this role on ${p.destBucket} and its key`,
    ],
    roleArn,
    roleTrust: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': p.vendorAccount } },
        },
      ],
    },
    replicationConfiguration: {
      Role: roleArn,
      Rules: [
        {
          ID: `quant-${p.account}`,
          Priority: 1,
          Status: 'Enabled',
          Filter: { Prefix: p.vendorPrefix },
          DeleteMarkerReplication: { Status: 'Disabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: {
            Bucket: destArn,
            Account: p.account,
            AccessControlTranslation: { Owner: 'Destination' },
            EncryptionConfiguration: { ReplicaKmsKeyID: p.destKmsKeyArn },
            ...(p.replicationTimeControl
              ? {
                  ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
                  Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
                }
              : {}),
          },
        },
      ],
    },
    rolePolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'ReadSource',
          Effect: 'Allow',
          Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          Resource: vendorBucketArn,
        },
        {
          Sid: 'ReadSourceVersions',
          Effect: 'Allow',
          Action: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
          ],
          Resource: objectsArn,
        },
        {
          Sid: 'WriteReplicas',
          Effect: 'Allow',
          Action: [
            's3:ReplicateObject',
            's3:ReplicateDelete',
            's3:ReplicateTags',
            's3:ObjectOwnerOverrideToBucketOwner',
          ],
          Resource: `${destArn}/${p.vendorPrefix}*`,
        },
        {
          Sid: 'EncryptReplicas',
          Effect: 'Allow',
          Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
          Resource: p.destKmsKeyArn,
        },
        ...(p.vendorKmsKeyArn
          ? [{ Sid: 'DecryptSource', Effect: 'Allow', Action: 'kms:Decrypt', Resource: p.vendorKmsKeyArn }]
          : []),
      ],
    },
  };
}
