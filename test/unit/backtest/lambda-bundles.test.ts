/**
 * The sweep's Lambda steps (validate, manifest, publish) must not reach DuckDB: its native packages
 * are not in the Lambda bundle, and an ESM bundle resolves every import when the module loads, so a
 * path to src/lake/duckdb.ts, however unused, fails the function at init. Bundled here with the same
 * esbuild settings QuantFunction uses, but without DuckDB external: the build fails if any import
 * path leads to it.
 */
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');

describe('backtest Lambda bundles', () => {
  it.each(['backtest-validate', 'backtest-manifest', 'backtest-publish'])(
    '%s bundles without DuckDB',
    async (name) => {
      const out = await build({
        entryPoints: [path.join(root, 'lambda', name, 'index.ts')],
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
      expect(inputs.some((f) => f.startsWith('lambda/'))).toBe(true);
      expect(inputs.filter((f) => /duckdb|src\/lake\/(writer|query|bars)\.ts/.test(f))).toEqual([]);
      expect(out.outputFiles[0].text).not.toContain('@duckdb/');
    },
  );
});
