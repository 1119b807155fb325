import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuant, type CliResult } from '../../helpers/quant-cli';
import { removeDataDirs } from '../../helpers/quant-process';

const dir = mkdtempSync(path.join(os.tmpdir(), 'risk-state-cli-'));
afterAll(() => removeDataDirs(dir));

const quant = (...args: string[]): Promise<CliResult> => runQuant(['--data-dir', dir, ...args]);

describe('quant risk halt | resume | status | limits (local cloud)', () => {
  beforeAll(async () => {
    // An account is known once its limits are stored.
    const limits = path.join(dir, 'main-limits.json');
    writeFileSync(limits, JSON.stringify({ securities: { AAPL: { adv: 1e6 } }, limits: {} }));
    expect((await quant('risk', 'limits', '--account', 'main', '--set', limits)).code).toBe(0);
  });

  it('refuses an account it does not know, listing the known ones, and changes nothing', async () => {
    const typo = await quant('risk', 'halt', '--account', 'mian', '--actor', 'alice', '--reason', 'drill');
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/--account: unknown account "mian" \(known: main; /);
    const status = await quant('risk', 'status', '--account', 'nobody');
    expect(status.code).toBe(2);
    expect(status.err).toMatch(/unknown account "nobody"/);
    const s = await quant('risk', 'status', '--account', 'main', '--json');
    expect(JSON.parse(s.out)).toMatchObject({ effective: 'ACTIVE' });
  });

  it('refuses a strategy the account does not list, naming the known ones', async () => {
    const limits = path.join(dir, 'desk-limits.json');
    writeFileSync(
      limits,
      JSON.stringify({ securities: { AAPL: { adv: 1e6 } }, limits: {}, strategies: ['sma', 'ml-signal'] }),
    );
    expect((await quant('risk', 'limits', '--account', 'desk', '--set', limits)).code).toBe(0);
    const typo = await quant(
      'risk',
      'halt',
      '--account',
      'desk',
      '--strategy',
      'smaa',
      '--actor',
      'alice',
      '--reason',
      'drill',
    );
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/--strategy: unknown strategy "smaa" of account desk \(known: sma, ml-signal; /);
    expect(typo.err).not.toMatch(/\n\s+at /);
    const s = await quant('risk', 'status', '--account', 'desk', '--strategy', 'sma', '--json');
    expect(s.code).toBe(0);
    expect(JSON.parse(s.out)).toMatchObject({ effective: 'ACTIVE' });
    const bad = await quant('risk', 'status', '--account', 'desk', '--strategy', 'nope');
    expect(bad.code).toBe(2);
    // A limits file that lists a strategy twice is refused, naming the field.
    writeFileSync(
      limits,
      JSON.stringify({ securities: { AAPL: { adv: 1e6 } }, limits: {}, strategies: ['sma', 'sma'] }),
    );
    const dup = await quant('risk', 'limits', '--account', 'desk', '--set', limits);
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/strategies: must not list a strategy twice/);
  });

  it("refuses '*' and '#' in ids: a strategy named '*' must not alias the whole account", async () => {
    for (const [flag, value] of [
      ['--strategy', '*'],
      ['--strategy', 'a#b'],
      ['--account', 'ma*in'],
    ]) {
      const args = ['risk', 'resume', '--account', 'main', '--actor', 'bob', '--reason', 'x'];
      if (flag === '--account') args[3] = value;
      else args.push(flag, value);
      const r = await quant(...args);
      expect(r.code, value).toBe(2);
      expect(r.err, value).toMatch(/may contain only letters, digits and \._:@\/=\+-/);
    }
  });

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
