import { Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

export interface AthenaQueryStateProps {
  /** The `QueryString.$` path or intrinsic that gives the SQL. */
  readonly queryStringPath: string;
  readonly databaseName: string;
  readonly workgroupName: string;
  /** Where the state puts `{ queryExecutionId }`. */
  readonly resultPath: string;
}

/**
 * Athena's `.sync` integration as raw ASL, retrying throttling: CDK's AthenaStartQueryExecution
 * always adds s3:GetObject and s3:CreateBucket on "*"; with this state the role gets only what the
 * caller grants (DataLake.grantQuery).
 */
export function athenaQueryState(
  scope: Construct,
  id: string,
  props: AthenaQueryStateProps,
): sfn.CustomState {
  return new sfn.CustomState(scope, id, {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Stack.of(scope).partition}:states:::athena:startQueryExecution.sync`,
      Parameters: {
        'QueryString.$': props.queryStringPath,
        QueryExecutionContext: { Database: props.databaseName },
        WorkGroup: props.workgroupName,
      },
      ResultSelector: { 'queryExecutionId.$': '$.QueryExecution.QueryExecutionId' },
      ResultPath: props.resultPath,
      Retry: [
        {
          ErrorEquals: ['Athena.TooManyRequestsException'],
          IntervalSeconds: 5,
          MaxAttempts: 5,
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ],
    },
  });
}
