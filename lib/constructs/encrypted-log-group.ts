import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Retention periods CloudWatch Logs accepts. */
export const VALID_RETENTION_DAYS = new Set(
  Object.values(logs.RetentionDays).filter(
    (v): v is number => typeof v === 'number' && v !== logs.RetentionDays.INFINITE,
  ),
);

/** Converts a retention in days to the enum, failing with the accepted values for anything else. */
export function retentionDays(days: number, field = 'logRetentionDays'): logs.RetentionDays {
  if (!VALID_RETENTION_DAYS.has(days)) {
    throw new Error(
      `${field}: CloudWatch Logs does not accept ${days} days; use one of ${[...VALID_RETENTION_DAYS].sort((a, b) => a - b).join(', ')}`,
    );
  }
  return days as logs.RetentionDays;
}

export interface EncryptedLogGroupProps {
  /** Customer-managed key; its policy must let CloudWatch Logs use it (`QuantKey` `allowCloudWatchLogs`). */
  readonly encryptionKey: kms.IKey;
  /** Retention in days (a value CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...). */
  readonly retentionDays: number;
  /** @default a name CloudFormation generates */
  readonly logGroupName?: string;
  /**
   * What happens to the logs when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A CloudWatch log group encrypted with a customer-managed key and a finite retention. */
export class EncryptedLogGroup extends logs.LogGroup {
  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id, {
      encryptionKey: props.encryptionKey,
      logGroupName: props.logGroupName,
      retention: retentionDays(props.retentionDays),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** A group with the log key and retention of `from` (the monitoring hub, a construct's props). */
  static of(
    scope: Construct,
    id: string,
    from: { readonly logKey: kms.IKey; readonly logRetentionDays: number },
  ): EncryptedLogGroup {
    return new EncryptedLogGroup(scope, id, {
      encryptionKey: from.logKey,
      retentionDays: from.logRetentionDays,
    });
  }
}
