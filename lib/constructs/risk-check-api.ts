import path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { packageRoot } from '../../src/package-root';
import { QuantFunction } from './quant-function';
import { tradingEnvironment, tradingFunctionDefaults, type TradingCore } from './trading-core';
import { Area } from './area';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';

export interface RiskCheckApiProps {
  readonly core: TradingCore;
  /**
   * Reserved concurrency: strategies' pre-trade checks keep their share of the account's pool (and
   * cannot starve it).
   * @default 10
   */
  readonly concurrency?: number;
}

/**
 * Strategies' pre-trade risk check: a read-only function (risk table) behind an IAM-authenticated
 * function URL. Strategies call it with SigV4: grant `lambda:InvokeFunctionUrl` to their roles.
 */
export class RiskCheckApi extends Area {
  readonly function: QuantFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: RiskCheckApiProps) {
    super(scope, id);
    this.function = new QuantFunction(this, 'RiskCheck', {
      ...tradingFunctionDefaults(props.core),
      entry: path.join(packageRoot(), 'lambda/risk-check/index.ts'),
      serviceName: FUNCTION_SERVICE.riskCheck,
      environment: tradingEnvironment(props.core),
      reservedConcurrentExecutions: props.concurrency ?? 10,
      noDeadLetterQueueReason:
        'Invoked only synchronously through its IAM-authenticated function URL: the strategy gets the error and retries; a DLQ receives only failed asynchronous invocations.',
      outsideVpcReason:
        'Calls only AWS service APIs (DynamoDB), IAM-authenticated over TLS, and reaches nothing inside the VPC; outside it the function needs no ENIs, NAT or interface endpoints.',
    });
    props.core.tables.risk.grantReadData(this.function);
    this.url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  }
}
