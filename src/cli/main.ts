import { Command, CommanderError, Help } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors';
import { packageRoot } from '../package-root';
import { COMMAND_HELP } from './command-help';
type Register = (program: Command) => unknown;

/**
 * Each top-level command and the modules that register it, loaded on use: every area pulls in its own
 * clients and engines, and loading all of them costs ~1.5 s of start-up that one command never needs.
 */
const COMMANDS: Readonly<Record<string, () => Promise<readonly Register[]>>> = {
  local: async () => [(await import('./commands/local')).registerLocal],
  lake: async () => [(await import('./commands/lake')).registerLake],
  query: async () => [(await import('./commands/query')).registerQuery],
  demo: async () => [(await import('./commands/demo')).registerDemo],
  risk: async () => [(await import('./commands/risk')).registerRisk],
  paper: async () => [(await import('./commands/trading')).registerTrading],
  algo: async () => [(await import('./commands/algo')).registerAlgo],
  feed: async () => [(await import('./commands/feed')).registerFeed],
  backtest: async () => [
    (await import('./commands/backtest')).registerBacktest,
    (await import('./commands/backtest-sweep')).registerBacktestSweep,
  ],
  sync: async () => [(await import('./commands/sync')).registerSync],
  // `quant ingest ...` and `quant bars build` are registered together.
  ingest: async () => [(await import('./commands/ingest')).registerIngest],
  bars: async () => [(await import('./commands/ingest')).registerIngest],
  model: async () => [
    (await import('./commands/model')).registerModel,
    (await import('./commands/model-registry')).registerModelRegistry,
  ],
  train: async () => [(await import('./commands/train')).registerTrain],
  strategy: async () => [(await import('./commands/strategy')).registerStrategy],
  dr: async () => [(await import('./commands/dr')).registerDr],
  tca: async () => [(await import('./commands/tca')).registerTca],
};

/** The top-level command named in argv (after the global options), if any. */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--data-dir' || a === '--timeout') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Builds the `quant` program with the given command, or with every command (for `quant --help`, no
 * command, or a name that does not exist, so commander lists and suggests the real ones); with none
 * for null.
 */
export async function buildProgram(name?: string | null): Promise<Command> {
  const program = baseProgram();
  const loaders =
    name === null ? [] : name !== undefined && COMMANDS[name] ? [COMMANDS[name]] : Object.values(COMMANDS);
  const registered = new Set<Register>();
  for (const load of loaders) {
    for (const register of await load()) {
      if (registered.has(register)) continue;
      registered.add(register);
      register(program);
    }
  }
  return program;
}

/**
 * The program for `quant`, `quant --help` or an unknown command: the top-level commands from
 * COMMAND_HELP (their names, terms and descriptions), none of their modules loaded. It only prints
 * help or the unknown-command error; a known command gets the real program.
 */
export function buildHelpProgram(): Command {
  const program = baseProgram();
  const terms = new Map(COMMAND_HELP.map((c) => [c.name, c.term]));
  for (const c of COMMAND_HELP) program.command(c.name).description(c.description);
  const help = new Help();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
  return program;
}

function baseProgram(): Command {
  return new Command('quant')
    .description('Quant platform CLI: local cloud, data lake, backtests, risk, ingestion, feeds, vendor sync')
    .option('--data-dir <dir>', 'local cloud state directory (default .quant, or $QUANT_DATA_DIR)')
    .option('--timeout <seconds>', 'longest wait for any one network request, retries included (default 60)')
    .option(
      '--aws',
      'use AWS (standard credentials, region and the stack outputs in env) instead of the local cloud',
    )
    .version(packageVersion(), '-V, --version', 'print the platform version')
    .showHelpAfterError()
    .exitOverride();
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Runs the CLI; returns the process exit code (0 ok, 2 bad input, 1 other failure). */
export async function main(argv: readonly string[]): Promise<number> {
  // The SDK warns on every command that its 2027 releases need Node 22; on Node 20 that is noise
  // (README: Node 22). QUANT_DEBUG keeps it. Child processes inherit the setting.
  if (!process.env.QUANT_DEBUG) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const name = commandName(argv);
  // `quant --version` needs no command module (loading them all takes seconds).
  const versionOnly = name === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  // Help alone (no command, or one that does not exist) needs no command module either; `quant help
  // <command>` does (its help is the command's own).
  const helpOnly = !versionOnly && name !== 'help' && (name === undefined || !COMMANDS[name]);
  const program = helpOnly ? buildHelpProgram() : await buildProgram(versionOnly ? null : name);
  try {
    await program.parseAsync(argv as string[]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    const detail =
      err instanceof Error
        ? process.env.QUANT_DEBUG
          ? (err.stack ?? err.message)
          : err.message
        : String(err);
    process.stderr.write(`error: ${detail}\n`);
    return 1;
  }
}
