import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type PlatformContext } from '../../src/cli/context';
import { runIngestDemo } from '../../src/ingest/demo';

let ctx: PlatformContext;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-demo-'));
  ctx = await openPlatform({ dataDir });
});

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
    const again = await runIngestDemo(ctx, { symbols: ['DA', 'DB'], eventsPerSymbol: 3000 });
    expect(again).toMatchObject({ ticksWritten: 0, quarantined: 6000 });
    expect(again.daily).toEqual(r.daily);
  });
});
