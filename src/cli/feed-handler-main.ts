// The feed handler's entry on its EC2 hosts (bundled into one file by
// lib/constructs/feed-handler-host/bundle.ts): the `quant` program with only the `feed` commands, so
// the bundle carries the feed path and the AWS SDK clients, not the lake engine or the local cloud.
import { isMainThread, workerData } from 'node:worker_threads';
import { Command, CommanderError } from 'commander';
import { InputError } from '../errors';
import { runDecoderWorker, type DecoderWorkerData } from '../feed/decoder-worker';
import { registerFeed } from './commands/feed';

if (!isMainThread && (workerData as DecoderWorkerData | null)?.role === 'feed-decoder') {
  // The same file is the decoder worker's entry (DecoderThread starts it with this role).
  runDecoderWorker();
} else {
  // The same global options as the full CLI (commands read them with optsWithGlobals()).
  const program = new Command('quant')
    .option('--data-dir <dir>', 'local cloud state directory')
    .option('--aws', 'use AWS instead of the local cloud')
    .exitOverride();
  registerFeed(program);
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
    else {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = err instanceof InputError ? 2 : 1;
    }
  }
}
