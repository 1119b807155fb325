/**
 * The features step of the synthesized training state machine on the local Step Functions runner:
 * the job name the Pass state builds with intrinsic functions and the escaped UNLOAD statement come
 * out as Athena would receive them (no Python needed; the whole run is test/ml-python).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dev } from '../../../lib/config';
import { TRAINING_STATES } from '../../../src/contract/training';
import { loadSynthesizedDefinition } from '../../../src/local/definitions';
import { runLocalStateMachine, type Json } from '../../../src/local/stepfunctions';
import { featureSql } from '../../../src/ml/features/sql';
import { athenaSelectToDuckDb, parseUnload } from '../../../src/ml/local-training-machine';

type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };
let definition: Definition;

beforeAll(async () => {
  definition = (await loadSynthesizedDefinition({ env: 'dev', stack: 'Training' })) as unknown as Definition;
});

describe('training state machine: prepare and features, locally', () => {
  it('names the run <model>-<8 hex> and sends Athena the generator’s UNLOAD into that run’s prefix', async () => {
    // Only the states up to the features step, which ends the run.
    const keep = [
      TRAINING_STATES.readRequest,
      TRAINING_STATES.noRequest,
      TRAINING_STATES.prepare,
      TRAINING_STATES.features,
    ];
    const def: Definition = {
      StartAt: definition.StartAt,
      States: Object.fromEntries(keep.map((n) => [n, structuredClone(definition.States[n])])),
    };
    const f = def.States[TRAINING_STATES.features];
    delete f.Next;
    f.End = true;
    const queries: string[] = [];
    const r = await runLocalStateMachine({
      definition: def as never,
      input: { trigger: 'test' },
      resolveTask: (info) =>
        info.stateName === TRAINING_STATES.features
          ? (input: Json) => {
              queries.push(String((input as { QueryString: string }).QueryString));
              return { QueryExecution: { QueryExecutionId: 'q1' } };
            }
          : undefined,
    });
    const jobName = (r.output as { run: { jobName: string } }).run.jobName;
    expect(jobName).toMatch(/^ml-signal-[0-9a-f]{8}$/);
    expect(queries).toHaveLength(1);
    const { select, destination } = parseUnload(queries[0]);
    expect(destination).toMatch(
      new RegExp(`^s3://local:output:\\w*ModelsBucket\\w*/models/features/${jobName}/$`),
    );
    const t = dev.training;
    expect(select).toBe(
      featureSql({
        symbols: t.symbols,
        horizon: t.horizon,
        from: t.fromDate,
        table: 'bars',
        dialect: 'athena',
      }),
    );
    // Locally the same SELECT runs on DuckDB with the timestamp left as it is.
    expect(athenaSelectToDuckDb(select)).toBe(
      featureSql({
        symbols: t.symbols,
        horizon: t.horizon,
        from: t.fromDate,
        table: 'bars',
        dialect: 'duckdb',
      }),
    );
  });

  it('rejects a statement that is not the features UNLOAD', () => {
    expect(() => parseUnload('SELECT 1')).toThrow(/not an UNLOAD statement/);
  });
});
