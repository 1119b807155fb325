/**
 * The backtest task's image (ecs-tasks/backtest/Dockerfile): base images pinned by digest, and the
 * final stage ships the bundle plus exactly the npm packages the bundle imports at run time, none of
 * the local stand-ins. No Docker here: the Dockerfile is read as text, the bundle from dist/ (built
 * by test/global-setup.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORT_MODULE } from '../../src/ml/inference/session';
import { repoRoot } from './helpers';

const dockerfile = readFileSync(path.join(repoRoot, 'ecs-tasks/backtest/Dockerfile'), 'utf8');
const lines = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** Bare package names (not Node builtins) a built module and its relative imports load. */
function bareImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const walk = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:from\s*|import\s*\(?\s*|require\s*\(\s*)["']([^"']+)["']/g)) {
      const spec = m[1];
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) bare.add(spec);
    }
  };
  walk(entry);
  return bare;
}

describe('backtest image', () => {
  it('pins every base image by digest', () => {
    const args = Object.fromEntries(
      lines
        .filter((l) => l.startsWith('ARG ') && l.includes('='))
        .map((l) => l.slice(4).split('=', 2) as [string, string]),
    );
    const froms = lines.filter((l) => l.startsWith('FROM ')).map((l) => l.split(/\s+/)[1]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) {
      const image = from.replace(/^\$\{(\w+)\}$/, (_m, name: string) => args[name] ?? from);
      expect(image).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
    }
  });

  it('ships only the bundle and the packages it imports at run time, none of the local stand-ins', () => {
    const finalStage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
    expect(finalStage.filter((l) => /\bnpm\b/.test(l))).toEqual([]);
    expect(finalStage.join('\n')).not.toMatch(/s3rver|kinesalite|dynalite|aws-local-stepfunctions/);
    // node_modules reach the final stage only from the build stage's /runtime assembly.
    const copies = finalStage.filter((l) => l.startsWith('COPY '));
    expect(copies.filter((l) => l.includes('node_modules'))).toEqual([
      'COPY --from=build /runtime/node_modules ./node_modules',
    ]);
    const assembled = lines.find((l) => l.includes('/runtime/node_modules/@duckdb'))!;
    const shipped = [...assembled.matchAll(/node_modules\/((?:@[\w.-]+\/)?[\w.-]+?)(?:-\*)?\s/g)].map(
      (m) => m[1],
    );
    // The task's bundle imports (statically or lazily) only these packages; SigV4a/CRT signing are
    // optional requires inside the AWS SDK, taken only for multi-region access points.
    const imports = [...bareImports(path.join(repoRoot, 'dist/backtest-task.js'))]
      .filter((p) => !/^@aws-sdk\/signature-v4(-crt|a)$/.test(p))
      .map((p) =>
        p
          .split('/')
          .slice(0, p.startsWith('@') ? 2 : 1)
          .join('/'),
      );
    expect(imports.length).toBeGreaterThan(0);
    for (const p of imports) expect(shipped, p).toContain(p);
    expect(new Set(shipped)).toEqual(
      new Set(['@duckdb/node-bindings', '@duckdb/node-bindings-linux', 'detect-libc', 'onnxruntime-common']),
    );
  });

  it('ships the ONNX runtime the task scores registry models with: its code and its Linux arm64 binary', () => {
    // Loaded by a computed import (src/ml/inference/session.ts), so not among the bundle's imports.
    expect(ORT_MODULE).toBe('onnxruntime-node');
    const assembled = lines.find((l) => l.includes('/runtime/node_modules/@duckdb'))!;
    const ort = 'node_modules/onnxruntime-node';
    expect(assembled).toContain(`${ort}/package.json ${ort}/dist /runtime/${ort}/`);
    const binary = 'bin/napi-v6/linux/arm64';
    expect(assembled).toContain(`${ort}/${binary} /runtime/${ort}/bin/napi-v6/linux/`);
    // The path the binding loads (`../bin/napi-v6/<platform>/<arch>/`) exists in the installed package.
    expect(existsSync(path.join(repoRoot, ort, binary, 'onnxruntime_binding.node'))).toBe(true);
    expect(readFileSync(path.join(repoRoot, ort, 'dist/binding.js'), 'utf8')).toContain('../bin/napi-v6/');
  });
});
