import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors';
import {
  batches,
  expandGrid,
  paramSetId,
  parseGrid,
  parseGridArg,
  sweepIdFor,
} from '../../../src/sweep/grid';
import { validateSweepRequest } from '../../../src/sweep/request';
import { evaluateWhere, parseWhere } from '../../../src/sweep/where';

const err = (fn: () => unknown): InputError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
};

describe('parseGridArg', () => {
  it('parses inclusive ranges, steps and lists', () => {
    expect(parseGridArg('fast=2:5')).toEqual({ name: 'fast', values: [2, 3, 4, 5] });
    expect(parseGridArg('slow=10:30:10')).toEqual({ name: 'slow', values: [10, 20, 30] });
    expect(parseGridArg('z=0.1:0.5:0.1').values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(parseGridArg('w=5,10,20')).toEqual({ name: 'w', values: [5, 10, 20] });
    expect(parseGridArg('short=true,false')).toEqual({ name: 'short', values: [true, false] });
    expect(parseGridArg('x=7')).toEqual({ name: 'x', values: [7] });
    expect(parseGridArg('x=-3:-1')).toEqual({ name: 'x', values: [-3, -2, -1] });
  });

  it('lists may hold text values (model versions, paths); the strategy judges them', () => {
    expect(parseGridArg('model=ml-signal@1,ml-signal@prod,./models/a')).toEqual({
      name: 'model',
      values: ['ml-signal@1', 'ml-signal@prod', './models/a'],
    });
    expect(parseGridArg('fast=5,x').values).toEqual([5, 'x']);
    expect(err(() => parseGridArg('model=a@1:b@2')).message).toMatch(/grid\.model: "a@1" is not a number/);
    expect(err(() => parseGridArg('fast=5,1x')).message).toMatch(/grid\.fast: "1x" is not a number/);
    expect(
      err(() =>
        validateSweepRequest({ strategy: 'sma-cross', bars: 'lake:SPX', grid: ['fast=5,x', 'slow=50'] }),
      ).message,
    ).toMatch(/grid point \{"fast":"x","slow":50\}: param\.fast/);
    const where = parseWhere('model == other');
    expect(evaluateWhere(where, { model: 'a@1', other: 'a@1' })).toBe(true);
    expect(evaluateWhere(where, { model: 'a@1', other: 'a@2' })).toBe(false);
    expect(err(() => evaluateWhere(parseWhere('model > 1'), { model: 'a@1' })).message).toMatch(
      /where: "a@1" is text; text parameters only compare with == and !=/,
    );
  });

  it('rejects malformed arguments naming the field', () => {
    expect(err(() => parseGridArg('fast')).message).toMatch(/name=start:end/);
    expect(err(() => parseGridArg('fast=')).field).toBe('grid.fast');
    expect(err(() => parseGridArg('fast=a:b')).message).toMatch(/grid\.fast: "a" is not a number/);
    expect(err(() => parseGridArg('fast=10:2')).message).toMatch(/below its start/);
    expect(err(() => parseGridArg('fast=1:10:0')).message).toMatch(/step must be positive/);
    expect(err(() => parseGridArg('fast=1:10:-1')).message).toMatch(/step must be positive/);
    expect(err(() => parseGridArg('fast=1:2:3:4')).message).toMatch(/start:end or start:end:step/);
    expect(err(() => parseGridArg('fast=1,1')).message).toMatch(/listed twice/);
    expect(err(() => parseGridArg('fast=1e400')).message).toMatch(/out of range/);
    expect(err(() => parseGridArg('fast=0:1e12')).message).toMatch(/more than/);
    expect(err(() => parseGridArg('1x=3')).message).toMatch(/not a valid parameter name/);
    expect(err(() => parseGridArg('a=true:false')).message).toMatch(/must be numbers/);
  });

  it('rejects a parameter given twice', () => {
    expect(err(() => parseGrid(['fast=1:3', 'fast=4'])).field).toBe('grid.fast');
    expect(err(() => parseGrid([])).field).toBe('grid');
  });
});

describe('parseWhere / evaluateWhere', () => {
  const ev = (src: string, p: Record<string, number | boolean>) => evaluateWhere(parseWhere(src), p);

  it('evaluates comparisons, arithmetic, logic and precedence', () => {
    expect(ev('fast<slow', { fast: 2, slow: 3 })).toBe(true);
    expect(ev('fast<slow', { fast: 3, slow: 3 })).toBe(false);
    expect(ev('slow >= 2*fast && fast > 1', { fast: 2, slow: 4 })).toBe(true);
    expect(ev('1 + 2 * 3', {})).toBe(7);
    expect(ev('(1 + 2) * 3', {})).toBe(9);
    expect(ev('-fast + 10 % 4', { fast: 1 })).toBe(1);
    expect(ev('short || fast > 5', { short: false, fast: 6 })).toBe(true);
    expect(ev('not short and fast == 2', { short: false, fast: 2 })).toBe(true);
    expect(ev('short = true', { short: true })).toBe(true);
    expect(ev('!(a != b)', { a: 1, b: 1 })).toBe(true);
    expect(ev('a <= b || a >= c', { a: 5, b: 4, c: 6 })).toBe(false);
  });

  it('rejects bad expressions with the position', () => {
    expect(err(() => parseWhere('')).message).toMatch(/empty/);
    expect(err(() => parseWhere('fast <')).message).toMatch(/unexpected end/);
    expect(err(() => parseWhere('fast < slow)')).message).toMatch(/position 12/);
    expect(err(() => parseWhere('(fast < slow')).message).toMatch(/expected "\)"/);
    expect(err(() => parseWhere('fast; process.exit()')).message).toMatch(/unexpected character ";"/);
    expect(err(() => parseWhere('constructor.constructor("x")()')).message).toMatch(
      /unexpected character "\."/,
    );
    expect(err(() => parseWhere('a b')).message).toMatch(/expected an operator/);
    expect(err(() => parseWhere('x'.repeat(501))).message).toMatch(/longer than 500/);
    expect(err(() => parseWhere('('.repeat(60) + '1' + ')'.repeat(60))).message).toMatch(/nested too deeply/);
    expect(err(() => ev('nope > 1', { fast: 1 })).message).toMatch(/unknown parameter "nope"/);
  });
});

describe('expandGrid', () => {
  const axes = parseGrid(['fast=2:100', 'slow=2:100']);

  it('expands 2..100 x 2..100 with fast<slow into 4,851 ordered sets with stable ids', () => {
    const sets = expandGrid({ strategy: 'sma-cross', axes, where: 'fast<slow' });
    expect(sets).toHaveLength(4851);
    expect(sets[0].params).toEqual({ fast: 2, slow: 3 });
    expect(sets.at(-1)!.params).toEqual({ fast: 99, slow: 100 });
    expect(sets.every((s) => (s.params.fast as number) < (s.params.slow as number))).toBe(true);
    expect(new Set(sets.map((s) => s.id)).size).toBe(4851);
    expect(sets[0].id).toBe(paramSetId('sma-cross', { slow: 3, fast: 2 }));
    expect(sets[0].id).toMatch(/^[0-9a-f]{16}$/);
    expect(paramSetId('sma-cross', { fast: 2, slow: 3 })).not.toBe(
      paramSetId('ts-momentum', { fast: 2, slow: 3 }),
    );
  });

  it('enforces the maximum grid size before and after the filter', () => {
    expect(err(() => expandGrid({ strategy: 's', axes, maxGridSize: 500 })).message).toMatch(
      /9801 parameter sets exceed the maximum grid size 500/,
    );
    expect(
      err(() => expandGrid({ strategy: 's', axes, where: 'fast<slow', maxGridSize: 500 })).message,
    ).toMatch(/before the --where filter/);
    expect(
      err(() => expandGrid({ strategy: 's', axes, where: 'fast<slow', maxGridSize: 4000 })).message,
    ).toMatch(/more than 4000 parameter sets pass/);
    expect(expandGrid({ strategy: 's', axes, where: 'fast<slow', maxGridSize: 4851 })).toHaveLength(4851);
  });

  it('rejects unknown names in the filter, an empty result and fixed/grid clashes', () => {
    expect(err(() => expandGrid({ strategy: 's', axes, where: 'fats<slow' })).message).toMatch(
      /unknown parameter "fats"/,
    );
    expect(err(() => expandGrid({ strategy: 's', axes, where: 'fast>200' })).message).toMatch(
      /no parameter set/,
    );
    expect(err(() => expandGrid({ strategy: 's', axes, fixed: { fast: 3 } })).field).toBe('grid.fast');
  });

  it('merges fixed parameters into every set and the filter sees them', () => {
    const sets = expandGrid({
      strategy: 's',
      axes: parseGrid(['fast=1:3']),
      fixed: { slow: 2 },
      where: 'fast<slow',
    });
    expect(sets.map((s) => s.params)).toEqual([{ slow: 2, fast: 1 }]);
  });
});

describe('sweep ids and batches', () => {
  it('derives the same sweep id for the same request and a different one otherwise', () => {
    const base = {
      strategy: 'sma-cross',
      bars: 'lake:SPY',
      axes: parseGrid(['fast=2:5']),
      where: 'fast < 4',
    };
    expect(sweepIdFor(base)).toBe(sweepIdFor({ ...base, where: 'fast<4' }));
    expect(sweepIdFor(base)).not.toBe(sweepIdFor({ ...base, bars: 'lake:QQQ' }));
    expect(sweepIdFor(base)).not.toBe(sweepIdFor({ ...base, costBps: 5 }));
    expect(sweepIdFor(base)).toMatch(/^sw-[0-9a-f]{12}$/);
  });

  it('splits into batches and rejects a bad size', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(err(() => batches([1], 0)).field).toBe('batchSize');
  });
});
