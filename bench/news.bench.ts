/**
 * News benchmark: articles scored and written to the local lake (`news_sentiment`).
 *
 * 1. Scoring alone: the `sentiment` package (AFINN-165) over the seeded corpus, articles/s.
 * 2. End to end, as `quant ingest news` and the Lambda run it: the seeded news API simulator over
 *    HTTP on loopback (1,000-article pages) → scoring → the lake's commit protocol (hyparquet, one
 *    conditional PUT per `dt=`/`symbol=` partition, de-duplicated by article id) into the local S3
 *    server. Then the same pull again (every row a duplicate: each partition read and compared).
 * 3. The write stage against a peer: the same rows, already scored and in memory, written by
 *    commitNewsRows into a fresh local S3 server, and by DuckDB (appender, then COPY ... PARTITION_BY
 *    (dt, symbol) to Parquet on local disk: no S3, no de-duplication, no conditional commit). No
 *    Python sentiment library (VADER, TextBlob) is installed here, so scoring has no peer.
 *
 * CPU seconds of this process are printed beside wall time (the machine is shared); the local S3
 * server runs in its own process and is not counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClients } from '../src/aws/clients';
import { lakeBuckets } from '../src/lake/buckets';
import { openDuckDb } from '../src/lake/duckdb';
import { LocalCloud } from '../src/local/cloud';
import { ingestNews } from '../src/news/ingest';
import { commitNewsRows, type NewsRow } from '../src/news/lake';
import { scoreArticle } from '../src/news/sentiment';
import { NEWS_SIM_KEY, NEWS_SIM_SYMBOLS, NewsSimulator } from '../src/news/simulator';

const DAYS = Number(process.env.NEWS_BENCH_DAYS ?? 60);
const PER_DAY = Number(process.env.NEWS_BENCH_PER_DAY ?? 200);
const DAY_MS = 86_400_000;
const FROM = Date.parse('2024-01-01T00:00:00Z');
const TO = FROM + DAYS * DAY_MS;

const cpuSeconds = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6;
async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  return { value, wall: (performance.now() - t0) / 1e3, cpu: cpuSeconds(process.cpuUsage(c0)) };
}
const rate = (n: number, s: number): string =>
  n / s >= 1e6 ? `${(n / s / 1e6).toFixed(2)}M` : `${Math.round(n / s).toLocaleString('en-US')}`;

console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const sim = await NewsSimulator.start({ seed: 3, perDay: PER_DAY });
const corpus = sim.corpus(FROM, TO);
const rowsOf = corpus.reduce((n, a) => n + new Set(a.tickers).size, 0);
console.log(
  `corpus: ${corpus.length} articles over ${DAYS} days (${PER_DAY}/day, ${NEWS_SIM_SYMBOLS.length} symbols), ${rowsOf} rows (one per article and ticker)`,
);

// 1. Scoring alone (3 passes, the last one timed: the JIT has warmed up).
for (let pass = 0; pass < 2; pass++) for (const a of corpus) scoreArticle(a.title, a.description);
const scoring = await timed(() => {
  let s = 0;
  for (const a of corpus) s += scoreArticle(a.title, a.description).score;
  return s;
});
console.log(
  `scoring (sentiment, AFINN-165): ${rate(corpus.length, scoring.wall)} articles/s wall, ${rate(corpus.length, scoring.cpu)} per CPU-second`,
);

// 2. End to end through the simulator into the local lake.
const dir = mkdtempSync(path.join(os.tmpdir(), 'news-bench-'));
const cloud = await LocalCloud.start({ dataDir: path.join(dir, 'a'), services: ['s3'] });
const clients = createClients(cloud.runtime);
const target = { clients, buckets: lakeBuckets(cloud.runtime) };
const pull = () =>
  ingestNews(target, { baseUrl: sim.url, apiKey: NEWS_SIM_KEY, fromMs: FROM, toMs: TO, pageSize: 1000 });
const first = await timed(pull);
console.log(
  `ingest end to end (HTTP pages + scoring + commit): ${first.value.articles} articles, ${first.value.added} rows in ${first.value.partitions} partitions, ${first.wall.toFixed(2)} s wall (${rate(first.value.articles, first.wall)} articles/s, ${rate(first.value.added, first.wall)} rows/s), ${first.cpu.toFixed(2)} s CPU (${rate(first.value.articles, first.cpu)} articles per CPU-second)`,
);
const again = await timed(pull);
console.log(
  `same pull again (all duplicates: ${again.value.duplicates}, ${again.value.added} added): ${again.wall.toFixed(2)} s wall, ${again.cpu.toFixed(2)} s CPU`,
);
clients.destroy();
await cloud.stop();
await sim.close();

// 3. The write stage: the same rows, scored, in memory.
const pulledAt = Date.now();
const rows: NewsRow[] = [];
for (const a of corpus) {
  const s = scoreArticle(a.title, a.description);
  const published = Date.parse(a.published_utc);
  for (const symbol of new Set(a.tickers))
    rows.push({
      article_id: a.id,
      published_at: published,
      source: a.publisher.name,
      title: a.title,
      score: s.score,
      comparative: s.comparative,
      ingested_at: pulledAt,
      dt: a.published_utc.slice(0, 10),
      symbol,
    });
}
const cloud2 = await LocalCloud.start({ dataDir: path.join(dir, 'b'), services: ['s3'] });
const clients2 = createClients(cloud2.runtime);
const ours = await timed(() =>
  commitNewsRows({ clients: clients2, buckets: lakeBuckets(cloud2.runtime) }, rows),
);
console.log(
  `write stage, commitNewsRows → local S3 (conditional PUT per partition, de-dup): ${ours.value.added} rows, ${ours.value.partitions} partitions, ${ours.wall.toFixed(2)} s wall (${rate(rows.length, ours.wall)} rows/s), ${ours.cpu.toFixed(2)} s CPU`,
);
clients2.destroy();
await cloud2.stop();

const db = await openDuckDb();
const out = path.join(dir, 'duckdb');
const peer = await timed(async () => {
  await db.con.run(
    `CREATE TABLE n (article_id VARCHAR, published_at BIGINT, source VARCHAR, title VARCHAR, score DOUBLE,
       comparative DOUBLE, ingested_at BIGINT, dt VARCHAR, symbol VARCHAR)`,
  );
  const ap = await db.con.createAppender('n');
  for (const r of rows) {
    ap.appendVarchar(r.article_id);
    ap.appendBigInt(BigInt(r.published_at));
    ap.appendVarchar(r.source);
    ap.appendVarchar(r.title);
    ap.appendDouble(r.score);
    ap.appendDouble(r.comparative);
    ap.appendBigInt(BigInt(r.ingested_at));
    ap.appendVarchar(r.dt);
    ap.appendVarchar(r.symbol);
    ap.endRow();
  }
  ap.flushSync();
  ap.closeSync();
  await db.con.run(
    `COPY (SELECT article_id, epoch_ms(published_at) AS published_at, source, title, score, comparative,
             epoch_ms(ingested_at) AS ingested_at, dt, symbol FROM n ORDER BY published_at)
     TO '${out}' (FORMAT parquet, PARTITION_BY (dt, symbol))`,
  );
});
db.close();
console.log(
  `write stage, DuckDB appender + COPY PARTITION_BY (dt, symbol) → local disk: ${rows.length} rows, ${peer.wall.toFixed(2)} s wall (${rate(rows.length, peer.wall)} rows/s), ${peer.cpu.toFixed(2)} s CPU`,
);
rmSync(dir, { recursive: true, force: true });
console.log(
  `load average at end: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
