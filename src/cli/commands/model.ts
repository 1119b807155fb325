/**
 * `quant model ...`: `predict` runs any ONNX model with one 2-D float input over a CSV of rows.
 * Other sub-commands (the registry's) are added to the same command through `modelCommand`.
 */
import type { Command } from 'commander';
import { InputError } from '../../errors';
import { printJson } from '../output';

export interface PredictOptions {
  readonly onnx?: string;
  readonly input?: string;
  readonly json?: boolean;
}

/** The `model` command of the program, created on first use (so several modules can add sub-commands). */
export function modelCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'model') ??
    program.command('model').description('ONNX models: predict over a CSV of rows; the model registry')
  );
}

/** `quant model predict --onnx <model.onnx> --input <rows.csv> [--json]`. */
export async function modelPredict(opts: PredictOptions): Promise<void> {
  if (!opts.onnx) throw new InputError('--onnx: required (path of an ONNX model)', 'onnx');
  if (!opts.input)
    throw new InputError('--input: required (CSV with a header and one column per input value)', 'input');
  const { predictCsv } = await import('../../ml/predict');
  const r = await predictCsv(opts.onnx, opts.input);
  if (opts.json) {
    printJson({ outputs: r.outputs });
    return;
  }
  process.stdout.write(
    `${r.outputs.length} rows through input "${r.input.name}" (${r.input.columns} columns), output "${r.output}":\n`,
  );
  for (const row of r.outputs) process.stdout.write(`${row.join(',')}\n`);
}

export function registerModel(program: Command): void {
  modelCommand(program)
    .command('predict')
    .description("run an ONNX model (one 2-D float input [N, F]) over a CSV's rows; prints its first output")
    .option('--onnx <file>', 'the ONNX model')
    .option(
      '--input <file>',
      'CSV: a header, then one row per input row, one column per input value, in order',
    )
    .option('--json', 'print {"outputs": [[...], ...]}')
    .action(async (opts: PredictOptions) => modelPredict(opts));
}
