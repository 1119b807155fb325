import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type PlatformContext } from '../../../src/cli/context';
import { runIngestDemo } from '../../../src/ingest/demo';

let ctx: PlatformContext;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-demo-'));
  ctx = await openPlatform({ dataDir });
});

/** Every object of the raw zone (ticks and quarantine) with its size. */
function stored(): Record<string, number> {
  const root = path.join(dataDir, 's3', ctx.buckets.raw);
  const files = fs.readdirSync(root, { recursive: true }).map(String);
  return Object.fromEntries(
    files.filter((f) => f.endsWith('._S3rver_object')).map((f) => [f, fs.statSync(path.join(root, f)).size]),
  );
}

afterAll(async () => {
  await ctx?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('runIngestDemo (npm start step)', () => {
  it('ticks -> Kinesis -> lake -> bars, queryable; a second run adds no duplicates', async () => {
    const r = await runIngestDemo(ctx, { symbols: ['DA', 'DB'], eventsPerSymbol: 3000 });
    expect(r).toMatchObject({ ticksSent: 6000, ticksWritten: 6000, quarantined: 0, bars1d: 2 });
    expect(r.kinesisRecords).toBeLessThan(60);
    expect(r.bars1m).toBeGreaterThan(700);
    expect(r.daily.map((d) => d.symbol)).toEqual(['DA', 'DB']);
    expect(r.daily[0].trades).toBeGreaterThan(0);
    const before = stored();
    const again = await runIngestDemo(ctx, { symbols: ['DA', 'DB'], eventsPerSymbol: 3000 });
    // Already landed: nothing is produced again, so nothing is quarantined or added.
    expect(again).toMatchObject({ ticksSent: 0, ticksWritten: 0, quarantined: 0 });
    expect(again.daily).toEqual(r.daily);
    expect(stored()).toEqual(before);
  });
});
