/**
 * DynamoDB tables of trading. In AWS their names come from the TradingStack (environment of the
 * Lambdas); locally they are created in dynalite on first use with the same key schema.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { readEnv, text } from '../contract/env';
import { TRADING_ENV } from '../contract/trading';

export interface TradingTables {
  /** Risk state: trading states (`STATE#...`), limits (`LIMITS#...`), books (`BOOK#...`). Key `pk`. */
  readonly risk: string;
  /** Orders by `orderId` (deterministic from the signal: a redelivery maps to the same order). */
  readonly orders: string;
  /** Powertools idempotency records. Key `id`. */
  readonly idempotency: string;
}

export const LOCAL_TRADING_TABLES: TradingTables = {
  risk: 'quant-risk',
  orders: 'quant-orders',
  idempotency: 'quant-idempotency',
};

/** Table names from the environment the TradingStack gives its functions. */
export function tradingTablesFromEnv(env: NodeJS.ProcessEnv): TradingTables {
  return readEnv(
    {
      risk: text(TRADING_ENV.riskTable),
      orders: text(TRADING_ENV.ordersTable),
      idempotency: text(TRADING_ENV.idempotencyTable),
    },
    env,
  );
}

const KEYS: Record<keyof TradingTables, string> = { risk: 'pk', orders: 'orderId', idempotency: 'id' };

/** Creates the tables in a local DynamoDB (dynalite) if they do not exist yet; waits until active. */
export async function ensureLocalTradingTables(
  dynamodb: DynamoDBClient,
  tables: TradingTables = LOCAL_TRADING_TABLES,
): Promise<TradingTables> {
  for (const kind of Object.keys(KEYS) as (keyof TradingTables)[]) {
    const TableName = tables[kind];
    try {
      await dynamodb.send(
        new CreateTableCommand({
          TableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: KEYS[kind], AttributeType: 'S' }],
          KeySchema: [{ AttributeName: KEYS[kind], KeyType: 'HASH' }],
        }),
      );
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    for (let i = 0; i < 100; i++) {
      const d = await dynamodb.send(new DescribeTableCommand({ TableName }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return tables;
}
