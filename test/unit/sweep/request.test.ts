import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import { rankingQuery, validateSweepRequest } from '../../../src/sweep/request';
import { batchIdFor, checkPartitionValue } from '../../../src/sweep/results';
import { validatedSweepSchema, writeSweepManifest } from '../../../src/sweep/service';
import { runBatchTask, runtimeFromEnv } from '../../../src/sweep/task';

async function inputError(p: Promise<unknown> | (() => unknown)): Promise<InputError> {
  const e = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

const ok = { strategy: 'sma-cross', bars: 'lake:SPX', grid: ['fast=2:5', 'slow=10,20'] };

describe('validateSweepRequest', () => {
  it('normalises a request: sweep id, item count, ranking query', () => {
    const { sweep, items } = validateSweepRequest(ok);
    expect(items).toHaveLength(8);
    expect(sweep).toMatchObject({
      strategy: 'sma-cross',
      itemCount: 8,
      costBps: 0,
      topN: 10,
      rankBy: 'sharpe',
      where: null,
    });
    expect(sweep.sweepId).toMatch(/^sw-[0-9a-f]{12}$/);
    expect(sweep.rankingQuery).toContain(`sweep_id = '${sweep.sweepId}'`);
    expect(
      validateSweepRequest({ ...ok, grid: ['slow=10,20', 'fast=2:5'] })
        .items.map((i) => i.id)
        .sort(),
    ).toEqual(items.map((i) => i.id).sort());
  });

  it('rejects malformed requests naming the field', async () => {
    expect((await inputError(() => validateSweepRequest(null))).message).toMatch(/expected object/);
    expect((await inputError(() => validateSweepRequest({ ...ok, grid: 'fast=2:5' }))).field).toBe('grid');
    expect((await inputError(() => validateSweepRequest({ ...ok, costBps: '5' }))).field).toBe('costBps');
    expect((await inputError(() => validateSweepRequest({ ...ok, costBps: 1e9 }))).field).toBe('costBps');
    expect((await inputError(() => validateSweepRequest({ ...ok, extra: 1 }))).message).toMatch(/extra/);
    expect((await inputError(() => validateSweepRequest({ ...ok, topN: 0 }))).field).toBe('topN');
    expect((await inputError(() => validateSweepRequest({ ...ok, rankBy: 'vibes' }))).field).toBe('rankBy');
    expect((await inputError(() => validateSweepRequest({ ...ok, strategy: 'nope' }))).field).toBe(
      'strategy',
    );
    expect(
      (await inputError(() => validateSweepRequest({ ...ok, sweepId: "x'; DROP TABLE t; --" }))).field,
    ).toBe('sweepId');
    expect(
      (await inputError(() => validateSweepRequest({ ...ok, grid: ['fast=2:5', 'slow=1e308:1e308'] })))
        .message,
    ).toMatch(/grid point/);
  });

  it('accepts only lake sources when the sweep runs in AWS', async () => {
    const e = await inputError(() =>
      validateSweepRequest({ ...ok, bars: '/etc/passwd' }, { allowFileBars: false }),
    );
    expect(e.field).toBe('bars');
    expect(() => validateSweepRequest(ok, { allowFileBars: false })).not.toThrow();
  });

  it('builds ranking SQL only from safe identifiers', async () => {
    expect(rankingQuery('sma-cross', 'sw-1', 5, 'calmar')).toMatch(
      /ORDER BY calmar DESC NULLS LAST, total_return DESC NULLS LAST, param_set_id\nLIMIT 5$/,
    );
    expect((await inputError(() => rankingQuery("sma'--", 'sw-1', 5))).field).toBe('strategy');
    expect((await inputError(() => rankingQuery('s', 'sw-1', 1.5))).field).toBe('topN');
    expect(() => checkPartitionValue('sweepId', 'a'.repeat(65))).toThrow(InputError);
    expect(batchIdFor(['b', 'a'])).toBe(batchIdFor(['a', 'b']));
  });
});

describe('the batch task environment', () => {
  const env = {
    SWEEP_ID: 'sw-1',
    STRATEGY: 'sma-cross',
    BARS: 'x.csv',
    BATCH_ITEMS: '[{"id":"0123456789abcdef","params":{"fast":2,"slow":3}}]',
  };

  it('rejects a missing variable, truncated JSON, bad ids, bad costs and huge batches before doing any work', async () => {
    expect((await inputError(runBatchTask({ ...env, SWEEP_ID: undefined }))).message).toMatch(/SWEEP_ID/);
    expect(
      (await inputError(runBatchTask({ ...env, BATCH_ITEMS: env.BATCH_ITEMS.slice(0, 30) }))).field,
    ).toBe('BATCH_ITEMS');
    expect(
      (await inputError(runBatchTask({ ...env, BATCH_ITEMS: '[{"id":"zz","params":{}}]' }))).message,
    ).toMatch(/16 hex digits/);
    expect((await inputError(runBatchTask({ ...env, BATCH_ITEMS: '[]' }))).message).toMatch(/BATCH_ITEMS/);
    expect(
      (
        await inputError(
          runBatchTask({ ...env, BATCH_ITEMS: '[{"id":"0123456789abcdef","params":{"fast":"2"}}]' }),
        )
      ).field,
    ).toBe('BATCH_ITEMS');
    expect((await inputError(runBatchTask({ ...env, COST_BPS: '-1' }))).message).toMatch(/COST_BPS/);
    expect((await inputError(runBatchTask({ ...env, COST_BPS: 'abc' }))).message).toMatch(/COST_BPS/);
    const huge = JSON.stringify(
      Array.from({ length: 100_001 }, () => ({ id: '0123456789abcdef', params: {} })),
    );
    expect((await inputError(runBatchTask({ ...env, BATCH_ITEMS: huge }))).field).toBe('BATCH_ITEMS');
  });

  it('derives the runtime from the environment', () => {
    expect(runtimeFromEnv({ AWS_REGION: 'eu-west-1' })).toEqual({ mode: 'aws', region: 'eu-west-1' });
    const endpoints = {
      s3: 'http://127.0.0.1:1',
      kinesis: 'http://127.0.0.1:2',
      dynamodb: 'http://127.0.0.1:3',
    };
    expect(
      runtimeFromEnv({ QUANT_LOCAL_ENDPOINTS: JSON.stringify(endpoints), QUANT_DATA_DIR: '/d' }),
    ).toMatchObject({
      mode: 'local',
      endpoints,
      dataDir: '/d',
    });
    expect(() => runtimeFromEnv({ QUANT_LOCAL_ENDPOINTS: JSON.stringify(endpoints) })).toThrow(
      /QUANT_DATA_DIR/,
    );
  });
});

describe('lambda handlers', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    process.env.MAX_GRID_SIZE = '50';
    process.env.TOP_N = '7';
  });
  afterAll(() => {
    process.env = saved;
  });

  it('validate: returns the normalised sweep and fails malformed events with InputError', async () => {
    const { handler } = await import('../../../lambda/backtest-validate/index');
    const sweep = await handler(ok);
    expect(sweep).toMatchObject({ itemCount: 8, topN: 7 });
    const err = await handler({ ...ok, grid: ['fast=2:100', 'slow=2:100'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).name).toBe('InputError'); // the state machine catches this error name
    expect((err as Error).message).toMatch(/maximum grid size 50/);
    expect(await handler({ ...ok, bars: 'local.csv' }).catch((e: unknown) => (e as Error).message)).toMatch(
      /lake:SYMBOL/,
    );
  });

  it('manifest step: takes what the validate step returns, text parameters included', async () => {
    const { handler } = await import('../../../lambda/backtest-validate/index');
    const sweep = await handler({
      ...ok,
      strategy: 'ml-signal',
      grid: ['threshold=0,0.1'],
      params: { model: 'ml-signal@1' },
    });
    expect(sweep.params).toEqual({ model: 'ml-signal@1' });
    expect(validatedSweepSchema.parse(sweep)).toEqual(sweep);
    expect(() => validatedSweepSchema.parse({ ...sweep, params: { model: '1abc' } })).toThrow(
      /not a text value/,
    );
  });

  it('manifest step: rejects a hand-made input that skips validation, before touching S3', async () => {
    const target = { clients: {} as never, buckets: { results: 'unused' } as never };
    expect((await inputError(writeSweepManifest(target, { sweepId: 'x' }))).field).toBe('sweep');
  });
});
