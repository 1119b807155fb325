/**
 * Synchronous pre-trade check for strategies (Lambda function URL with IAM auth). Body:
 * `{ account, strategy, order: { symbol, side, qty, price }, resize? }`. Logic: src/trading.
 */
import type { APIGatewayProxyResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { createClients } from '../../src/aws/clients';
import { instrumented, powertools } from '../../src/aws/powertools';
import { InputError } from '../../src/errors';
import { tradingServices } from '../../src/trading/context';
import { riskCheckRequest, runtimeFromEnv } from '../../src/trading/lambda-support';
import { FUNCTION_SERVICE } from '../../src/contract/metrics';

const tools = powertools({ serviceName: FUNCTION_SERVICE.riskCheck });
const services = tradingServices(createClients(runtimeFromEnv(process.env)), process.env);

const json = (statusCode: number, body: unknown): APIGatewayProxyResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function parseBody(event: LambdaFunctionURLEvent): unknown {
  try {
    const text = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? '');
    return JSON.parse(text);
  } catch {
    throw new InputError('request: body is not valid JSON', 'body');
  }
}

export const handler = instrumented(
  tools,
  async (event: LambdaFunctionURLEvent): Promise<APIGatewayProxyResultV2> => {
    try {
      // The body is checked field by field in riskCheckRequest (zod).
      return json(200, await riskCheckRequest(await services, parseBody(event)));
    } catch (err) {
      if (err instanceof InputError) return json(400, { error: err.message });
      tools.logger.error('risk check failed', err as Error);
      return json(500, { error: 'internal error' });
    }
  },
);
