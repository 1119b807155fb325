import type { Command } from 'commander';
import { withPlatform, type GlobalOptions } from '../context';

/** `quant demo` (what `npm start` runs): the whole pipeline on the local cloud. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the main job on the local cloud: import, query, and every later phase (npm start)')
    .action(runDemo);
}

async function runDemo(_opts: unknown, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  if (g.aws) throw new Error('the demo runs on the local cloud only');
  await withPlatform(g, async (ctx) => {
    console.log(
      `quant platform demo: local cloud with data under ${ctx.runtime.mode === 'local' ? ctx.runtime.dataDir : ''}`,
    );
    // Loaded on use: the demo pulls in every area, which would slow every other command's start.
    const { runDemo } = await import('../../demo/demo');
    await runDemo(ctx);
    console.log('\ndone. Explore with: npx quant query "SELECT symbol, count(*) FROM bars GROUP BY symbol"');
  });
}
