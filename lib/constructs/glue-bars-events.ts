/**
 * BarsUpdated from the Glue bars jobs (glue-jobs/bars/job.py): the job arguments that name the bus
 * and the event (src/contract/bars.ts, so the job writes no name of its own) and the one IAM
 * statement the job role needs, PutEvents on that bus only. The job publishes after its bars are
 * written, as `quant bars build` does locally.
 */
import { Arn, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BARS_EVENT_JOB_ARGS, BARS_UPDATED_EVENT } from '../../src/contract/bars';

export interface GlueBarsEventsProps {
  /** Role of the Glue bars jobs. */
  readonly role: iam.IRole;
  /**
   * Name of the EventBridge bus the event goes to (the strategy runner's and retraining's rules
   * listen on it).
   * @default 'default'
   */
  readonly busName?: string;
}

export class GlueBarsEvents extends Construct {
  /** Default arguments to add to each bars job. */
  readonly jobArguments: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: GlueBarsEventsProps) {
    super(scope, id);
    const busName = props.busName ?? 'default';
    props.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [
          Arn.format({ service: 'events', resource: 'event-bus', resourceName: busName }, Stack.of(this)),
        ],
        conditions: { StringEquals: { 'events:source': BARS_UPDATED_EVENT.source } },
      }),
    );
    this.jobArguments = {
      [BARS_EVENT_JOB_ARGS.bus]: busName,
      [BARS_EVENT_JOB_ARGS.source]: BARS_UPDATED_EVENT.source,
      [BARS_EVENT_JOB_ARGS.detailType]: BARS_UPDATED_EVENT.detailType,
    };
  }
}
