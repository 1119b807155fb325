import { describe, expect, it } from 'vitest';
import { EnvError, int, list, num, oneOf, optionalText, readEnv, text } from '../../../src/contract/env';

describe('readEnv', () => {
  it('reads a spec into typed values', () => {
    const spec = {
      name: text('NAME'),
      size: int('SIZE'),
      gain: num('GAIN', 0),
      symbols: list('SYMBOLS'),
      env: oneOf('ENV', ['paper', 'prod']),
      bus: optionalText('BUS'),
      interval: optionalText('INTERVAL', '1d'),
    };
    expect(readEnv(spec, { NAME: 'n', SIZE: '20', SYMBOLS: 'AAPL, MSFT,', ENV: 'prod' })).toEqual({
      name: 'n',
      size: 20,
      gain: 0,
      symbols: ['AAPL', 'MSFT'],
      env: 'prod',
      bus: undefined,
      interval: '1d',
    });
  });

  it('fails with the variable named: missing, not a positive whole number, not one of', () => {
    expect(() => readEnv({ n: text('N') }, {})).toThrow('environment variable N is required');
    for (const bad of [undefined, '', '0', '-3', '2.5', 'x', '1e400']) {
      const err = (() => {
        try {
          readEnv({ n: int('N') }, { N: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(err, String(bad)).toBeInstanceOf(EnvError);
      expect((err as EnvError).variable).toBe('N');
      expect((err as Error).message).toMatch(
        /^environment variable N (is required|must be a whole number >= 1)/,
      );
    }
    expect(() => readEnv({ e: oneOf('E', ['a', 'b']) }, { E: 'c' })).toThrow(
      'environment variable E: "c" is not one of a, b',
    );
    expect(() => readEnv({ g: num('G', 0) }, { G: 'x' })).toThrow('environment variable G must be a number');
    expect(() => readEnv({ s: list('S') }, { S: ' , ' })).toThrow(
      'environment variable S must list at least one value',
    );
  });
});
