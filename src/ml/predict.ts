/**
 * `quant model predict`: any ONNX model with one 2-D float input [N, F] over the rows of a CSV
 * (a header, then one column per input element, in order); the model's first output per row.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { splitCsvLine } from '../csv';
import { InputError } from '../errors';
import { openModel, readModelFile, runBatches, single2dFloatInput } from './inference/session';

export interface PredictResult {
  /** The first output, one array per input row. */
  readonly outputs: number[][];
  readonly input: { readonly name: string; readonly columns: number };
  readonly output: string;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses the rows CSV into a float32 matrix; InputError naming row, column and problem. */
export function readRowsCsv(
  file: string,
  width: number | null,
  inputName: string,
): { data: Float32Array; rows: number; columns: number } {
  const name = path.basename(file);
  if (!existsSync(file)) throw new InputError(`--input: file not found: ${file}`, 'input');
  if (!statSync(file).isFile()) throw new InputError(`--input: not a file: ${file}`, 'input');
  const lines = readFileSync(file, 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new InputError(`--input: ${name} is empty (a header row is needed)`, 'input');
  const header = splitCsvLine(lines[0]);
  const columns = header.length;
  if (width !== null && columns !== width)
    throw new InputError(
      `--input: ${name} has ${columns} columns; the model's input "${inputName}" takes ${width} per row`,
      'input',
    );
  const rows = lines.length - 1;
  const data = new Float32Array(rows * columns);
  for (let i = 1; i < lines.length; i++) {
    const row = i; // data row number, 1-based (line i + 1 of the file)
    const cells = splitCsvLine(lines[i]);
    if (cells.length !== columns)
      throw new InputError(
        `--input: ${name} row ${row} (line ${i + 1}): expected ${columns} columns, got ${cells.length}`,
        `input:${row}`,
      );
    for (let j = 0; j < columns; j++) {
      const cell = cells[j].trim();
      const at = `row ${row} (line ${i + 1}), column ${j + 1} ("${header[j].trim()}")`;
      if (!NUMBER_RE.test(cell))
        throw new InputError(
          `--input: ${name} ${at}: ${cell === '' ? 'empty' : `not a finite number "${cell}"`}`,
          `input:${row}:${j + 1}`,
        );
      const v = Number(cell);
      if (!Number.isFinite(Math.fround(v)))
        throw new InputError(
          `--input: ${name} ${at}: ${cell} is out of float32 range`,
          `input:${row}:${j + 1}`,
        );
      data[(i - 1) * columns + j] = v;
    }
  }
  return { data, rows, columns };
}

/** Runs the model at `onnxFile` over the rows of `csvFile`. */
export async function predictCsv(onnxFile: string, csvFile: string): Promise<PredictResult> {
  const bytes = readModelFile(onnxFile, '--onnx');
  const model = await openModel(bytes, '--onnx');
  const input = single2dFloatInput(model, '--onnx');
  const { data, rows, columns } = readRowsCsv(csvFile, input.width, input.name);
  const out = await runBatches(model, input.name, data, rows, columns);
  const outputs: number[][] = [];
  for (let r = 0; r < rows; r++)
    outputs.push(Array.from(out.values.subarray(r * out.width, (r + 1) * out.width)));
  await model.session.release();
  return { outputs, input: { name: input.name, columns }, output: model.outputs[0].name };
}
