import { Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { bookKey, rateKeyPrefix, stateKeyOf } from '../../src/contract/risk-table';
import { EncryptedTable } from './encrypted-table';
import { Area } from './area';
import { allow } from './policy-statements';

export interface TradingTablesProps {
  /** Customer-managed key of the three tables (the trading key). */
  readonly encryptionKey: kms.IKey;
  /**
   * DynamoDB Streams (new and old images), for the replication to the DR region
   * (lib/constructs/table-replicator.ts). Adding a stream updates a table in place. With streams on,
   * the tables are in the disaster-recovery stack's backup plan; without, that finding is
   * acknowledged here (where cdk-nag looks for it).
   * @default false
   */
  readonly changeStreams?: boolean;
}

/**
 * The trading state in DynamoDB: the risk table (limits, trading states, books and order-rate
 * counters, src/risk/store.ts), the orders and the Powertools idempotency records. KMS with the
 * trading key, point-in-time recovery, retained (`EncryptedTable`).
 *
 * The tables are created in this construct's parent scope (`RiskTable`, ... beside it): the DR
 * replicator's stream mappings are named after the tables' construct paths
 * (lib/constructs/table-replicator.ts), and a renamed mapping would be replaced and replay the
 * stream from its start onto the replicas.
 */
export class TradingTables extends Area {
  readonly risk: EncryptedTable;
  readonly orders: EncryptedTable;
  readonly idempotency: EncryptedTable;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: TradingTablesProps) {
    super(scope, id);
    this.key = props.encryptionKey;
    const parent = this.node.scope as Construct;
    const table = (tid: string, key: string, ttl?: string): EncryptedTable =>
      new EncryptedTable(parent, tid, {
        partitionKey: { name: key, type: dynamodb.AttributeType.STRING },
        encryptionKey: props.encryptionKey,
        timeToLiveAttribute: ttl,
        stream: props.changeStreams ? dynamodb.StreamViewType.NEW_AND_OLD_IMAGES : undefined,
      });
    // Order-rate counters (RATE#...) expire through TTL on `expiresAt`.
    this.risk = table('RiskTable', 'pk', 'expiresAt');
    this.orders = table('OrdersTable', 'orderId');
    // Powertools idempotency records expire through TTL on `expiration`.
    this.idempotency = table('IdempotencyTable', 'id', 'expiration');
    if (!props.changeStreams) {
      for (const t of [this.risk, this.orders, this.idempotency]) {
        Validations.of(t).acknowledge({
          id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
          reason:
            'This environment has no disaster recovery (its config has no disasterRecovery section, lib/config/environments.ts): no AWS Backup plan for a non-production environment; point-in-time recovery stays on. Staging and prod back these tables up (DataBackupPlan).',
        });
      }
    }
  }

  /**
   * Reads of the risk table, and writes (put / update) only to items whose key matches one of
   * `keys` (`dynamodb:LeadingKeys`, StringLike: `*` is a wildcard, `${*}` a literal `*`). No trading
   * function gets LIMITS#: limits change only through `quant risk limits` with an operator's
   * credentials.
   */
  grantRiskWrites(
    grantee: iam.IGrantable & { addToRolePolicy(s: iam.PolicyStatement): void },
    keys: readonly string[],
  ): void {
    grantRiskTableWrites(this.risk, this.key, grantee, keys);
  }
}

/**
 * Reads of a risk table (`risk`, encrypted with `key`), and writes (put / update) only to items
 * whose key matches one of `keys` (see `TradingTables.grantRiskWrites`).
 */
export function grantRiskTableWrites(
  risk: dynamodb.ITable,
  key: kms.IKey,
  grantee: iam.IGrantable & { addToRolePolicy(s: iam.PolicyStatement): void },
  keys: readonly string[],
): void {
  risk.grantReadData(grantee);
  key.grantEncryptDecrypt(grantee);
  allow(grantee, {
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    resources: [risk.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...keys] } },
  });
}

/**
 * Risk-table keys the order path writes (execution, algo-child): the account's book
 * (src/trading/book.ts), its order-rate counters and the account-wide state that drawdown / daily
 * loss escalate automatically (src/risk/store.ts, src/trading/post-trade.ts).
 */
export function orderPathKeys(account: string): string[] {
  return [bookKey(account), `${rateKeyPrefix(account)}*`, accountStateKey(account)];
}

/** `STATE#<account>#*` with a literal `*` (IAM's `${*}`): the account-wide state, no strategy's. */
export function accountStateKey(account: string): string {
  return stateKeyOf(account, '${*}');
}
