import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runQuant, type CliResult } from '../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-state-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quant = (...args: string[]): Promise<CliResult> => runQuant(['--data-dir', dir, ...args]);

describe('quant risk halt | resume | status | limits (local cloud)', () => {
  it('halts, reports, refuses a resume without a reason, resumes with one', async () => {
    expect(
      (await quant('risk', 'halt', '--account', 'main', '--actor', 'alice', '--reason', 'drill')).code,
    ).toBe(0);
    const s = await quant('risk', 'status', '--account', 'main', '--strategy', 'sma', '--json');
    expect(JSON.parse(s.out)).toMatchObject({
      effective: 'HALTED',
      scopes: [
        { state: 'HALTED', actor: 'alice', reason: 'drill', version: 1 },
        { state: 'ACTIVE', version: 0 },
      ],
    });
    const bad = await quant('risk', 'resume', '--account', 'main', '--actor', 'bob', '--reason', ' ');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/reason: required/);
    const badTo = await quant(
      'risk',
      'resume',
      '--account',
      'main',
      '--actor',
      'bob',
      '--reason',
      'x',
      '--to',
      'PAUSED',
    );
    expect(badTo.code).toBe(2);
    expect(badTo.err).toMatch(/--to: must be ACTIVE, REDUCING or HALTED/);
    const ok = await quant(
      'risk',
      'resume',
      '--account',
      'main',
      '--actor',
      'bob',
      '--reason',
      'all clear',
      '--json',
    );
    expect(JSON.parse(ok.out)).toMatchObject({
      state: 'ACTIVE',
      actor: 'bob',
      reason: 'all clear',
      version: 2,
    });
  });

  it('stores limits and rejects a misspelt one naming the field', async () => {
    const good = path.join(dir, 'limits.json');
    writeFileSync(
      good,
      JSON.stringify({ securities: { AAPL: { adv: 1e6 } }, limits: { maxOrderAdvFraction: 0.1 } }),
    );
    const r = await quant('risk', 'limits', '--account', 'main', '--set', good);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).limits).toEqual({ maxOrderAdvFraction: 0.1 });
    const bad = path.join(dir, 'bad-limits.json');
    writeFileSync(bad, JSON.stringify({ securities: {}, limits: { maxOrderAdvFracton: 0.1 } }));
    const b = await quant('risk', 'limits', '--account', 'main', '--set', bad);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/bad-limits\.json: limits: .*maxOrderAdvFracton/);
  });
});
