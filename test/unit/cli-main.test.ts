import { describe, expect, it } from 'vitest';
import { buildProgram, commandName } from '../../src/cli/main';

describe('quant CLI start-up (commands loaded on use)', () => {
  it('finds the command after the global options', () => {
    expect(commandName(['node', 'quant', 'sync', 'run', '--json'])).toBe('sync');
    expect(commandName(['node', 'quant', '--data-dir', '/tmp/x', '--aws', 'query', 'SELECT 1'])).toBe(
      'query',
    );
    expect(commandName(['node', 'quant', '--help'])).toBeUndefined();
    expect(commandName(['node', 'quant'])).toBeUndefined();
  });

  it('every command of the full program is built, with the same options, when named alone', async () => {
    const full = await buildProgram();
    const names = full.commands.map((c) => c.name());
    expect(names).toEqual(
      expect.arrayContaining([
        'local',
        'lake',
        'query',
        'demo',
        'risk',
        'paper',
        'feed',
        'backtest',
        'sync',
        'ingest',
        'bars',
      ]),
    );
    for (const name of names) {
      const alone = await buildProgram(name);
      const cmd = alone.commands.find((c) => c.name() === name);
      const fullCmd = full.commands.find((c) => c.name() === name)!;
      expect(cmd, name).toBeDefined();
      expect(
        cmd!.commands.map((c) => c.name()),
        name,
      ).toEqual(fullCmd.commands.map((c) => c.name()));
      expect(
        cmd!.options.map((o) => o.flags),
        name,
      ).toEqual(fullCmd.options.map((o) => o.flags));
    }
  });

  it('an unknown command gets the whole program, so the error lists the real ones', async () => {
    const p = await buildProgram('bogus');
    expect(p.commands.length).toBeGreaterThanOrEqual(11);
  });
});
