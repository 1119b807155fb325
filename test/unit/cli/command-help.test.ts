import { describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../../../src/cli/command-help';
import { buildHelpProgram, buildProgram } from '../../../src/cli/main';
import { runQuant } from '../../helpers/quant-cli';

describe('quant --help without loading the commands', () => {
  it('the help built from the table is the full program help, to the character', async () => {
    const full = await buildProgram();
    expect(buildHelpProgram().helpInformation()).toBe(full.helpInformation());
    expect(COMMAND_HELP.map((c) => c.name)).toEqual(full.commands.map((c) => c.name()));
  });

  it('--help, no command and an unknown command print what the full program prints', async () => {
    for (const args of [['--help'], [], ['backtset'], ['--data-dir', '/tmp/x', 'bogus']]) {
      const full = await buildProgram();
      let out = '';
      let err = '';
      full.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
      const code = await full.parseAsync(['node', 'quant', ...args]).then(
        () => 0,
        (e: { exitCode: number }) => (e.exitCode === 0 ? 0 : 2),
      );
      expect(out + err, args.join(' ')).toContain('Commands:');
      expect(await runQuant(args), args.join(' ')).toEqual({ code, out, err });
    }
  });

  it('quant help <command> is still the command own help', async () => {
    const r = await runQuant(['help', 'backtest']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: quant backtest');
    expect(r.out).toContain('--strategy');
  });
});
