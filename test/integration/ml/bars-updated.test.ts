/**
 * BarsUpdated (src/contract/bars.ts) after bars land in the lake: `quant lake import` puts it on the
 * local bus (the data directory's events file), in the shape the strategy runner's handler accepts;
 * in AWS the same function puts it on EventBridge (PutEvents over its real JSON protocol, against a
 * local server standing in for EventBridge).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BARS_EVENTS_ENV, BARS_UPDATED_EVENT } from '../../../src/contract/bars';
import { LocalCloud } from '../../../src/local/cloud';
import { barsUpdatedDetail, publishBarsUpdated, readLocalEvents } from '../../../src/ingest/bars-events';
import { runnerEventSchema } from '../../../src/strategy-runner/handler';
import { runQuant } from '../../helpers/quant-cli';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bars-updated-'));
const dataDir = path.join(dir, 'data');

beforeAll(async () => {
  await LocalCloud.up({ dataDir });
}, 60_000);
afterAll(async () => {
  await LocalCloud.down({ dataDir });
  rmSync(dir, { recursive: true, force: true });
});

describe('BarsUpdated', () => {
  it('quant lake import puts one event on the local bus per import, which the runner accepts', async () => {
    const file = path.join(dir, 'spx.csv');
    writeFileSync(
      file,
      'date,open,high,low,close,volume\n2024-01-02,99,101,98,100,10\n2024-01-03,100,102,99,101,11\n2024-01-04,101,101,99,99.5,12\n',
    );
    expect(await readLocalEvents(dataDir)).toEqual([]);
    const r = await runQuant([
      '--data-dir',
      dataDir,
      'lake',
      'import',
      '--table',
      'bars',
      '--file',
      file,
      '--symbol',
      'SPX',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    const events = await readLocalEvents(dataDir, BARS_UPDATED_EVENT.detailType);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      'detail-type': 'BarsUpdated',
      source: 'quant.bars',
      detail: {
        interval: '1d',
        symbols: ['SPX'],
        symbolCount: 1,
        through: '2024-01-04T00:00:00.000Z',
        rows: 3,
      },
    });
    // What the strategy runner's handler takes (its Lambda's EventBridge rule delivers this shape).
    expect(runnerEventSchema.safeParse(events[0]).success).toBe(true);
    // A second import is a second event (each import is news for the runner).
    await runQuant([
      '--data-dir',
      dataDir,
      'lake',
      'import',
      '--table',
      'bars',
      '--file',
      file,
      '--symbol',
      'QQQ',
    ]);
    expect(
      (await readLocalEvents(dataDir, 'BarsUpdated')).map((e) => (e.detail as { symbols: string[] }).symbols),
    ).toEqual([['SPX'], ['QQQ']]);
  });

  it('in AWS: PutEvents to BARS_EVENT_BUS with the detail', async () => {
    const seen: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ headers: req.headers, body: JSON.parse(body) });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const client = new EventBridgeClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    try {
      const detail = barsUpdatedDetail(
        '1m',
        ['B', 'A', 'A'],
        ['2026-01-05T09:31:00Z', Date.parse('2026-01-05T09:32:00Z')],
        3,
      );
      expect(detail).toEqual({
        interval: '1m',
        symbols: ['A', 'B'],
        symbolCount: 2,
        through: '2026-01-05T09:32:00.000Z',
        rows: 3,
      });
      await publishBarsUpdated({ mode: 'aws', region: 'us-east-1' }, () => client, detail, {
        [BARS_EVENTS_ENV.bus]: 'market',
      });
      expect(seen).toHaveLength(1);
      expect(seen[0].headers['x-amz-target']).toBe('AWSEvents.PutEvents');
      const entry = (seen[0].body.Entries as Record<string, unknown>[])[0];
      expect(entry).toMatchObject({
        EventBusName: 'market',
        Source: 'quant.bars',
        DetailType: 'BarsUpdated',
      });
      expect(JSON.parse(entry.Detail as string)).toEqual(detail);
      // Nothing written, nothing published.
      await publishBarsUpdated({ mode: 'aws', region: 'us-east-1' }, () => client, { ...detail, rows: 0 });
      expect(seen).toHaveLength(1);
    } finally {
      client.destroy();
      server.close();
    }
  });
});
