/**
 * Point in time of daily sentiment (src/news/daily.ts) and of the optional ML feature built on it
 * (featureSql with `sentiment: true`), on DuckDB. The cut-off is 20:00 UTC: an article at 19:59:59
 * counts for its day, one at 20:00:00 for the next bar. Changing an article published after a
 * day's cut-off must not change that day's value. Expected values are computed by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES, LABEL_COLUMN } from '../../../src/contract/ml';
import { SENTIMENT_FEATURE } from '../../../src/contract/news';
import { openDuckDb } from '../../../src/lake/duckdb';
import { featureSql } from '../../../src/ml/features';
import { dailySentimentSql } from '../../../src/news/daily';

let db: Awaited<ReturnType<typeof openDuckDb>>;

beforeAll(async () => {
  db = await openDuckDb();
  const { con } = db;
  await con.run(
    `CREATE TABLE bars (symbol VARCHAR, ts TIMESTAMP, close DOUBLE, volume DOUBLE, "interval" VARCHAR)`,
  );
  // AAA trades Mon 2024-03-04 .. Fri 2024-03-08, then Mon 2024-03-11 (a weekend in between).
  const days = ['2024-03-04', '2024-03-05', '2024-03-06', '2024-03-07', '2024-03-08', '2024-03-11'];
  for (const [i, d] of days.entries())
    await con.run(
      `INSERT INTO bars VALUES ('AAA', TIMESTAMP '${d}', ${100 + i}, 1000, '1d'), ('BBB', TIMESTAMP '${d}', 50, 500, '1d')`,
    );
  await con.run(
    `CREATE TABLE news_sentiment (article_id VARCHAR, published_at TIMESTAMP, comparative DOUBLE, symbol VARCHAR)`,
  );
  await con.run(`INSERT INTO news_sentiment VALUES
    ('a0', TIMESTAMP '2024-03-03 21:00:00', 0.9, 'AAA'),  -- Sunday evening: in the first bar's look-back day
    ('a1', TIMESTAMP '2024-03-05 08:00:00', 0.5, 'AAA'),
    ('a2', TIMESTAMP '2024-03-05 19:59:59', -0.1, 'AAA'), -- just before 03-05's cut-off: counts for 03-05
    ('a3', TIMESTAMP '2024-03-05 20:00:00', 0.7, 'AAA'),  -- at the cut-off: counts for 03-06
    ('a4', TIMESTAMP '2024-03-09 12:00:00', -0.4, 'AAA'), -- Saturday: counts for Monday 03-11
    ('b1', TIMESTAMP '2024-03-05 10:00:00', 0.3, 'BBB')`);
});
afterAll(() => db?.close());

async function daily(): Promise<Record<string, { s: number; n: number }>> {
  const rows = (
    await db.con.runAndReadAll(
      `SELECT strftime(ts, '%Y-%m-%d') AS d, ${SENTIMENT_FEATURE} AS s, news_articles AS n
       FROM (${dailySentimentSql({ bars: 'bars', symbols: ['AAA'] })}) WHERE symbol = 'AAA' ORDER BY d`,
    )
  ).getRowObjectsJS();
  return Object.fromEntries(rows.map((r) => [String(r.d), { s: Number(r.s), n: Number(r.n) }]));
}

describe('daily sentiment, point in time', () => {
  it('assigns each article to the first bar whose cut-off is after its publication', async () => {
    const d = await daily();
    expect(d['2024-03-04']).toEqual({ s: 0.9, n: 1 }); // [03-03 20:00, 03-04 20:00): a0
    expect(d['2024-03-05'].n).toBe(2); // a1, a2
    expect(d['2024-03-05'].s).toBeCloseTo((0.5 - 0.1) / 2, 12);
    expect(d['2024-03-06']).toEqual({ s: 0.7, n: 1 }); // a3
    expect(d['2024-03-07']).toEqual({ s: 0, n: 0 }); // no news: neutral
    expect(d['2024-03-08']).toEqual({ s: 0, n: 0 });
    expect(d['2024-03-11']).toEqual({ s: -0.4, n: 1 }); // the weekend's a4, after Friday's cut-off
  });

  it("changing an article published after a day's cut-off changes later days only", async () => {
    const before = await daily();
    await db.con.run(`UPDATE news_sentiment SET comparative = -5 WHERE article_id = 'a3'`);
    try {
      const after = await daily();
      expect(after['2024-03-05']).toEqual(before['2024-03-05']);
      expect(after['2024-03-04']).toEqual(before['2024-03-04']);
      expect(after['2024-03-06']).toEqual({ s: -5, n: 1 });
    } finally {
      await db.con.run(`UPDATE news_sentiment SET comparative = 0.7 WHERE article_id = 'a3'`);
    }
  });
});

describe('the optional ML feature', () => {
  it('is off by default: the feature columns are exactly the feature set', async () => {
    const cols = (await db.con.runAndReadAll(featureSql({ symbols: ['AAA', 'BBB'] }))).columnNames();
    expect(cols).toEqual(['ts', 'symbol', ...FEATURE_NAMES, LABEL_COLUMN]);
  });

  it('adds news_sentiment_1d after the feature set, point in time', async () => {
    const sql = featureSql({ symbols: ['AAA', 'BBB'], sentiment: true });
    const read = async () => {
      const r = await db.con.runAndReadAll(sql);
      return {
        cols: r.columnNames(),
        rows: r
          .getRowObjectsJS()
          .map(
            (x) =>
              `${String(x.symbol)} ${(x.ts as Date).toISOString().slice(0, 10)} ${Number(x[SENTIMENT_FEATURE])}`,
          ),
      };
    };
    const a = await read();
    expect(a.cols).toEqual(['ts', 'symbol', ...FEATURE_NAMES, SENTIMENT_FEATURE, LABEL_COLUMN]);
    expect(a.rows).toEqual([
      'AAA 2024-03-04 0.9',
      'AAA 2024-03-05 0.2',
      'AAA 2024-03-06 0.7',
      'AAA 2024-03-07 0',
      'AAA 2024-03-08 0',
      'AAA 2024-03-11 -0.4',
      'BBB 2024-03-04 0',
      'BBB 2024-03-05 0.3',
      'BBB 2024-03-06 0',
      'BBB 2024-03-07 0',
      'BBB 2024-03-08 0',
      'BBB 2024-03-11 0',
    ]);
    // A later article changed: the rows up to its publication stay as they were.
    await db.con.run(`UPDATE news_sentiment SET comparative = 0.1 WHERE article_id = 'a4'`);
    try {
      const b = await read();
      expect(b.rows.slice(0, 5)).toEqual(a.rows.slice(0, 5));
      expect(b.rows[5]).toBe('AAA 2024-03-11 0.1');
    } finally {
      await db.con.run(`UPDATE news_sentiment SET comparative = -0.4 WHERE article_id = 'a4'`);
    }
  });
});
