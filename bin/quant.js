#!/usr/bin/env node
// The `quant` CLI entry: registers tsx so the TypeScript sources run without a build step.
// `quant sync ...` runs a cached esbuild bundle of the same sources instead when it can
// (bin/sync-bundle.js): a fresh CLI then starts in a fraction of the time, and an incremental
// sync is mostly start-up.

/** The top-level command, as commandName in src/cli/main.ts finds it (after the global options). */
function commandName(argv) {
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '--data-dir' || argv[i] === '--timeout') i++;
    else if (!argv[i].startsWith('-')) return argv[i];
  }
  return undefined;
}

async function loadMain() {
  if (commandName(process.argv) === 'sync') {
    const bundled = await (await import('./sync-bundle.js')).syncBundleMain();
    if (bundled) return bundled;
  }
  const { register } = await import('tsx/esm/api');
  register();
  return { main: (await import('../src/cli/main.ts')).main };
}

const { main, done } = await loadMain();
process.exitCode = await main(process.argv);
done?.(process.exitCode);
