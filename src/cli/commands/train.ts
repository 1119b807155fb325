/**
 * `quant train --local | --remote`: the training workflow on this machine (features → training
 * script → evaluation → local registry) or the deployed state machine.
 */
import type { Command } from 'commander';
import { FEATURE_NAMES, OPTIONAL_FEATURES } from '../../contract/ml';
import { InputError } from '../../errors';
import { modelStrategyFor } from '../../ml/model-strategy';
import { registryFor } from '../../ml/registry';
import { parseBarsSource } from '../../ml/workflow/features-step';
import { runLocalTraining } from '../../ml/workflow/local';
import { checkPython, PythonMissingError } from '../../ml/workflow/python';
import { startRemoteTraining, stateMachineArnOf } from '../../ml/workflow/remote';
import { dataDirOf, withPlatform, type GlobalOptions } from '../context';
import { formatTable, printJson } from '../output';
import { cliActor } from './model-registry';
import { int, oneOf } from '../options';

export interface TrainOpts {
  local?: boolean;
  remote?: boolean;
  model: string;
  bars?: string;
  from?: string;
  to?: string;
  features?: string;
  accelerator: string;
  out?: string;
  epochs?: string;
  seed?: string;
  stateMachine?: string;
  json?: boolean;
}

const MODELS = ['mlp', 'seq'] as const;

function checkOpts(opts: TrainOpts) {
  if (opts.local === opts.remote)
    throw new InputError(
      'train: give exactly one of --local and --remote',
      opts.local ? '--remote' : '--local',
    );
  const model = oneOf(opts.model, '--model', MODELS);
  if (opts.local && opts.accelerator !== 'cpu')
    throw new InputError(
      `--accelerator: "${opts.accelerator}": only cpu runs locally (GPU and Trainium run with --remote on SageMaker)`,
      '--accelerator',
    );
  if (opts.remote && opts.bars !== undefined)
    throw new InputError(
      "--bars: --remote trains on the stage's universe (config training.symbols); use --from/--to for the window",
      '--bars',
    );
  const hps: Record<string, number | string> = {};
  for (const [k, v] of [
    ['from', opts.from],
    ['to', opts.to],
  ] as const) {
    if (v === undefined) continue;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v)
      throw new InputError(`--${k}: "${v}" is not a date yyyy-mm-dd`, `--${k}`);
    hps[k === 'from' ? 'data_from' : 'data_to'] = v;
  }
  if (opts.from && opts.to && opts.from > opts.to)
    throw new InputError(`--from: ${opts.from} is after --to ${opts.to}`, '--from');
  if (opts.features !== undefined) {
    const list = opts.features.split(',').map((f) => f.trim());
    const known: readonly string[] = [...FEATURE_NAMES, ...OPTIONAL_FEATURES];
    const unknown = list.find((f) => !known.includes(f));
    if (unknown !== undefined || list.length === 0)
      throw new InputError(
        `--features: "${unknown ?? ''}" is not a feature (known: ${known.join(', ')})`,
        '--features',
      );
    if (new Set(list).size !== list.length)
      throw new InputError('--features: a feature is listed twice', '--features');
    // With --remote, the deployed machine's feature set decides (src/ml/workflow/remote.ts).
    hps.features = list.join(',');
  }
  for (const [k, v] of [
    ['epochs', opts.epochs],
    ['seed', opts.seed],
  ] as const) {
    if (v !== undefined) hps[k] = int(v, `--${k}`, { min: k === 'epochs' ? 1 : 0 });
  }
  return { model, bars: parseBarsSource(opts.bars ?? 'lake:SPX'), hps };
}

