import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTarball } from '../../../../lib/constructs/source-tarball-asset';
import { fetchModelArtifacts, readTarball } from '../../../../src/ml/aws/model-artifacts';
import { InputError } from '../../../../src/errors';

const dir = mkdtempSync(path.join(os.tmpdir(), 'model-artifacts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function files(root: string, entries: Record<string, string | Buffer>): string[] {
  for (const [rel, body] of Object.entries(entries)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), body);
  }
  return Object.keys(entries).sort();
}

describe('readTarball', () => {
  it('reads back what buildTarball wrote, byte for byte, and the archive is deterministic', () => {
    const src = path.join(dir, 'a');
    const long = `${'deep/'.repeat(25)}file.txt`;
    const names = files(src, {
      'model.onnx': Buffer.from([0, 1, 2, 255]),
      'manifest.json': '{}',
      [long]: 'x'.repeat(1000),
    });
    const tgz = buildTarball(src, names);
    expect(buildTarball(src, names).equals(tgz)).toBe(true);
    const back = readTarball(tgz);
    expect([...back.keys()].sort()).toEqual(names);
    expect(Buffer.from(back.get('model.onnx')!)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(Buffer.from(back.get(long)!).toString()).toBe('x'.repeat(1000));
  });

  it('reads archives made by GNU tar, which `tar -tzf` also lists for ours', () => {
    const src = path.join(dir, 'b');
    const names = files(src, { 'model.onnx': 'onnx', 'evaluation.json': '{"ic":0.1}' });
    writeFileSync(path.join(dir, 'ours.tar.gz'), buildTarball(src, names));
    expect(
      execFileSync('tar', ['-tzf', path.join(dir, 'ours.tar.gz')])
        .toString()
        .trim()
        .split('\n')
        .sort(),
    ).toEqual(names);
    execFileSync('tar', ['-czf', path.join(dir, 'gnu.tar.gz'), '--format=pax', '-C', src, '.']);
    const back = readTarball(readFileSync(path.join(dir, 'gnu.tar.gz')));
    expect(Buffer.from(back.get('evaluation.json')!).toString()).toBe('{"ic":0.1}');
  });

  it('rejects a truncated archive', () => {
    const src = path.join(dir, 'c');
    const names = files(src, { 'model.onnx': 'y'.repeat(5000) });
    const tar = gunzipSync(buildTarball(src, names));
    expect(() => readTarball(tar.subarray(0, 2048))).toThrow(/truncated/);
  });
});

describe('fetchModelArtifacts', () => {
  const s3 = (body: Uint8Array) => ({
    send: async () => ({ Body: { transformToByteArray: async () => body } }),
  });

  it('names the missing file and what the archive holds', async () => {
    const src = path.join(dir, 'd');
    const tgz = buildTarball(src, files(src, { 'model.onnx': 'o', 'manifest.json': '{}' }));
    await expect(
      fetchModelArtifacts(s3(tgz) as never, 's3://bucket-a/job/output/model.tar.gz'),
    ).rejects.toThrow(
      'modelArtifacts: s3://bucket-a/job/output/model.tar.gz has no evaluation.json (found: manifest.json, model.onnx)',
    );
    await expect(fetchModelArtifacts(s3(tgz) as never, 'https://x/y')).rejects.toThrow(InputError);
  });
});
