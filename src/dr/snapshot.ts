/**
 * A fingerprint of the local trading state and lake, by what an operator checks after a restore:
 * orders, positions (books), limits, trading states, the audit trail, the rest of the risk table,
 * idempotency records and the other lake buckets. Each part is a count and a SHA-256 over its
 * content in a canonical order, so two states are equal exactly when their fingerprints are.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../aws/clients';
import { RISK_KEY_PREFIX } from '../contract/risk-table';
import { LOCAL_BUCKETS } from '../local/buckets';
import { LOCAL_TRADING_TABLES, type TradingTables } from '../trading/tables';
import { getObjectBytes, listKeys, scanTable } from './backup';
import { canonicalJson, DR_CONCURRENCY, sha256 } from './format';
import { mapLimit } from '../map-limit';

export const SNAPSHOT_PARTS = [
  'orders',
  'positions',
  'limits',
  'tradingStates',
  'auditTrail',
  'otherRiskItems',
  'idempotency',
  'lake',
] as const;
export type SnapshotPart = (typeof SNAPSHOT_PARTS)[number];

export interface PartPrint {
  readonly count: number;
  readonly sha256: string;
}

export interface StateSnapshot {
  readonly parts: Readonly<Record<SnapshotPart, PartPrint>>;
  /** Trading-state keys (`STATE#account#strategy`) that are HALTED. */
  readonly halted: readonly string[];
  /** Audit events (lines) in the audit bucket. */
  readonly auditEvents: number;
}

const print = (entries: readonly string[]): PartPrint => ({
  count: entries.length,
  sha256: sha256([...entries].sort().join('\n')),
});

const pkOf = (item: Record<string, AttributeValue>): string => item.pk?.S ?? '';

async function bucketEntries(
  clients: AwsClients,
  bucket: string,
): Promise<{ entries: string[]; bodies: Uint8Array[] }> {
  const keys = await listKeys(clients, bucket);
  const bodies = await mapLimit(keys, DR_CONCURRENCY, (key) => getObjectBytes(clients, bucket, key));
  return { entries: keys.map((key, i) => `${bucket}/${key} ${sha256(bodies[i])}`), bodies };
}

export async function takeSnapshot(
  clients: AwsClients,
  tables: TradingTables = LOCAL_TRADING_TABLES,
  buckets: Readonly<Record<string, string>> = LOCAL_BUCKETS,
): Promise<StateSnapshot> {
  const risk = await scanTable(clients, tables.risk);
  const byPrefix = (prefix: string) => risk.filter((i) => pkOf(i).startsWith(prefix)).map(canonicalJson);
  const { book, limits, state } = RISK_KEY_PREFIX;
  const known = [state, limits, book];
  const audit = await bucketEntries(clients, buckets.audit);
  const lake: string[] = [];
  for (const [zone, bucket] of Object.entries(buckets)) {
    if (zone !== 'audit') lake.push(...(await bucketEntries(clients, bucket)).entries);
  }
  const auditEvents = audit.bodies.reduce(
    (n, b) =>
      n +
      Buffer.from(b)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length,
    0,
  );
  return {
    parts: {
      orders: print((await scanTable(clients, tables.orders)).map(canonicalJson)),
      positions: print(byPrefix(book)),
      limits: print(byPrefix(limits)),
      tradingStates: print(byPrefix(state)),
      auditTrail: print(audit.entries),
      otherRiskItems: print(risk.filter((i) => !known.some((p) => pkOf(i).startsWith(p))).map(canonicalJson)),
      idempotency: print((await scanTable(clients, tables.idempotency)).map(canonicalJson)),
      lake: print(lake),
    },
    halted: risk
      .filter((i) => pkOf(i).startsWith(state) && i.state?.S === 'HALTED')
      .map(pkOf)
      .sort(),
    auditEvents,
  };
}

/** The parts whose fingerprints differ (empty when the states are identical). */
export function differences(a: StateSnapshot, b: StateSnapshot): SnapshotPart[] {
  return SNAPSHOT_PARTS.filter(
    (p) => a.parts[p].count !== b.parts[p].count || a.parts[p].sha256 !== b.parts[p].sha256,
  );
}