export async function trainCommand(cmd: Command, opts: TrainOpts): Promise<void> {
  const { model, bars, hps } = checkOpts(opts);
  const global = cmd.optsWithGlobals<GlobalOptions>();
  if (opts.remote) {
    const arn = stateMachineArnOf(opts.stateMachine);
    return withPlatform({ ...global, aws: true }, async (ctx) => {
      const r = await startRemoteTraining(ctx.clients.sfn, arn, {
        requestedBy: cliActor(),
        hyperparameters: { ...hps, model },
      });
      if (opts.json) return printJson(r);
      process.stdout.write(`started ${r.executionArn}\n`);
    });
  }
  // Before starting anything: say exactly what is missing (exit 2).
  const python = await checkPython();
  if (!python.ok) throw new PythonMissingError(python);
  await withPlatform(global, async (ctx) => {
    if (ctx.runtime.mode !== 'local')
      throw new InputError('train --local: runs on the local cloud only (drop --aws)', '--aws');
    const registry = await registryFor(ctx.runtime, ctx.clients.s3, ctx.buckets.models);
    const r = await runLocalTraining(
      {
        runtime: ctx.runtime,
        query: await ctx.query(),
        registry,
        modelStrategy: modelStrategyFor(ctx.runtime),
      },
      {
        dataDir: dataDirOf(global),
        bars,
        model,
        accelerator: 'cpu',
        out: opts.out,
        hyperparameters: hps,
        python: python.python,
        actor: cliActor(),
        // Progress on stderr: stdout stays one JSON document with --json.
        onLine: (l) => process.stderr.write(`  ${l}\n`),
      },
    );
    if (opts.json) return printJson(r);
    console.log(
      `job ${r.job}: ${r.features.labelled} labelled rows of ${r.features.symbols.join(', ')}; trained in ${r.training.seconds.toFixed(1)} s`,
    );
    console.log(`model files: ${r.outDir}`);
    const e = r.evaluation;
    console.log(`held-out ${e.window.from}..${e.window.to} (${e.window.bars} bars), IC ${e.ic.toFixed(4)}`);
    console.log(
      formatTable(
        [e.candidate, ...(e.champion ? [e.champion] : []), e.baseline].map((s) => ({
          run: s.label,
          sharpe: Number(s.sharpe.toFixed(3)),
          totalReturn: `${(s.totalReturn * 100).toFixed(2)}%`,
          maxDrawdown: `${(s.maxDrawdown * 100).toFixed(2)}%`,
          trades: s.trades,
        })),
      ),
    );
    console.log(`gate: ${e.gate.passed ? 'passed' : `failed (${e.gate.reasons.join('; ')})`}`);
    if (r.registered)
      console.log(
        `registered ${r.registered.modelName}@${r.registered.version} (${r.registered.status})${r.registered.created ? '' : ' (same model.onnx as before)'}`,
      );
  });
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(
      'Train a model: --local (training script on CPU, evaluation, local registry) or --remote (the deployed state machine)',
    )
    .option('--local', 'run the training workflow on this machine')
    .option('--remote', 'start the deployed training state machine')
    .option('--model <arch>', 'mlp | seq', 'mlp')
    .option('--bars <source>', 'lake:SYM1,SYM2 or a bars CSV/Parquet file (--local; default lake:SPX)')
    .option('--from <date>', 'training window: first bar date of the samples (yyyy-mm-dd)')
    .option('--to <date>', 'training window: last bar date of the samples (yyyy-mm-dd)')
    .option(
      '--features <list>',
      'the features to train on, comma-separated (default: the whole feature set; news_sentiment_1d adds the daily news sentiment from the lake)',
    )
    .option('--accelerator <kind>', 'cpu locally (GPU / Trainium with --remote come from config)', 'cpu')
    .option('--out <dir>', 'also copy model.onnx, manifest.json and evaluation.json here')
    .option('--epochs <n>', 'training epochs (default: the script’s)')
    .option('--seed <n>', 'random seed (default: the script’s)')
    .option('--state-machine <arn>', `training state machine (--remote; default $TRAINING_STATE_MACHINE_ARN)`)
    .option('--json', 'print the result as JSON')
    .action((opts: TrainOpts, cmd: Command) => trainCommand(cmd, opts));
}
