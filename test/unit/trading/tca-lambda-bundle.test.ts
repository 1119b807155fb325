/**
 * The daily TCA Lambda (lambda/tca) must not reach DuckDB: its native packages are not in the Lambda
 * bundle, and an ESM bundle resolves every import when the module loads, so a path to DuckDB however
 * unused would fail the function at init. That is why the TCA table is written in pure JS
 * (src/trading/tca-lake.ts). Bundled with the esbuild settings QuantFunction uses, DuckDB not external.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

describe('TCA Lambda bundle', () => {
  it('bundles without DuckDB or the DuckDB lake writer', async () => {
    const out = await build({
      entryPoints: [path.join(root, 'lambda', 'tca', 'index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      external: ['@aws-sdk/*'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs).toContain('src/trading/tca-job.ts');
    expect(inputs.filter((f) => /duckdb|src\/lake\/(writer|query)\.ts/.test(f))).toEqual([]);
    expect(out.outputFiles[0].text).not.toContain('@duckdb/');
  });
});
