/**
 * Runs a Step Functions definition produced by `cdk synth` on this machine with
 * aws-local-stepfunctions (docs/architecture.md: one code path, two clouds).
 *
 * The library is an interpreter of the States Language, not an API server, and it lacks the
 * Distributed Map. Before running, `localizeDefinition` rewrites each DISTRIBUTED map into:
 *   1. a Task (same name as the map, so transitions into it still work) that evaluates the
 *      ItemReader parameters and the ItemBatcher's BatchInput, reads the items through a local
 *      reader and batches them (MaxItemsPerBatch / MaxInputBytesPerBatch), then
 *   2. an INLINE map over those batches whose iterations catch their own failures, so that
 *      ToleratedFailurePercentage / ToleratedFailureCount decide whether the map fails,
 *      as they do in AWS (error `States.ExceedToleratedFailureThreshold`).
 * Every Task state is bound to a local function by the caller (`resolveTask`); a Task without a
 * binding fails before anything runs, so nothing silently calls AWS.
 *
 * Generic: nothing here knows about backtests; other state machines reuse it with their own
 * task bindings.
 */
import { StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';

// aws-local-stepfunctions 3 targets Node 22; Node 20 lacks Promise.withResolvers.
if (typeof (Promise as unknown as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type State = Record<string, unknown> & { Type: string };
type Definition = { StartAt: string; States: Record<string, State>; [k: string]: unknown };

/** What a task binding is told about the state it runs. */
export interface TaskInfo {
  /** State name (unique across the definition, as CDK guarantees). */
  readonly stateName: string;
  /** The `Resource` field with CloudFormation references resolved to placeholders. */
  readonly resource: string;
}

export type LocalTaskHandler = (input: Json, info: TaskInfo) => Promise<Json> | Json;

/** Reads the items of a Distributed Map (ItemReader) locally. */
export type LocalItemReader = (reader: {
  readonly mapStateName: string;
  readonly resource: string;
  readonly readerConfig: Json;
  /** The ItemReader's Parameters after path evaluation (e.g. `{ Bucket, Key }`). */
  readonly parameters: Json;
}) => Promise<Json[]>;

/** An error with a States Language error name, so Retry/Catch match it (`ErrorEquals`). */
export class StatesError extends Error {
  constructor(errorName: string, message: string) {
    super(message);
    this.name = errorName;
  }
}

const LOCAL_READER_RESOURCE = 'arn:aws:states:::local:distributedMapReader';
const LOCAL_FAILURE_RESOURCE = 'arn:aws:states:::local:distributedMapItemFailed';
const MAP_SUFFIX = ' (local inline map)';
const ITEMS_CONTEXT_KEY = 'LocalDistributedMapItems';

/** Placeholder values for CloudFormation references inside a synthesized definition. */
export interface ReferenceValues {
  readonly partition?: string;
  readonly region?: string;
  readonly accountId?: string;
  /** Value for `Ref`/`Fn::GetAtt` of a logical id; default `local:<LogicalId>[.<Attr>]`. */
  readonly resolve?: (logicalId: string, attribute?: string) => string;
}

/**
 * Turns a synthesized `DefinitionString` (a string or an `Fn::Join` of strings and references)
 * into a definition object, replacing references with placeholders.
 */
export function resolveDefinitionString(definitionString: unknown, refs: ReferenceValues = {}): Definition {
  const part = (p: unknown): string => {
    if (typeof p === 'string') return p;
    if (p && typeof p === 'object') {
      const o = p as Record<string, unknown>;
      if (typeof o.Ref === 'string') {
        if (o.Ref === 'AWS::Partition') return refs.partition ?? 'aws';
        if (o.Ref === 'AWS::Region') return refs.region ?? 'us-east-1';
        if (o.Ref === 'AWS::AccountId') return refs.accountId ?? '000000000000';
        if (o.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
        return refs.resolve?.(o.Ref) ?? `local:${o.Ref}`;
      }
      if (Array.isArray(o['Fn::GetAtt'])) {
        const [id, attr] = o['Fn::GetAtt'] as [string, string];
        return refs.resolve?.(id, attr) ?? `local:${id}.${attr}`;
      }
      // Outputs of other stacks (subnets, buckets): placeholders, the local runner does not use them.
      const output = o['Fn::GetStackOutput'] as { OutputName?: string } | undefined;
      if (output?.OutputName) return `local:output:${output.OutputName}`;
      if (typeof o['Fn::ImportValue'] === 'string') return `local:import:${o['Fn::ImportValue']}`;
      if (Array.isArray(o['Fn::Join'])) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        return parts.map(part).join(sep);
      }
    }
    throw new Error(
      `unsupported CloudFormation expression in the state machine definition: ${JSON.stringify(p)}`,
    );
  };
  return JSON.parse(part(definitionString)) as Definition;
}

/** Calls `fn` for every state, nested maps and parallels included. */
export function walkStates(def: Definition, fn: (name: string, state: State) => void): void {
  for (const [name, state] of Object.entries(def.States)) {
    fn(name, state);
    const processor = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
    if (processor) walkStates(processor, fn);
    for (const b of (state.Branches as Definition[] | undefined) ?? []) walkStates(b, fn);
  }
}

/** Rewrites every DISTRIBUTED map into a local reader Task plus an INLINE map (see the file doc). */
export function localizeDefinition(input: Definition): Definition {
  const def = structuredClone(input);
  const rewrite = (d: Definition): void => {
    const states: Record<string, State> = {};
    for (const [name, state] of Object.entries(d.States)) {
      const processor = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
      if (processor) rewrite(processor);
      for (const b of (state.Branches as Definition[] | undefined) ?? []) rewrite(b);
      const config = (processor as { ProcessorConfig?: { Mode?: string } } | undefined)?.ProcessorConfig;
      if (state.Type !== 'Map' || config?.Mode !== 'DISTRIBUTED') {
        states[name] = state;
        continue;
      }
      if (state.ItemSelector && state.ItemBatcher) {
        throw new Error(
          `${name}: ItemSelector together with ItemBatcher is not supported by the local runner`,
        );
      }
      const { ProcessorConfig: _mode, ...inlineProcessor } = processor as Definition & {
        ProcessorConfig?: unknown;
      };
      const mapName = `${name}${MAP_SUFFIX}`;
      const batcher = (state.ItemBatcher ?? null) as Record<string, Json> | null;
      const reader = (state.ItemReader ?? null) as Record<string, Json> | null;
      const passThrough = <K extends string>(keys: readonly K[]) =>
        Object.fromEntries(keys.filter((k) => k in state).map((k) => [k, state[k]]));
      states[name] = {
        Type: 'Task',
        Resource: LOCAL_READER_RESOURCE,
        ...passThrough(['InputPath', 'Catch', 'Comment']),
        Parameters: {
          mapStateName: name,
          reader: reader ? { Resource: reader.Resource, ReaderConfig: reader.ReaderConfig ?? {} } : null,
          ...(reader?.Parameters ? { readerParameters: reader.Parameters } : {}),
          batcher: batcher
            ? {
                MaxItemsPerBatch: batcher.MaxItemsPerBatch ?? null,
                MaxInputBytesPerBatch: batcher.MaxInputBytesPerBatch ?? null,
              }
            : null,
          ...(batcher?.BatchInput ? { batchInput: batcher.BatchInput } : {}),
          ...(!reader ? { 'inlineItems.$': (state.ItemsPath as string | undefined) ?? '$' } : {}),
          tolerance: {
            percentage: (state.ToleratedFailurePercentage as number | undefined) ?? 0,
            count: (state.ToleratedFailureCount as number | undefined) ?? 0,
          },
        },
        // The items go to the execution context (not the state data), so later states see the
        // same input as in AWS.
        ResultPath: null,
        Next: mapName,
      };
      states[mapName] = {
        Type: 'Map',
        ...passThrough([
          'InputPath',
          'ResultSelector',
          'ResultPath',
          'OutputPath',
          'Retry',
          'Catch',
          'Next',
          'End',
        ]),
        ...(state.ItemSelector ? { ItemSelector: state.ItemSelector } : {}),
        ItemsPath: `$$.${ITEMS_CONTEXT_KEY}.${name.replace(/[^A-Za-z0-9_]/g, '_')}`,
        MaxConcurrency: (state.MaxConcurrency as number | undefined) ?? 0,
        ItemProcessor: {
          StartAt: 'Iteration',
          States: {
            Iteration: {
              Type: 'Parallel',
              Branches: [inlineProcessor],
              OutputPath: '$[0]',
              Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Iteration failed' }],
              End: true,
            },
            'Iteration failed': {
              Type: 'Task',
              Resource: LOCAL_FAILURE_RESOURCE,
              Parameters: { mapStateName: name, 'Error.$': '$.Error', 'Cause.$': '$.Cause' },
              End: true,
            },
          },
        },
      };
    }
    d.States = states;
  };
  rewrite(def);
  return def;
}

/** Splits items like an ItemBatcher: at most `maxItems` per batch and `maxBytes` of JSON. */
export function batchItems(
  items: readonly Json[],
  maxItems: number | null,
  maxBytes: number | null,
): Json[][] {
  const out: Json[][] = [];
  let cur: Json[] = [];
  let bytes = 2;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    const full =
      (maxItems !== null && cur.length >= maxItems) ||
      (maxBytes !== null && cur.length > 0 && bytes + size > maxBytes);
    if (full) {
      out.push(cur);
      cur = [];
      bytes = 2;
    }
    if (maxBytes !== null && size + 2 > maxBytes) {
      throw new StatesError(
        'States.ItemReaderFailed',
        `an item of ${size} bytes exceeds MaxInputBytesPerBatch ${maxBytes}`,
      );
    }
    cur.push(item);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export interface RunLocalStateMachineOptions {
  /** The definition: an object, a JSON string, or a synthesized DefinitionString (`Fn::Join`). */
  readonly definition: Definition | string | Record<string, unknown>;
  readonly input: Json;
  /** Binds each Task state to a local function; undefined = unsupported (fails before running). */
  readonly resolveTask: (info: TaskInfo) => LocalTaskHandler | undefined;
  /** Reads Distributed Map items (ItemReader). Required when a map has an ItemReader. */
  readonly readItems?: LocalItemReader;
  /** Delay between retries locally instead of the definition's backoff. @default 20 */
  readonly retryDelayMs?: number;
  /** Receives every execution event (state entered/exited/failed/retried, map iterations). */
  readonly onEvent?: (event: { type: string; state?: { name: string }; [k: string]: unknown }) => void;
  readonly references?: ReferenceValues;
  /**
   * Local tuning of Distributed Maps (a laptop is not a fleet): cap concurrent iterations and
   * batch size below what the definition says. @default the definition's values
   */
  readonly mapOverrides?: { readonly maxConcurrency?: number; readonly maxItemsPerBatch?: number };
}

export interface LocalExecutionResult {
  readonly output: Json;
  /** Per Distributed Map state: item batches run and how many of them failed. */
  readonly maps: Record<
    string,
    { batches: number; items: number; failed: number; errors: Array<{ Error: string; Cause: string }> }
  >;
}

function toDefinition(d: RunLocalStateMachineOptions['definition'], refs?: ReferenceValues): Definition {
  if (typeof d === 'string') return JSON.parse(d) as Definition;
  if ('States' in d && 'StartAt' in d) return d as Definition;
  return resolveDefinitionString(d, refs);
}

/** Runs a (synthesized) definition locally and returns its output; throws on execution failure. */
export async function runLocalStateMachine(opts: RunLocalStateMachineOptions): Promise<LocalExecutionResult> {
  const def = localizeDefinition(toDefinition(opts.definition, opts.references));
  const over = opts.mapOverrides;
  if (over) {
    walkStates(def, (_name, state) => {
      if (state.Type === 'Map' && over.maxConcurrency !== undefined) {
        const cur = (state.MaxConcurrency as number | undefined) ?? 0;
        state.MaxConcurrency = cur === 0 ? over.maxConcurrency : Math.min(cur, over.maxConcurrency);
      }
      const batcher = (state.Parameters as { batcher?: { MaxItemsPerBatch: number | null } } | undefined)
        ?.batcher;
      if (state.Resource === LOCAL_READER_RESOURCE && batcher && over.maxItemsPerBatch !== undefined) {
        batcher.MaxItemsPerBatch = Math.min(batcher.MaxItemsPerBatch ?? Infinity, over.maxItemsPerBatch);
      }
    });
  }
  const items: Record<string, Json[]> = {};
  const maps: Record<
    string,
    LocalExecutionResult['maps'][string] & { tolerance: { percentage: number; count: number } }
  > = {};
  const handlers: Record<string, (input: unknown) => Promise<Json>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const seen = new Map<string, string>();

  walkStates(def, (name, state) => {
    if (Array.isArray(state.Retry)) retryIntervalOverrides[name] = opts.retryDelayMs ?? 20;
    if (state.Type !== 'Task') return;
    const resource = String(state.Resource);
    const prev = seen.get(name);
    if (prev !== undefined && prev !== resource)
      throw new Error(`state name "${name}" is used twice with different resources`);
    seen.set(name, resource);
    if (resource === LOCAL_READER_RESOURCE) {
      handlers[name] = async (raw) => {
        const p = raw as {
          mapStateName: string;
          reader: { Resource: string; ReaderConfig: Json } | null;
          readerParameters?: Json;
          batcher: { MaxItemsPerBatch: number | null; MaxInputBytesPerBatch: number | null } | null;
          batchInput?: Json;
          inlineItems?: Json;
          tolerance: { percentage: number; count: number };
        };
        let list: Json[];
        if (p.reader) {
          if (!opts.readItems) throw new Error(`${p.mapStateName}: an ItemReader needs the readItems option`);
          list = await opts.readItems({
            mapStateName: p.mapStateName,
            resource: p.reader.Resource,
            readerConfig: p.reader.ReaderConfig,
            parameters: p.readerParameters ?? null,
          });
        } else {
          if (!Array.isArray(p.inlineItems))
            throw new StatesError('States.Runtime', `${p.mapStateName}: items are not an array`);
          list = p.inlineItems;
        }
        const batched: Json[] = p.batcher
          ? batchItems(list, p.batcher.MaxItemsPerBatch, p.batcher.MaxInputBytesPerBatch).map((b) => ({
              Items: b,
              ...(p.batchInput !== undefined ? { BatchInput: p.batchInput } : {}),
            }))
          : list;
        items[p.mapStateName.replace(/[^A-Za-z0-9_]/g, '_')] = batched;
        maps[p.mapStateName] = {
          batches: batched.length,
          items: list.length,
          failed: 0,
          errors: [],
          tolerance: p.tolerance,
        };
        return null;
      };
      return;
    }
    if (resource === LOCAL_FAILURE_RESOURCE) {
      handlers[name] = async (raw) => {
        const p = raw as { mapStateName: string; Error: string; Cause: string };
        const m = maps[p.mapStateName];
        m.failed++;
        m.errors.push({ Error: p.Error, Cause: p.Cause });
        const allowedByPct = (m.failed / Math.max(1, m.batches)) * 100 <= m.tolerance.percentage;
        const allowedByCount = m.failed <= m.tolerance.count;
        if (!allowedByPct && !allowedByCount) {
          throw new StatesError(
            'States.ExceedToleratedFailureThreshold',
            `${p.mapStateName}: ${m.failed} of ${m.batches} iterations failed, above the tolerated failure threshold (last: ${p.Error}: ${p.Cause})`,
          );
        }
        return { Error: p.Error, Cause: p.Cause, localMapIterationFailed: true };
      };
      return;
    }
    const info: TaskInfo = { stateName: name, resource };
    const handler = opts.resolveTask(info);
    if (!handler) throw new Error(`no local binding for Task state "${name}" (resource ${resource})`);
    handlers[name] = async (input) => handler(input as Json, info);
  });

  const machine = new StateMachine(def as unknown as StateMachineDefinition, {
    validationOptions: { checkArn: false, checkPaths: true },
  });
  const runOptions: RunOptions = {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
    context: { [ITEMS_CONTEXT_KEY]: items } as never,
  };
  const execution = machine.run(opts.input as never, runOptions);
  const logging = opts.onEvent
    ? (async () => {
        for await (const e of execution.eventLogs) opts.onEvent!(e as never);
      })()
    : Promise.resolve();
  try {
    const output = (await execution.result) as Json;
    await logging;
    const publicMaps = Object.fromEntries(
      Object.entries(maps).map(([k, { tolerance: _t, ...rest }]) => [k, rest]),
    );
    return { output, maps: publicMaps };
  } catch (err) {
    // ExecutionError wraps the state's error in `cause`: surface its States error name.
    const cause = (err as { cause?: Error }).cause;
    if (cause instanceof Error) throw new StatesError(cause.name, cause.message);
    throw err;
  }
}
