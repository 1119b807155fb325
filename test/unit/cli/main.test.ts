import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { buildProgram, commandName, main } from '../../../src/cli/main';

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

  it('--version prints the package version with no command module loaded', async () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect((await buildProgram(null)).commands).toHaveLength(0);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (
      out.push(String(chunk)),
      true
    )) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'quant', '--version'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toBe(`${version}\n`);
  });
});
