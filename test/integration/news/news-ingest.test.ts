/**
 * The news pull end to end over real HTTP on loopback: the seeded news simulator (Polygon's
 * /v2/reference/news shape) and the local S3 server, read back through DuckDB. Paging, de-dup on
 * re-run, 429/5xx backoff with nothing lost, an expired key, and two pulls at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients, type AwsClients } from '../../../src/aws/clients';
import { lakeBuckets, type LakeBuckets } from '../../../src/lake/buckets';
import { DuckDbQueryEngine } from '../../../src/lake/query';
import { LocalCloud } from '../../../src/local/cloud';
import { VendorAuthError, VendorUnavailableError } from '../../../src/news/client';
import { ingestNews } from '../../../src/news/ingest';
import { NEWS_SIM_KEY, NewsSimulator } from '../../../src/news/simulator';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'news-ingest-'));
let cloud: LocalCloud;
let clients: AwsClients;
let buckets: LakeBuckets;
let sim: NewsSimulator;
let engine: DuckDbQueryEngine;

beforeAll(async () => {
  cloud = await LocalCloud.start({ dataDir, services: ['s3'] });
  clients = createClients(cloud.runtime);
  buckets = lakeBuckets(cloud.runtime);
  sim = await NewsSimulator.start({ seed: 11 });
  engine = await DuckDbQueryEngine.create(cloud.runtime);
}, 60_000);

afterAll(async () => {
  await engine?.close();
  clients?.destroy();
  await sim?.close();
  await cloud?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const day = (d: string): number => Date.parse(`${d}T00:00:00Z`);
/** Rows the corpus of [from, to) gives: one per (article, ticker). */
const expectedRows = (from: number, to: number): string[] =>
  sim
    .corpus(from, to)
    .flatMap((a) => a.tickers.map((t) => `${a.id}|${t}|${a.published_utc.slice(0, 10)}`))
    .sort();
async function lakeRows(from: number, to: number): Promise<string[]> {
  const rows = await engine.query(
    `SELECT article_id, symbol, strftime(dt, '%Y-%m-%d') AS dt FROM news_sentiment
     WHERE published_at >= epoch_ms(${from}) AND published_at < epoch_ms(${to})`,
  );
  return rows.map((r) => `${String(r.article_id)}|${String(r.symbol)}|${String(r.dt)}`).sort();
}
const target = () => ({ clients, buckets });
const noWait = async (): Promise<void> => {};

