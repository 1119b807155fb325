import { Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { Area } from './area';
import { EncryptedTable } from './encrypted-table';

export interface ReplicaTablesProps<K extends string> {
  /** The home region's tables by kind: each replica gets its key schema and TTL attribute. */
  readonly sources: Readonly<Record<K, dynamodb.Table>>;
  /** Construct id of each replica (kept stable: the replicas hold data). */
  readonly ids: Readonly<Record<K, string>>;
  /** Physical name of each replica (the home region's replicator writes to it by name). */
  readonly tableName: (kind: K) => string;
  /** The DR-region key of the replicas. */
  readonly encryptionKey: kms.IKey;
}

/**
 * Replica tables in the DR region, one per home-region table: the same key schema and TTL
 * attribute, KMS with the DR key, point-in-time recovery, retained (`EncryptedTable`). The
 * replicator in the home region keeps them current (lib/constructs/table-replicator.ts).
 */
export class ReplicaTables<K extends string> extends Area {
  readonly tables: Readonly<Record<K, EncryptedTable>>;

  constructor(scope: Construct, id: string, props: ReplicaTablesProps<K>) {
    super(scope, id);
    const entries = (Object.keys(props.sources) as K[]).map((kind) => {
      const source = props.sources[kind];
      const ttl = (source.node.defaultChild as dynamodb.CfnTable).timeToLiveSpecification as
        dynamodb.CfnTable.TimeToLiveSpecificationProperty | undefined;
      const { partitionKeys, sortKeys } = source.schemaV2();
      const [partitionKey] = partitionKeys;
      if (!partitionKey || partitionKeys.length > 1 || sortKeys.length > 1)
        throw new Error(
          `table ${kind}: a replica needs a key of one partition and at most one sort attribute`,
        );
      const t = new EncryptedTable(this, props.ids[kind], {
        tableName: props.tableName(kind),
        partitionKey,
        sortKey: sortKeys[0],
        encryptionKey: props.encryptionKey,
        timeToLiveAttribute: ttl?.enabled ? ttl.attributeName : undefined,
      });
      Validations.of(t).acknowledge({
        id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
        reason:
          'A replica: the home-region table is in the backup plan and its recovery points are copied to this region; point-in-time recovery is on here too.',
      });
      return [kind, t] as const;
    });
    this.tables = Object.fromEntries(entries) as Record<K, EncryptedTable>;
  }
}
