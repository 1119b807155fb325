/**
 * Athena cannot run here, so its API is stubbed at the SDK boundary; what is tested is our side:
 * polling with backoff, paging, the header row, type conversion and error text.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { AthenaQueryEngine, QueryError } from '../../../src/lake/query';

function stubAthena(states: string[], pages: unknown[], reason?: string) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  let poll = 0;
  let page = 0;
  const client = {
    async send(cmd: { input: Record<string, unknown> }) {
      calls.push({ name: cmd.constructor.name, input: cmd.input });
      if (cmd instanceof StartQueryExecutionCommand) return { QueryExecutionId: 'q-1' };
      if (cmd instanceof GetQueryExecutionCommand) {
        const state = states[Math.min(poll++, states.length - 1)];
        return { QueryExecution: { Status: { State: state, StateChangeReason: reason } } };
      }
      if (cmd instanceof GetQueryResultsCommand) return pages[page++];
      throw new Error('unexpected command');
    },
  } as unknown as AthenaClient;
  return { client, calls };
}

const meta = {
  ColumnInfo: [
    { Name: 'symbol', Type: 'varchar' },
    { Name: 'n', Type: 'bigint' },
    { Name: 'close', Type: 'double' },
    { Name: 'ts', Type: 'timestamp' },
  ],
};

describe('AthenaQueryEngine', () => {
  it('polls with growing delays, skips the header row and pages through results', async () => {
    const { client, calls } = stubAthena(
      ['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED'],
      [
        {
          ResultSet: {
            ResultSetMetadata: meta,
            Rows: [
              {
                Data: [
                  { VarCharValue: 'symbol' },
                  { VarCharValue: 'n' },
                  { VarCharValue: 'close' },
                  { VarCharValue: 'ts' },
                ],
              },
              {
                Data: [
                  { VarCharValue: 'SPY' },
                  { VarCharValue: '2520' },
                  { VarCharValue: '651.39' },
                  { VarCharValue: '2024-08-29 00:00:00.000' },
                ],
              },
            ],
          },
          NextToken: 't2',
        },
        {
          ResultSet: {
            ResultSetMetadata: meta,
            Rows: [
              {
                Data: [
                  { VarCharValue: 'AGG' },
                  { VarCharValue: '9007199254740993' },
                  {},
                  { VarCharValue: '2024-08-29 00:00:00.000' },
                ],
              },
            ],
          },
        },
      ],
    );
    const sleeps: number[] = [];
    const engine = new AthenaQueryEngine(client, {
      workgroup: 'wg',
      database: 'db',
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const rows = await engine.query('SELECT 1');
    expect(sleeps).toEqual([200, 400, 800]);
    expect(rows).toEqual([
      { symbol: 'SPY', n: 2520, close: 651.39, ts: new Date('2024-08-29T00:00:00.000Z') },
      { symbol: 'AGG', n: 9007199254740993n, close: null, ts: new Date('2024-08-29T00:00:00.000Z') },
    ]);
    expect(calls[0].input).toMatchObject({ WorkGroup: 'wg', QueryExecutionContext: { Database: 'db' } });
    expect(calls.filter((c) => c.name === 'GetQueryResultsCommand').map((c) => c.input.NextToken)).toEqual([
      undefined,
      't2',
    ]);
  });

  it('fails with the reason Athena gives', async () => {
    const { client } = stubAthena(
      ['RUNNING', 'FAILED'],
      [],
      "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved",
    );
    const engine = new AthenaQueryEngine(client, { workgroup: 'wg', database: 'db', sleep: async () => {} });
    const err = await engine.query('SELECT x FROM bars').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toBe(
      "Athena query q-1 failed: COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved",
    );
    expect((err as QueryError).sql).toBe('SELECT x FROM bars');
  });

  it('gives up after its timeout', async () => {
    const { client } = stubAthena(['RUNNING'], []);
    const engine = new AthenaQueryEngine(client, {
      workgroup: 'wg',
      database: 'db',
      timeoutMs: -1,
      sleep: async () => {},
    });
    await expect(engine.query('SELECT 1')).rejects.toThrow(
      'Athena query q-1 still RUNNING after the timeout',
    );
  });
});
