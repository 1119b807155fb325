/**
 * `quant model list | show | approve | reject | rollback`: the model registry (local models bucket,
 * or SageMaker model package groups with --aws). Added to the `quant model` command (which also
 * holds `quant model predict`), creating it when it is not there yet.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { EVALUATION_FILE, MANIFEST_FILE } from '../../contract/ml';
import { DEFAULT_MODEL_NAME } from '../../contract/models';
import {
  approveAudited,
  auditSinkFor,
  checkModelName,
  parseEnvironment,
  parseModelRef,
  registryFor,
  rollbackAudited,
  type ModelVersion,
} from '../../ml/registry';
import { auditEvent } from '../../trading/audit';
import { withPlatform, type GlobalOptions, type PlatformContext } from '../context';
import { formatTable, printJson } from '../output';

interface JsonOpt {
  json?: boolean;
}

export const cliActor = (): string => `cli:${process.env.QUANT_ACTOR ?? os.userInfo().username}`;

/** The `model` command: found when another module registered it, created otherwise. */
export function modelCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'model') ??
    program.command('model').description('Models: inference, registry, approvals')
  );
}

async function withRegistry<T>(
  cmd: Command,
  fn: (ctx: PlatformContext, r: Awaited<ReturnType<typeof registryFor>>) => Promise<T>,
) {
  return withPlatform(cmd.optsWithGlobals<GlobalOptions>(), async (ctx) =>
    fn(ctx, await registryFor(ctx.runtime, ctx.clients.s3, ctx.buckets.models)),
  );
}

const row = (v: ModelVersion) => ({
  model: `${v.modelName}@${v.version}`,
  status: v.status,
  current: v.currentFor.join(' '),
  created: v.createdAt.slice(0, 19).replace('T', ' '),
  test_ic: v.metrics.test_ic ?? null,
  test_sharpe: v.metrics.test_sharpe ?? null,
});

export async function modelList(cmd: Command, opts: JsonOpt & { model?: string }): Promise<void> {
  const name = opts.model === undefined ? undefined : checkModelName(opts.model, '--model');
  await withRegistry(cmd, async (_ctx, registry) => {
    const versions = await registry.list(name);
    if (opts.json) return printJson({ registry: registry.kind, versions });
    process.stdout.write(
      versions.length === 0 ? 'no models registered\n' : `${formatTable(versions.map(row))}\n`,
    );
  });
}

export async function modelShow(cmd: Command, ref: string, opts: JsonOpt): Promise<void> {
  const { modelName, version } = parseModelRef(ref, 'model');
  await withRegistry(cmd, async (_ctx, registry) => {
    const v = await registry.get(modelName, version);
    const artifact = async (file: typeof MANIFEST_FILE | typeof EVALUATION_FILE) =>
      JSON.parse(new TextDecoder().decode(await registry.artifact(modelName, version, file)));
    const manifest = await artifact(MANIFEST_FILE);
    const evaluation = await artifact(EVALUATION_FILE);
    if (opts.json) return printJson({ ...v, manifest, evaluation });
    console.log(formatTable([row(v)]));
    console.log(`location: ${v.location}${v.packageArn ? `\npackage: ${v.packageArn}` : ''}`);
    console.log(`features: ${(manifest.features ?? []).join(', ')}`);
    console.log(
      `architecture ${manifest.architecture}, target ${manifest.target}, horizon ${manifest.horizon}, window ${manifest.window}`,
    );
    const g = evaluation.backtest?.gate;
    if (g) console.log(`gate: ${g.passed ? 'passed' : `failed (${g.reasons.join('; ')})`}`);
  });
}

export async function modelApprove(
  cmd: Command,
  ref: string,
  opts: JsonOpt & { env?: string },
): Promise<void> {
  const { modelName, version } = parseModelRef(ref, 'model');
  const env = parseEnvironment(opts.env);
  await withRegistry(cmd, async (ctx, registry) => {
    const audit = auditSinkFor(ctx.runtime, ctx.clients.s3, ctx.buckets.audit);
    const r = await approveAudited(registry, audit, modelName, version, env, cliActor());
    if (opts.json) return printJson(r);
    process.stdout.write(
      r.changed
        ? `${modelName}@${version} approved for ${env}${r.previous !== undefined ? ` (was ${r.previous})` : ''}\n`
        : `${modelName}@${version} is already the approved version for ${env}\n`,
    );
  });
}

export async function modelReject(cmd: Command, ref: string, opts: JsonOpt): Promise<void> {
  const { modelName, version } = parseModelRef(ref, 'model');
  await withRegistry(cmd, async (ctx, registry) => {
    const v = await registry.reject(modelName, version, cliActor());
    await auditSinkFor(ctx.runtime, ctx.clients.s3, ctx.buckets.audit).put([
      auditEvent(
        'model',
        { account: 'registry' },
        { action: 'reject', model: modelName, version, actor: cliActor() },
      ),
    ]);
    if (opts.json) return printJson(v);
    process.stdout.write(`${modelName}@${version} rejected\n`);
  });
}

export async function modelRollback(
  cmd: Command,
  opts: JsonOpt & { env?: string; model: string },
): Promise<void> {
  const env = parseEnvironment(opts.env);
  const name = checkModelName(opts.model, '--model');
  await withRegistry(cmd, async (ctx, registry) => {
    const audit = auditSinkFor(ctx.runtime, ctx.clients.s3, ctx.buckets.audit);
    const r = await rollbackAudited(registry, audit, name, env, cliActor());
    if (opts.json) return printJson(r);
    process.stdout.write(`${env}: ${name} rolled back from ${r.from} to ${r.to}\n`);
  });
}

export function registerModelRegistry(program: Command): void {
  const model = modelCommand(program);
  model
    .command('list')
    .description('Registered model versions: status and the environments each is current for')
    .option('--model <name>', 'only this model')
    .option('--json', 'print JSON')
    .action((opts: JsonOpt & { model?: string }, cmd: Command) => modelList(cmd, opts));
  model
    .command('show <model>')
    .description('One version (name@version): status, manifest, evaluation')
    .option('--json', 'print JSON')
    .action((ref: string, opts: JsonOpt, cmd: Command) => modelShow(cmd, ref, opts));
  model
    .command('approve <model>')
    .description(
      'Approve a version (name@version) for an environment; it becomes the one that environment trades',
    )
    .option('--env <env>', 'paper | staging | prod')
    .option('--json', 'print JSON')
    .action((ref: string, opts: JsonOpt & { env?: string }, cmd: Command) => modelApprove(cmd, ref, opts));
  model
    .command('reject <model>')
    .description('Reject a version (name@version) that no environment trades')
    .option('--json', 'print JSON')
    .action((ref: string, opts: JsonOpt, cmd: Command) => modelReject(cmd, ref, opts));
  model
    .command('rollback')
    .description('The previous approved version becomes current for the environment')
    .option('--env <env>', 'paper | staging | prod')
    .option('--model <name>', 'model name', DEFAULT_MODEL_NAME)
    .option('--json', 'print JSON')
    .action((opts: JsonOpt & { env?: string; model: string }, cmd: Command) => modelRollback(cmd, opts));
}
