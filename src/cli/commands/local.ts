import type { Command } from 'commander';
import { LocalCloud } from '../../local/cloud';
import { isHung } from '../../local/lease';
import { dataDirOf, type GlobalOptions } from '../context';
import { printJson } from '../output';

/** `quant local up | down | status`: the local cloud that other commands reuse while it runs. */
export function registerLocal(program: Command): void {
  const local = program
    .command('local')
    .description('start, stop and inspect the local cloud (S3, Kinesis, DynamoDB)');
  local
    .command('up')
    .description('start the local cloud in the background (state under --data-dir, default .quant/)')
    .option('--json', 'machine-readable output')
    .action(localUp);
  local
    .command('down')
    .description('stop the background local cloud (its data stays on disk)')
    .action(localDown);
  local
    .command('status')
    .description('show whether the local cloud runs and where')
    .option('--json', 'machine-readable output')
    .action(localStatus);
}

async function localUp(opts: { json?: boolean }, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const cloud = await LocalCloud.up({ dataDir: dataDirOf(g) });
  if (opts.json)
    printJson({ running: true, pid: cloud.pid, dataDir: cloud.dataDir, endpoints: cloud.endpoints });
  else {
    console.log(`local cloud running (pid ${cloud.pid}), data in ${cloud.dataDir}`);
    for (const [k, v] of Object.entries(cloud.endpoints)) console.log(`  ${k.padEnd(9)} ${v}`);
  }
}

async function localDown(_opts: unknown, cmd: Command): Promise<void> {
  const stopped = await LocalCloud.down({ dataDir: dataDirOf(cmd.optsWithGlobals<GlobalOptions>()) });
  console.log(stopped ? 'local cloud stopped' : 'local cloud was not running');
}

async function localStatus(opts: { json?: boolean }, cmd: Command): Promise<void> {
  const dataDir = dataDirOf(cmd.optsWithGlobals<GlobalOptions>());
  const cloud = LocalCloud.running({ dataDir });
  const hung = cloud !== undefined && isHung(cloud.dataDir);
  if (opts.json) {
    printJson(
      cloud
        ? { running: true, hung, pid: cloud.pid, dataDir, endpoints: cloud.endpoints }
        : { running: false, dataDir },
    );
  } else if (cloud) {
    console.log(
      `running (pid ${cloud.pid})${hung ? ', NOT ANSWERING (the next command restarts it)' : ''}, data in ${dataDir}`,
    );
    for (const [k, v] of Object.entries(cloud.endpoints)) console.log(`  ${k.padEnd(9)} ${v}`);
  } else {
    console.log(
      `not running (data in ${dataDir}); commands start it on demand, 'quant local up' keeps it running`,
    );
  }
}
