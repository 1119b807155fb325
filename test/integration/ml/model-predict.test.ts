import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildOnnxModel,
  mlpModel,
  mlpReference,
  ONNX_INT64,
  randomMlp,
} from '../../../src/ml/inference/onnx-builder';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'model-predict-'));
const file = (name: string, content: string | Uint8Array): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

const mlp = randomMlp([4, 8, 1], 5);
const mlpFile = file('mlp.onnx', mlpModel(mlp));
const rows = [
  [0.01, -0.02, 0.5, 1.2],
  [0, 0, 0, 0],
  [-0.03, 0.04, 0.25, 0.8],
];
const csv = (header: string, body: readonly (readonly (number | string)[])[]): string =>
  `${header}\n${body.map((r) => r.join(',')).join('\n')}\n`;
const rowsFile = file('rows.csv', csv('a,b,c,d', rows));

async function predict(onnx: string, input: string) {
  const r = await runQuant(['model', 'predict', '--onnx', onnx, '--input', input, '--json']);
  return { ...r, json: r.code === 0 ? (JSON.parse(r.out) as { outputs: number[][] }) : undefined };
}

describe('quant model predict', () => {
  it('prints the first output per row, equal to the float64 reference within 1e-5', async () => {
    const r = await predict(mlpFile, rowsFile);
    expect(r.code, r.err).toBe(0);
    expect(Object.keys(r.json!)).toEqual(['outputs']);
    expect(r.json!.outputs).toHaveLength(3);
    r.json!.outputs.forEach((out, i) => {
      expect(out).toHaveLength(1);
      expect(Math.abs(out[0] - mlpReference(mlp, rows[i])[0])).toBeLessThan(1e-5);
    });
  });

  it('works for any model with one 2-D float input: other names, several outputs, a symbolic width', async () => {
    const wide = randomMlp([3, 5, 3], 9);
    const other = file('other.onnx', mlpModel(wide, { input: 'x', output: 'y', normalise: false }));
    const r = await predict(
      other,
      file(
        'three.csv',
        csv('p,q,r', [
          [1, 2, 3],
          [-1, 0.5, 2],
        ]),
      ),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.json!.outputs[1]).toHaveLength(3);
    r.json!.outputs[1].forEach((v, j) =>
      expect(Math.abs(v - mlpReference(wide, [-1, 0.5, 2], false)[j])).toBeLessThan(1e-5),
    );
    // Relu over [N, F] with F symbolic: the CSV's header decides the width.
    const relu = file(
      'relu.onnx',
      buildOnnxModel({
        inputs: [{ name: 'in', shape: ['N', 'F'] }],
        outputs: [{ name: 'out', shape: ['N', 'F'] }],
        nodes: [{ op: 'Relu', inputs: ['in'], outputs: ['out'] }],
      }),
    );
    const r2 = await predict(relu, file('five.csv', csv('a,b,c,d,e', [[1, -2, 3, -4, 0.5]])));
    expect(r2.json).toEqual({ outputs: [[1, 0, 3, 0, 0.5]] });
    // No data rows: no outputs.
    const r3 = await predict(mlpFile, file('header-only.csv', 'a,b,c,d\n'));
    expect(r3.json).toEqual({ outputs: [] });
  });

  const bad: [string, () => [string, string], RegExp][] = [
    [
      'header with the wrong column count',
      () => [mlpFile, file('b1.csv', csv('a,b,c', [[1, 2, 3]]))],
      /has 3 columns; the model's input "features" takes 4/,
    ],
    [
      'a row with the wrong column count',
      () => [
        mlpFile,
        file(
          'b2.csv',
          csv('a,b,c,d', [
            [1, 2, 3, 4],
            [1, 2, 3],
          ]),
        ),
      ],
      /row 2 \(line 3\): expected 4 columns, got 3/,
    ],
    [
      'text in a cell',
      () => [
        mlpFile,
        file(
          'b3.csv',
          csv('a,b,c,d', [
            [1, 2, 3, 4],
            [1, 'x', 3, 4],
          ]),
        ),
      ],
      /row 2 \(line 3\), column 2 \("b"\): not a finite number "x"/,
    ],
    [
      'NaN',
      () => [mlpFile, file('b4.csv', csv('a,b,c,d', [[1, 2, 'NaN', 4]]))],
      /row 1 \(line 2\), column 3 \("c"\): not a finite number "NaN"/,
    ],
    [
      'an empty cell',
      () => [mlpFile, file('b5.csv', csv('a,b,c,d', [[1, '', 3, 4]]))],
      /row 1 \(line 2\), column 2 \("b"\): empty/,
    ],
    [
      'a value beyond float32',
      () => [mlpFile, file('b6.csv', csv('a,b,c,d', [[1, 2, 3, '1e39']]))],
      /column 4 \("d"\): 1e39 is out of float32 range/,
    ],
    ['an empty file', () => [mlpFile, file('b7.csv', '')], /is empty/],
    ['a missing CSV', () => [mlpFile, path.join(dir, 'nope.csv')], /--input: file not found/],
    ['a missing model', () => [path.join(dir, 'nope.onnx'), rowsFile], /--onnx: model file not found/],
    [
      'a corrupt model (random bytes)',
      () => [
        file(
          'junk.onnx',
          Uint8Array.from({ length: 200 }, (_, i) => (i * 37) % 256),
        ),
        rowsFile,
      ],
      /--onnx: not a valid ONNX model/,
    ],
    [
      'a truncated model',
      () => [file('cut.onnx', mlpModel(mlp).subarray(0, 120)), rowsFile],
      /--onnx: not a valid ONNX model/,
    ],
    [
      'a 3-D input',
      () => [
        file(
          '3d.onnx',
          buildOnnxModel({
            inputs: [{ name: 'x', shape: ['N', 2, 2] }],
            outputs: [{ name: 'y', shape: ['N', 2, 2] }],
            nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }],
          }),
        ),
        rowsFile,
      ],
      /input "x" has shape \[\?, 2, 2\], not 2-D \[N, F\]/,
    ],
    [
      'an integer input',
      () => [
        file(
          'int.onnx',
          buildOnnxModel({
            inputs: [{ name: 'x', elemType: ONNX_INT64, shape: ['N', 4] }],
            outputs: [{ name: 'y', elemType: ONNX_INT64, shape: ['N', 4] }],
            nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['y'] }],
          }),
        ),
        rowsFile,
      ],
      /input "x" is int64, not float32/,
    ],
    [
      'two inputs',
      () => [
        file(
          'two.onnx',
          buildOnnxModel({
            inputs: [
              { name: 'a', shape: ['N', 4] },
              { name: 'b', shape: ['N', 4] },
            ],
            outputs: [{ name: 'y', shape: ['N', 4] }],
            nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
          }),
        ),
        rowsFile,
      ],
      /the model has 2 inputs \(a, b\)/,
    ],
  ];
  it.each(bad)('%s: exit 2 naming the problem, nothing on stdout', async (_, make, message) => {
    const [onnx, input] = make();
    const r = await predict(onnx, input);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.out).toBe('');
  });

  it('a missing option is exit 2', async () => {
    const r = await runQuant(['model', 'predict', '--input', rowsFile, '--json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--onnx: required/);
  });
});
