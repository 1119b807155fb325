import { describe, expect, it } from 'vitest';
import {
  batchItems,
  localizeDefinition,
  resolveDefinitionString,
  runLocalStateMachine,
  StatesError,
  type Json,
  type TaskInfo,
} from '../../../src/local/stepfunctions';

/** The shape CDK synthesizes for a Distributed Map over an S3 manifest with an ItemBatcher. */
const definition = {
  StartAt: 'Prepare',
  States: {
    Prepare: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      ResultPath: '$.prepared',
      Next: 'Run batches',
    },
    'Run batches': {
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { Bucket: 'results', 'Key.$': '$.prepared.key' },
      },
      ItemBatcher: { MaxItemsPerBatch: 3, BatchInput: { 'run.$': '$.run' } },
      ToleratedFailurePercentage: 40,
      MaxConcurrency: 2,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'Work',
        States: {
          Work: {
            Type: 'Task',
            Resource: 'arn:aws:states:::ecs:runTask.sync',
            Retry: [
              {
                ErrorEquals: ['ECS.AmazonECSException'],
                IntervalSeconds: 30,
                MaxAttempts: 3,
                BackoffRate: 2,
              },
            ],
            End: true,
          },
        },
      },
      ResultPath: '$.mapped',
      Next: 'Done',
    },
    Done: { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true },
  },
};

interface Bindings {
  prepare?: (i: Json) => Json;
  work: (i: Json) => Json | Promise<Json>;
}

function run(
  def: object,
  bindings: Bindings,
  input: Json = { run: 'r1' },
  items: Json[] = [1, 2, 3, 4, 5, 6, 7],
) {
  const reads: Json[] = [];
  const calls: Array<{ name: string; input: Json }> = [];
  const resolveTask = (info: TaskInfo) => {
    if (info.stateName === 'Prepare') return (i: Json) => bindings.prepare?.(i) ?? { key: 'manifest.json' };
    if (info.stateName === 'Work')
      return (i: Json) => (calls.push({ name: 'Work', input: i }), bindings.work(i));
    if (info.stateName === 'Done') return (i: Json) => (calls.push({ name: 'Done', input: i }), i);
    return undefined;
  };
  const result = runLocalStateMachine({
    definition: def as never,
    input,
    resolveTask,
    readItems: async (r) => {
      reads.push(r.parameters);
      return items;
    },
  });
  return { result, reads, calls };
}

describe('localizeDefinition', () => {
  it('rewrites a DISTRIBUTED map into a reader task and an INLINE map, leaving others alone', () => {
    const local = localizeDefinition(definition as never);
    expect(local.States['Run batches'].Type).toBe('Task');
    expect(local.States['Run batches'].Next).toBe('Run batches (local inline map)');
    const map = local.States['Run batches (local inline map)'] as Record<string, unknown>;
    expect(map.Type).toBe('Map');
    expect(map.ResultPath).toBe('$.mapped');
    expect(map.Next).toBe('Done');
    expect(JSON.stringify(map)).not.toContain('DISTRIBUTED');
    expect(local.States.Prepare).toEqual(definition.States.Prepare);
    // The input is untouched.
    expect(definition.States['Run batches'].Type).toBe('Map');
  });
});

describe('runLocalStateMachine', () => {
  it('reads, batches with BatchInput, runs every batch and keeps the state data as in AWS', async () => {
    const { result, reads, calls } = run(definition, { work: (i) => ({ got: i }) });
    const { output, maps } = await result;
    expect(reads).toEqual([{ Bucket: 'results', Key: 'manifest.json' }]);
    const work = calls.filter((c) => c.name === 'Work').map((c) => c.input);
    expect(work).toEqual([
      { Items: [1, 2, 3], BatchInput: { run: 'r1' } },
      { Items: [4, 5, 6], BatchInput: { run: 'r1' } },
      { Items: [7], BatchInput: { run: 'r1' } },
    ]);
    expect(maps['Run batches']).toEqual({ batches: 3, items: 7, failed: 0, errors: [] });
    const out = output as Record<string, unknown>;
    expect(out.prepared).toEqual({ key: 'manifest.json' });
    expect((out.mapped as Json[]).length).toBe(3);
    expect(Object.keys(out).sort()).toEqual(['mapped', 'prepared', 'run']);
  });

  it('tolerates failed batches up to ToleratedFailurePercentage and records them', async () => {
    const { result } = run(definition, {
      work: (i) => {
        if ((i as { Items: number[] }).Items[0] === 4)
          throw new StatesError('States.TaskFailed', 'exit code 1');
        return 'ok';
      },
    });
    const { maps, output } = await result;
    expect(maps['Run batches'].failed).toBe(1);
    expect(maps['Run batches'].errors).toEqual([{ Error: 'States.TaskFailed', Cause: 'exit code 1' }]);
    expect((output as { mapped: Json[] }).mapped.filter((m) => m === 'ok')).toHaveLength(2);
  });

  it('fails the execution with States.ExceedToleratedFailureThreshold above the threshold', async () => {
    const { result } = run(definition, {
      work: (i) => {
        if ((i as { Items: number[] }).Items[0] !== 7) throw new StatesError('States.TaskFailed', 'boom');
        return 'ok';
      },
    });
    await expect(result).rejects.toMatchObject({ name: 'States.ExceedToleratedFailureThreshold' });
  });

  it('retries the errors the definition retries (with a short local delay)', async () => {
    let attempts = 0;
    const { result } = run(
      definition,
      {
        work: () => {
          attempts++;
          if (attempts === 1)
            throw new StatesError('ECS.AmazonECSException', 'Capacity is unavailable at this time');
          return 'ok';
        },
      },
      { run: 'r1' },
      [1],
    );
    const started = Date.now();
    const { maps } = await result;
    expect(attempts).toBe(2);
    expect(maps['Run batches'].failed).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000); // not the definition's 30 s backoff
  });

  it('refuses to run when a Task state has no local binding', async () => {
    await expect(
      runLocalStateMachine({ definition: definition as never, input: {}, resolveTask: () => undefined }),
    ).rejects.toThrow(/no local binding for Task state "Prepare"/);
  });
});

describe('resolveDefinitionString and batchItems', () => {
  it('resolves an Fn::Join definition with references to placeholders', () => {
    const def = resolveDefinitionString({
      'Fn::Join': [
        '',
        [
          '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:',
          { Ref: 'AWS::Partition' },
          ':states:::lambda:invoke","Parameters":{"FunctionName":"',
          { 'Fn::GetAtt': ['ValidateFnABC', 'Arn'] },
          '"},"End":true}}}',
        ],
      ],
    });
    expect(def.States.A.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((def.States.A.Parameters as Record<string, string>).FunctionName).toBe('local:ValidateFnABC.Arn');
    expect(() => resolveDefinitionString({ 'Fn::Sub': 'x' })).toThrow(
      /unsupported CloudFormation expression/,
    );
  });

  it('batches by item count and by bytes, and rejects an item larger than the byte limit', () => {
    expect(batchItems([1, 2, 3, 4, 5], 2, null)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batchItems(['aaaa', 'bbbb', 'cccc'], null, 16)).toEqual([['aaaa', 'bbbb'], ['cccc']]);
    expect(() => batchItems(['x'.repeat(100)], null, 16)).toThrow(/exceeds MaxInputBytesPerBatch/);
  });
});
