/**
 * The demo's alternative-data phase: the seeded news simulator on loopback, pulled into
 * `news_sentiment` with the same function as `quant ingest news` and the Lambda, then one day of
 * point-in-time sentiment next to that day's returns of the macro universe.
 */
import type { PlatformContext } from '../platform';
import { formatTable } from '../format';
import { SENTIMENT_CUTOFF_HOUR_UTC, SENTIMENT_FEATURE } from '../contract/news';
import { dailySentimentSql } from './daily';
import { ingestNews } from './ingest';
import { waitForNewsOnEngine } from './pending';
import { NEWS_SIM_KEY, NEWS_SIM_SYMBOLS, NewsSimulator } from './simulator';

const DAY_MS = 86_400_000;

export async function runNewsDemo(ctx: PlatformContext, log: (line: string) => void): Promise<void> {
  if (ctx.runtime.mode !== 'local') return; // the simulator serves the local demo only
  const q = await ctx.query();
  const symbols = [...NEWS_SIM_SYMBOLS];
  const list = symbols.map((s) => `'${s}'`).join(', ');
  const last = await q.query(
    `SELECT strftime(max(ts), '%Y-%m-%d') AS d FROM bars WHERE "interval" = '1d' AND symbol IN (${list})`,
  );
  const day = String(last[0]?.d ?? '');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
    log('no daily bars of the macro universe in the lake: nothing to show');
    return;
  }
  const dayMs = Date.parse(`${day}T00:00:00Z`);
  // From four days before (the previous session's cut-off, over a weekend) to the end of the day.
  const fromMs = dayMs - 4 * DAY_MS;
  const toMs = dayMs + DAY_MS;
  const sim = await NewsSimulator.start();
  let r;
  try {
    r = await ingestNews(
      { clients: ctx.clients, buckets: ctx.buckets },
      { baseUrl: sim.url, apiKey: NEWS_SIM_KEY, fromMs, toMs, pageSize: 10 },
    );
  } finally {
    await sim.close();
  }
  log(
    `news ${new Date(fromMs).toISOString().slice(0, 10)}..${day} from the seeded news API simulator (Polygon /v2/reference/news shape): ${r.articles} articles in ${r.pages} pages, ${r.added + r.duplicates} rows in news_sentiment (${r.added} added by this run), scored with sentiment (AFINN-165)`,
  );
  // Another pull (a concurrent `quant ingest news`) may still be writing these days: never show part of it.
  await waitForNewsOnEngine(q, {
    symbols,
    // The first bar's window looks back one day before it (src/news/daily.ts).
    fromDay: new Date(dayMs - 11 * DAY_MS).toISOString().slice(0, 10),
    toDay: day,
  });
  const rows = await q.query(`
    WITH b AS (
      SELECT symbol, ts, close FROM bars
      WHERE "interval" = '1d' AND symbol IN (${list})
        AND ts >= TIMESTAMP '${new Date(dayMs - 10 * DAY_MS).toISOString().slice(0, 10)}' AND ts <= TIMESTAMP '${day}'),
    r AS (SELECT symbol, ts, close, close / lag(close) OVER (PARTITION BY symbol ORDER BY ts) - 1 AS ret FROM b),
    s AS (${dailySentimentSql({ bars: 'b', symbols })})
    SELECT r.symbol, round(r.close, 2) AS close, round(r.ret * 100, 2) AS return_pct,
           s.news_articles AS articles, round(s.${SENTIMENT_FEATURE}, 3) AS sentiment
    FROM r JOIN s ON r.symbol = s.symbol AND r.ts = s.ts
    WHERE r.ts = TIMESTAMP '${day}'
    ORDER BY r.symbol`);
  log(`${day}: daily return and news sentiment (mean comparative score)`);
  log(formatTable(rows.map((x) => ({ ...x, articles: Number(x.articles) }))));
  log(
    `point in time: ${day}'s sentiment uses articles published from the previous session's ${SENTIMENT_CUTOFF_HOUR_UTC}:00 UTC cut-off up to ${day} ${SENTIMENT_CUTOFF_HOUR_UTC}:00 UTC; later ones count for the next session`,
  );
}
