/**
 * Readers of `news_sentiment` and the lake's pending markers (src/news/pending.ts): a news pull
 * that writes several `dt=`/`symbol=` partitions is paused after its first partition; the
 * sentiment feature read (queryFeatures with `sentiment: true`, the reader training uses) waits
 * and then sees the whole pull, never half of it. An abandoned pull is refused at once, naming it;
 * a pull into another symbol does not hold the read. Local S3 server and DuckDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { NEWS_SENTIMENT } from '../../../src/contract/lake';
import { SENTIMENT_FEATURE } from '../../../src/contract/news';
import { InputError } from '../../../src/errors';
import { importBars } from '../../../src/lake/bars';
import { lakeBuckets, type LakeBuckets } from '../../../src/lake/buckets';
import { deletePending, newPending, putPending } from '../../../src/lake/commit';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';
import { queryFeatures } from '../../../src/ml/features';
import { commitNewsRows, type NewsRow } from '../../../src/news/lake';
import { newsPartitionInScope } from '../../../src/news/pending';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'news-pending-'));
let cloud: LocalCloud;
let clients: AwsClients;
let buckets: LakeBuckets;
let engine: DuckDbQueryEngine;
const DAYS = ['2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08'];

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir, services: ['s3'] });
  clients = createClients(cloud.runtime);
  buckets = lakeBuckets(cloud.runtime);
  engine = await DuckDbQueryEngine.create(cloud.runtime);
  for (const symbol of ['AAA', 'BBB']) {
    const ts = DAYS.map((d) => Date.parse(`${d}T00:00:00Z`));
    await importBars(
      { clients, buckets, tmpDir: dataDir },
      {
        symbol: ts.map(() => symbol),
        ts,
        open: ts.map(() => 100),
        high: ts.map(() => 101),
        low: ts.map(() => 99),
        close: ts.map((_, i) => 100 + i),
        volume: ts.map(() => 1000),
      },
      { interval: '1d' },
    );
  }
}, 60_000);

afterAll(async () => {
  await engine?.close();
  clients?.destroy();
  await cloud?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const row = (id: string, symbol: string, at: string, comparative: number): NewsRow => ({
  article_id: id,
  published_at: Date.parse(at),
  source: 'test',
  title: id,
  score: comparative * 4,
  comparative,
  ingested_at: Date.now(),
  dt: at.slice(0, 10),
  symbol,
});

/** AAA's sentiment feature by bar date. */
async function sentiment(): Promise<Record<string, number>> {
  const rows = await queryFeatures(engine, { symbols: ['AAA'], sentiment: true }, { newsWaitMs: 60_000 });
  return Object.fromEntries(
    rows.map((r) => [(r.ts as Date).toISOString().slice(0, 10), Number(r[SENTIMENT_FEATURE])]),
  );
}

describe('news_sentiment readers and pending writes', () => {
  it('waits for a pull that is committing and then reads all of it, never the first partition alone', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let paused!: () => void;
    const pausedAfterFirst = new Promise<void>((r) => (paused = r));
    // Two partitions (03-04 and 03-06 of AAA); the writer stops after committing the first one.
    const write = commitNewsRows(
      { clients, buckets },
      [row('p1', 'AAA', '2024-03-04T10:00:00Z', 0.5), row('p2', 'AAA', '2024-03-06T10:00:00Z', -0.25)],
      {
        concurrency: 1,
        onPartition: async (done) => {
          if (done === 1) {
            paused();
            await gate;
          }
        },
      },
    );
    await pausedAfterFirst;
    // Half of the pull is in the lake now: the raw table shows it.
    const raw = await engine.query(`SELECT article_id FROM ${NEWS_SENTIMENT.name} WHERE symbol = 'AAA'`);
    expect(raw.map((r) => String(r.article_id))).toEqual(['p1']);

    let settled = false;
    const read = sentiment().finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 800));
    expect(settled).toBe(false);
    release();
    expect((await write).added).toBe(2);
    const s = await read;
    // By hand: 03-04's window [03-03 20:00, 03-04 20:00) holds p1; 03-06's [03-05 20:00, 03-06 20:00) p2.
    expect(s).toEqual({
      '2024-03-04': 0.5,
      '2024-03-05': 0,
      '2024-03-06': -0.25,
      '2024-03-07': 0,
      '2024-03-08': 0,
    });
  });

  it('refuses an abandoned pull at once, naming it, and only for the symbols it touches', async () => {
    const m = {
      ...newPending(
        NEWS_SENTIMENT.name,
        'abandoned',
        ['dt=2024-03-07/symbol=AAA', 'dt=2024-03-08/symbol=AAA'],
        2,
      ),
      host: 'another-host',
      pid: 1,
      startedAt: new Date(Date.now() - 3_600_000).toISOString(),
      heartbeatAt: new Date(Date.now() - 3_600_000).toISOString(),
    };
    await putPending(clients.s3, buckets[NEWS_SENTIMENT.zone], m);
    try {
      const err = await sentiment().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).message).toMatch(
        /^news_sentiment of AAA are incomplete: a news pull of 2 rows into 2 partitions, .* \(pid 1 on another-host\), did not finish; run the same news pull again to complete it$/,
      );
      // BBB's read is not held by a pull into AAA.
      const bbb = await queryFeatures(engine, { symbols: ['BBB'], sentiment: true }, { newsWaitMs: 60_000 });
      expect(bbb).toHaveLength(DAYS.length);
    } finally {
      await deletePending(clients.s3, buckets[NEWS_SENTIMENT.zone], NEWS_SENTIMENT.name, m.id);
    }
  });

  it('scopes a wait by symbol and by day', () => {
    const scope = { symbols: ['AAA'], fromDay: '2024-03-04', toDay: '2024-03-08' };
    expect(newsPartitionInScope('dt=2024-03-05/symbol=AAA', scope)).toBe(true);
    expect(newsPartitionInScope('dt=2024-03-05/symbol=BBB', scope)).toBe(false);
    expect(newsPartitionInScope('dt=2024-03-03/symbol=AAA', scope)).toBe(false);
    expect(newsPartitionInScope('dt=2024-03-09/symbol=AAA', scope)).toBe(false);
    // A layout this code does not know counts as touching everything.
    expect(newsPartitionInScope('something/else', scope)).toBe(true);
  });
});
