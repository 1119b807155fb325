import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { VendorSyncConfig } from '../config/types';
import { Area } from './area';

export interface VendorPushReplicationProps {
  /** The vendor and its replication role (lib/config/types.ts `VendorSyncConfig`, validated; push mode). */
  readonly sync: VendorSyncConfig;
  /** The vendor zone: replicas land under `<vendorName>/`. */
  readonly vendorZone: s3.IBucket;
  /** The vendor zone's own key (the vendor's role may encrypt replicas with it, through S3 only). */
  readonly vendorKey: kms.IKey;
  /** Values of `quant sync policy --print --config` both modes share (account, region, vendor bucket). */
  readonly policyBase: Readonly<Record<string, string>>;
}

/**
 * Push mode of the vendor sync: the vendor replicates into the vendor zone (cross-account,
 * cross-region, SSE-KMS). Its replication role may write replicas under `<vendorName>/` and encrypt
 * with the vendor zone's key through S3, nothing more (no deletes, no versioning changes, no listing).
 */
export class VendorPushReplication extends Area {
  constructor(scope: Construct, id: string, props: VendorPushReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const cfg = props.sync;
    const { vendorZone, vendorKey, policyBase } = props;
    const destPrefix = `${cfg.vendorName}/`;
    const vendorRole = new iam.ArnPrincipal(cfg.replicationRoleArn!);
    vendorZone.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ReplicationFrom${cfg.vendorName.replace(/[^a-z0-9]/gi, '')}`,
        principals: [vendorRole],
        // No s3:ReplicateDelete: the replication rule `quant sync policy` prints does not
        // replicate delete markers (src/sync/policy.ts), and a vendor must not hide our copy.
        actions: ['s3:ReplicateObject', 's3:ReplicateTags', 's3:ObjectOwnerOverrideToBucketOwner'],
        resources: [vendorZone.arnForObjects(`${destPrefix}*`)],
      }),
    );
    vendorZone.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ReplicationVersioning${cfg.vendorName.replace(/[^a-z0-9]/gi, '')}`,
        principals: [vendorRole],
        // Read-only on the bucket: replication needs to see that versioning is on, never to change
        // it (s3:PutBucketVersioning would let the vendor suspend versioning on our bucket), and
        // never to list it.
        actions: ['s3:GetBucketVersioning'],
        resources: [vendorZone.bucketArn],
      }),
    );
    vendorKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `ReplicaEncryption${cfg.vendorName.replace(/[^a-z0-9]/gi, '')}`,
        principals: [vendorRole],
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
        },
      }),
    );
    new CfnOutput(this, 'ReplicationDestination', {
      value: `${vendorZone.bucketArn}/${destPrefix}`,
      description: `quant sync policy --print --mode push ...; RTC ${cfg.replicationTimeControl ? 'requested' : 'not requested'}`,
    });
    new CfnOutput(this, 'VendorPolicyConfigPush', {
      value: Stack.of(this).toJsonString({
        mode: 'push',
        ...policyBase,
        roleArn: cfg.replicationRoleArn!,
        destBucket: vendorZone.bucketName,
        destKmsKeyArn: vendorKey.keyArn,
        replicationTimeControl: cfg.replicationTimeControl,
        ...(cfg.vendorKmsKeyArn ? { vendorKmsKeyArn: cfg.vendorKmsKeyArn } : {}),
      }),
      description: 'quant sync policy --print --config <this value saved as a file> (push mode)',
    });
  }
}
