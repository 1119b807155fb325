/**
 * Synchronous pre-trade check for strategies (Lambda function URL with IAM auth). Body:
 * `{ account, strategy, order: { symbol, side, qty, price }, resize? }`. Logic: src/trading.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResultV2, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { InputError } from '../../src/errors';
import { tradingServices } from '../../src/trading/context';
import { riskCheckRequest, runtimeFromEnv } from '../../src/trading/lambda-support';

const logger = new Logger({ serviceName: 'risk-check' });
const services = tradingServices(createClients(runtimeFromEnv(process.env)), process.env);

export async function handler(
  event: LambdaFunctionURLEvent,
  context: Context,
): Promise<APIGatewayProxyResultV2> {
  logger.addContext(context);
  const json = (statusCode: number, body: unknown): APIGatewayProxyResultV2 => ({
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  try {
    let body: unknown;
    try {
      const text = event.isBase64Encoded
        ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
        : (event.body ?? '');
      body = JSON.parse(text);
    } catch {
      throw new InputError('request: body is not valid JSON', 'body');
    }
    return json(200, await riskCheckRequest(await services, body));
  } catch (err) {
    if (err instanceof InputError) return json(400, { error: err.message });
    logger.error('risk check failed', err as Error);
    return json(500, { error: 'internal error' });
  }
}
