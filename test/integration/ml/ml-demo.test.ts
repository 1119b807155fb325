/**
 * The ML phase of `npm start` where Python is missing (QUANT_PYTHON names a path that does not
 * exist): it says exactly what is missing and how to get it, writes nothing, and returns so the
 * demo goes on. The full chain with Python runs in test/ml-python/.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPlatform } from '../../../src/cli/context';
import { runMlDemo } from '../../../src/ml/demo';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ml-demo-'));
const saved = process.env.QUANT_PYTHON;
afterAll(() => {
  if (saved === undefined) delete process.env.QUANT_PYTHON;
  else process.env.QUANT_PYTHON = saved;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the ML demo phase without Python', () => {
  it('logs what is missing with the apt-get line and goes on', async () => {
    process.env.QUANT_PYTHON = path.join(dataDir, 'missing', 'python3');
    const ctx = await openPlatform({ dataDir });
    const lines: string[] = [];
    try {
      const r = await runMlDemo(ctx, (l) => lines.push(l));
      expect(r).toEqual({ ran: false });
    } finally {
      await ctx.close();
    }
    expect(lines).toEqual([
      `skipped (the rest of the demo goes on without ML): local training needs Python 3 with torch, onnx, pandas and numpy: ${process.env.QUANT_PYTHON} not found. Install them with: apt-get install python3 python3-torch python3-onnx python3-pandas (or set QUANT_PYTHON to a Python that has them)`,
    ]);
    expect(existsSync(path.join(dataDir, 'ml'))).toBe(false);
  });
});