describe('ingestNews', () => {
  it('pages through the API, scores and writes one row per article and symbol; a re-run adds nothing', async () => {
    const from = day('2024-03-04');
    const to = day('2024-03-07');
    const want = expectedRows(from, to);
    expect(want.length).toBeGreaterThan(20);
    const first = await ingestNews(target(), {
      baseUrl: sim.url,
      apiKey: NEWS_SIM_KEY,
      fromMs: from,
      toMs: to,
      pageSize: 5,
    });
    expect(first.articles).toBe(sim.corpus(from, to).length);
    expect(first.pages).toBe(Math.ceil(first.articles / 5));
    expect(first.added).toBe(want.length);
    expect(first.duplicates).toBe(0);
    expect(first.rejected).toBe(0);
    expect(await lakeRows(from, to)).toEqual(want);

    // Scores come from the library: a "surge ... beat" headline is positive, a "slumps ... disappoints" one negative.
    const scored = await engine.query(
      `SELECT title, score, comparative FROM news_sentiment WHERE published_at >= epoch_ms(${from}) AND published_at < epoch_ms(${to})`,
    );
    for (const r of scored) {
      if (/surge|rallies|upgrade/.test(String(r.title)))
        expect(Number(r.score), String(r.title)).toBeGreaterThan(0);
      if (/slumps|downgrade|falls/.test(String(r.title)))
        expect(Number(r.score), String(r.title)).toBeLessThan(0);
    }

    const again = await ingestNews(target(), {
      baseUrl: sim.url,
      apiKey: NEWS_SIM_KEY,
      fromMs: from,
      toMs: to,
      pageSize: 5,
    });
    expect(again).toMatchObject({
      articles: first.articles,
      added: 0,
      duplicates: want.length,
      partitions: 0,
    });
    expect(await lakeRows(from, to)).toEqual(want);
  });

  it('backs off on 429 (honouring Retry-After) and 5xx, mid-paging too, and loses nothing', async () => {
    const from = day('2024-04-01');
    const to = day('2024-04-03');
    const waits: number[] = [];
    sim.failNext({ status: 429, retryAfter: 2 }, { status: 503 });
    const before = sim.responses.length;
    const r1 = await ingestNews(target(), {
      baseUrl: sim.url,
      apiKey: NEWS_SIM_KEY,
      fromMs: from,
      toMs: day('2024-04-02'),
      pageSize: 3,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(sim.responses.slice(before, before + 3)).toEqual([429, 503, 200]);
    expect(r1.retries).toBe(2);
    expect(waits[0]).toBe(2000);
    expect(waits[1]).toBeGreaterThan(0);

    // A 500 and a 502 after two pages were answered: the cursor is kept, no page is skipped.
    sim.failAfter(2, { status: 500 }, { status: 502 });
    const r2 = await ingestNews(target(), {
      baseUrl: sim.url,
      apiKey: NEWS_SIM_KEY,
      fromMs: day('2024-04-02'),
      toMs: to,
      pageSize: 3,
      sleep: noWait,
    });
    expect(r2.retries).toBe(2);
    expect(r2.pages).toBeGreaterThan(2);
    expect(await lakeRows(from, to)).toEqual(expectedRows(from, to));
  });

  it('gives up after the last attempt with a clear error and writes nothing', async () => {
    const from = day('2024-05-06');
    const to = day('2024-05-07');
    sim.failAfter(1, { status: 503 }, { status: 503 }, { status: 503 });
    await expect(
      ingestNews(target(), {
        baseUrl: sim.url,
        apiKey: NEWS_SIM_KEY,
        fromMs: from,
        toMs: to,
        pageSize: 3,
        maxAttempts: 3,
        sleep: noWait,
      }),
    ).rejects.toThrow(VendorUnavailableError);
    expect(await lakeRows(from, to)).toEqual([]);
    // The next run (the vendor is back) lands the whole window.
    const r = await ingestNews(target(), {
      baseUrl: sim.url,
      apiKey: NEWS_SIM_KEY,
      fromMs: from,
      toMs: to,
      pageSize: 3,
    });
    expect(r.added).toBe(expectedRows(from, to).length);
  });

  it('an expired key: VendorAuthError naming the key and the status, not retried, nothing written', async () => {
    const expiring = await NewsSimulator.start({ seed: 11, keys: ['old-key'] });
    try {
      expiring.expireKey('old-key');
      const from = day('2024-06-03');
      const err = await ingestNews(target(), {
        baseUrl: expiring.url,
        apiKey: 'old-key',
        fromMs: from,
        toMs: day('2024-06-04'),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VendorAuthError);
      expect((err as VendorAuthError).status).toBe(401);
      expect((err as Error).message).toMatch(
        /rejected the key \(HTTP 401: API key expired\).*expired, revoked or wrong/,
      );
      expect(expiring.responses).toEqual([401]);
      expect(await lakeRows(from, day('2024-06-04'))).toEqual([]);
    } finally {
      await expiring.close();
    }
  });

  it('two pulls of the same window at once write every row exactly once', async () => {
    const from = day('2024-07-01');
    const to = day('2024-07-04');
    const run = () =>
      ingestNews(target(), { baseUrl: sim.url, apiKey: NEWS_SIM_KEY, fromMs: from, toMs: to, pageSize: 50 });
    const [a, b] = await Promise.all([run(), run()]);
    const want = expectedRows(from, to);
    expect(a.added + b.added).toBe(want.length);
    expect(a.duplicates + b.duplicates).toBe(want.length);
    expect(await lakeRows(from, to)).toEqual(want);
  });

  it('reports the vendor clock skew and refuses articles stamped after the pull', async () => {
    const ahead = await NewsSimulator.start({ seed: 11, clockOffsetMs: 120_000 });
    try {
      const from = day('2024-08-01');
      const pulledAt = from + 6 * 3_600_000; // the pull "runs" at 06:00 that day
      const corpus = ahead.corpus(from, from + 86_400_000);
      const stamped = corpus.filter((a) => Date.parse(a.published_utc) > pulledAt + 5 * 60_000);
      expect(stamped.length).toBeGreaterThan(0);
      expect(stamped.length).toBeLessThan(corpus.length);
      const r = await ingestNews(target(), {
        baseUrl: ahead.url,
        apiKey: NEWS_SIM_KEY,
        fromMs: from,
        toMs: from + 86_400_000,
        now: () => pulledAt,
      });
      // The Date header has 1 s resolution.
      expect(Math.abs(r.clockSkewMs! - 120_000)).toBeLessThan(2_000);
      expect(r.rejected).toBe(stamped.length);
      for (const a of stamped) expect(r.rejectedReasons.join('\n')).toContain(`${a.id}: published_utc`);
      const kept = corpus.length - stamped.length;
      expect(r.articles).toBe(corpus.length);
      expect((await lakeRows(from, from + 86_400_000)).length).toBe(
        corpus.filter((a) => !stamped.includes(a)).reduce((n, a) => n + a.tickers.length, 0),
      );
      expect(kept).toBeGreaterThan(0);
    } finally {
      await ahead.close();
    }
  });
});
