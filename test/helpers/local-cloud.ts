/**
 * A test file's own local cloud: a data directory, the cloud on it and clients. Call it at the
 * file's top level: it registers the beforeAll that starts the cloud (the fields are set from then
 * on; the file's own beforeAll hooks run after it) and the afterAll that stops it and removes the
 * directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createClients, type AwsClients } from '../../src/aws/clients';
import { LocalCloud, type LocalCloudOptions } from '../../src/local/cloud';

export interface LocalCloudWorld {
  readonly dir: string;
  readonly cloud: LocalCloud;
  readonly clients: AwsClients;
}

export function localCloudWorld(opts: {
  /** Prefix of the data directory's name. */
  readonly name: string;
  /** @default every stand-in */
  readonly services?: LocalCloudOptions['services'];
  /**
   * The data directory's shared cloud (`LocalCloud.up`), which `quant` commands attach to.
   * @default false: the file's own cloud
   */
  readonly shared?: boolean;
}): LocalCloudWorld {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${opts.name}-`));
  const w = { dir } as { -readonly [K in keyof LocalCloudWorld]: LocalCloudWorld[K] };
  beforeAll(async () => {
    const o = { dataDir: dir, services: opts.services };
    w.cloud = opts.shared ? await LocalCloud.up(o) : await LocalCloud.start(o);
    w.clients = createClients(w.cloud.runtime);
  }, 60_000);
  afterAll(async () => {
    w.clients?.destroy();
    if (opts.shared) await LocalCloud.down({ dataDir: dir });
    else await w.cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return w;
}
