/**
 * Trading state and limits in DynamoDB. Every write is conditional on the version read, so two
 * writers never silently overwrite each other (dynalite has no transactions; conditional writes
 * are what both it and DynamoDB guarantee). Limits are cached for a short TTL so they can be
 * changed at run time without a redeploy and without a read per order.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { RISK_KEY_PREFIX, limitsKey, rateKey, stateKeyOf } from '../contract/risk-table';
import { InputError } from '../errors';
import { mostRestrictive } from './engine';
import { checkId } from './ids';
import { parseRiskConfig } from './schemas';
import { INITIAL_STATE, transition, type StateEvent, type StateRecord } from './state';
import type { RiskConfig, TradingState } from './types';

/** Scope of a state: a whole account (`strategy` absent) or one strategy in it. */
export interface StateScope {
  readonly account: string;
  readonly strategy?: string;
}

export const stateKey = (s: StateScope): string => stateKeyOf(s.account, s.strategy);

export interface RiskStoreOptions {
  /** How long limits are cached. @default 5000 ms */
  readonly limitsTtlMs?: number;
  /** Clock (tests). @default Date.now */
  readonly now?: () => number;
}

export class RiskStore {
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { at: number; config: RiskConfig; version: number }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    opts: RiskStoreOptions = {},
  ) {
    this.ttl = opts.limitsTtlMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  async getState(scope: StateScope): Promise<StateRecord> {
    const r = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: stateKey(scope) }, ConsistentRead: true }),
    );
    if (!r.Item) return INITIAL_STATE;
    const { state, actor, reason, since, version } = r.Item;
    return { state: state as TradingState, actor, reason, since, version: Number(version) };
  }

  /** The state a strategy trades under: the more restrictive of its own and its account's. */
  async effectiveState(account: string, strategy: string): Promise<TradingState> {
    const [a, s] = await Promise.all([this.getState({ account }), this.getState({ account, strategy })]);
    return mostRestrictive(a.state, s.state);
  }

  /**
   * Applies a state event with optimistic concurrency: read, transition, write if the version is
   * unchanged; on a lost race, read again. Returns the record in force afterwards.
   */
  async apply(scope: StateScope, event: StateEvent): Promise<{ before: StateRecord; after: StateRecord }> {
    checkId(scope.account, 'account');
    if (scope.strategy !== undefined) checkId(scope.strategy, 'strategy');
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = await this.getState(scope);
      const after = transition(before, event, new Date(this.now()));
      if (after === before) return { before, after };
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: stateKey(scope), ...after },
            ConditionExpression: 'attribute_not_exists(pk) OR version = :v',
            ExpressionAttributeValues: { ':v': before.version },
          }),
        );
        return { before, after };
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    throw new Error(`state of ${stateKey(scope)}: too much contention, gave up after 20 attempts`);
  }

  halt(scope: StateScope, actor: string, reason: string, to: TradingState = 'HALTED') {
    return this.apply(scope, { type: 'escalate', to, actor, reason });
  }

  resume(scope: StateScope, actor: string, reason: string, to: TradingState = 'ACTIVE') {
    return this.apply(scope, { type: 'resume', to, actor, reason });
  }

  /** Stores limits (validated) with a version; readers see them within the cache TTL. */
  async putLimits(account: string, config: unknown): Promise<number> {
    checkId(account, 'account');
    const parsed = parseRiskConfig(config, `limits of ${account}`);
    const version = Number((await this.limitsItem(account))?.version ?? 0) + 1;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: limitsKey(account), config: JSON.stringify(parsed), version },
          ConditionExpression: 'attribute_not_exists(pk) OR version = :v',
          ExpressionAttributeValues: { ':v': version - 1 },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new Error(`limits of ${account} changed concurrently; read them again and retry`);
      }
      throw err;
    }
    this.cache.delete(account);
    return version;
  }

  /** Accounts with limits stored: the accounts this deployment knows and trades, sorted. */
  async accounts(): Promise<string[]> {
    const out: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(pk, :p)',
          ExpressionAttributeValues: { ':p': RISK_KEY_PREFIX.limits },
          ProjectionExpression: 'pk',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of r.Items ?? []) out.push(String(item.pk).slice(RISK_KEY_PREFIX.limits.length));
      start = r.LastEvaluatedKey;
    } while (start);
    return out.sort();
  }

  /**
   * Checks that an operator names an account the deployment knows (one with limits): a typo must
   * not halt a phantom account while the real one keeps trading. InputError lists the known ones.
   */
  async requireAccount(account: string, field = '--account'): Promise<void> {
    checkId(account, field);
    if (await this.limitsItem(account)) return;
    const known = await this.accounts();
    throw new InputError(
      `${field}: unknown account ${JSON.stringify(account)} (known: ${known.length > 0 ? known.join(', ') : 'none'}; ` +
        'an account becomes known when its limits are stored: quant risk limits --account ID --set limits.json)',
      field,
    );
  }

  /**
   * Checks that an operator names an account the deployment knows and, when the account's limits
   * list its `strategies`, one of them: halting a misspelt strategy would leave the real one trading.
   * InputError lists the known ones.
   */
  async requireStrategy(account: string, strategy: string, field = '--strategy'): Promise<void> {
    await this.requireAccount(account);
    checkId(strategy, field);
    const item = await this.limitsItem(account);
    const known = parseRiskConfig(JSON.parse(String(item?.config)), `limits of ${account}`).strategies;
    if (!known || known.includes(strategy)) return;
    throw new InputError(
      `${field}: unknown strategy ${JSON.stringify(strategy)} of account ${account} (known: ${known.join(', ')}; ` +
        'the strategies an account runs are listed in its limits, "strategies")',
      field,
    );
  }

  /** The stored limits item of an account (a consistent read unless the caller caches it). */
  private async limitsItem(account: string, consistent = true) {
    const Key = { pk: limitsKey(account) };
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: consistent }));
    return r.Item;
  }

  /** Limits of an account, cached for the TTL. Missing limits are an error: no limits, no trading. */
  async getLimits(account: string): Promise<RiskConfig> {
    const hit = this.cache.get(account);
    if (hit && this.now() - hit.at < this.ttl) return hit.config;
    const item = await this.limitsItem(account, false);
    if (!item) throw new InputError(`no limits stored for account ${account}`, 'account');
    const config = parseRiskConfig(JSON.parse(String(item.config)), `limits of ${account}`);
    this.cache.set(account, { at: this.now(), config, version: Number(item.version) });
    return config;
  }

  /**
   * Takes one order slot of a strategy in the current clock second (a fixed one-second window),
   * atomically across concurrent executions: an ADD conditional on the count being below the
   * limit. Returns how many orders the window held before this one; when it is full nothing is
   * taken and the result is the limit, so the engine's `maxOrdersPerSecond` rule reports
   * limit + 1. Counter items expire through the table's TTL attribute `expiresAt`.
   */
  async takeOrderSlot(
    account: string,
    strategy: string,
    nowMs: number,
    maxPerSecond: number,
  ): Promise<number> {
    const max = Math.floor(maxPerSecond);
    if (max < 1) return max;
    const second = Math.floor(nowMs / 1000);
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: rateKey(account, strategy, second) },
          UpdateExpression: 'ADD #n :one SET expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(#n) OR #n < :max',
          ExpressionAttributeNames: { '#n': 'orders' },
          ExpressionAttributeValues: { ':one': 1, ':max': max, ':exp': second + 3600 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(r.Attributes?.orders ?? 1) - 1;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return max;
      throw err;
    }
  }
}
