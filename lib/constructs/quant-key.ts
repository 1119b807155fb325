import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface QuantKeyProps {
  /** What the key protects (shown in the KMS console). */
  readonly description: string;
  /**
   * Let CloudWatch Logs in this account and region use the key, so log groups of any stack can be
   * encrypted with it (a log group does not add this grant itself).
   * @default false
   */
  readonly allowCloudWatchLogs?: boolean;
  /**
   * Let CloudWatch alarms publish to SNS topics encrypted with this key.
   * @default false
   */
  readonly allowCloudWatchAlarms?: boolean;
  /**
   * Let EventBridge deliver to SNS topics or SQS queues encrypted with this key.
   * @default false
   */
  readonly allowEventBridge?: boolean;
}

/**
 * A customer-managed KMS key with yearly automatic rotation that survives stack deletion
 * (data encrypted with a deleted key is lost for good).
 */
export class QuantKey extends kms.Key {
  constructor(scope: Construct, id: string, props: QuantKeyProps) {
    super(scope, id, {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const stack = Stack.of(this);
    if (props.allowCloudWatchLogs) {
      this.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchLogs',
          principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
          actions: [
            'kms:Encrypt*',
            'kms:Decrypt*',
            'kms:ReEncrypt*',
            'kms:GenerateDataKey*',
            'kms:Describe*',
          ],
          resources: ['*'],
          conditions: {
            // Only log groups of this account and region may use it.
            ArnLike: {
              'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
            },
          },
        }),
      );
    }
    if (props.allowCloudWatchAlarms) {
      this.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowServicePublishers',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      );
    }
    if (props.allowEventBridge) {
      this.addToResourcePolicy(eventBridgeKeyStatement(stack, 'AllowEventBridgeRules'));
    }
  }
}

/**
 * Lets EventBridge rules of this account and region (only: no confused deputy) encrypt to SQS / SNS
 * targets and dead-letter queues under a key. A rule pattern, not the rule's ARN: the rule refers
 * to its target, which refers to the key, so naming the rule in the key policy would be a cycle.
 */
export function eventBridgeKeyStatement(stack: Stack, sid: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    principals: [new iam.ServicePrincipal('events.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:events:${stack.region}:${stack.account}:rule/*` },
    },
  });
}
