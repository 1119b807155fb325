/**
 * `quant ingest news`: pulls a news API (Polygon's /v2/reference/news shape) into `news_sentiment`
 * with the same function as the scheduled Lambda (src/news/ingest.ts). Without `--url` (locally)
 * it starts the seeded news simulator on loopback for the run (src/news/simulator.ts).
 */
import type { Command } from 'commander';
import { VENDOR_KEY_ENV } from '../../contract/vendor-stream';
import { InputError } from '../../errors';
import { inAwsMode, withPlatform, type GlobalOptions } from '../context';
import { printJson } from '../output';
import { listOf } from '../options';

interface NewsOpts {
  url?: string;
  from?: string;
  to?: string;
  symbols?: string[];
  json?: boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

function day(v: string, flag: string): number {
  const ms = Date.parse(`${v}T00:00:00Z`);
  if (!DATE.test(v) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== v)
    throw new InputError(`--${flag}: "${v}" is not a date YYYY-MM-DD`, flag);
  return ms;
}

export function registerIngestNews(ingest: Command): void {
  ingest
    .command('news')
    .description(
      'pull news headlines, score their sentiment and write news_sentiment (dt=/symbol=) to the lake, de-duplicated by article id',
    )
    .option('--url <url>', 'news API base URL (default locally: the seeded simulator, started for the run)')
    .option('--from <YYYY-MM-DD>', 'first day, UTC (default: the day before --to)')
    .option('--to <YYYY-MM-DD>', 'last day, UTC, included (default: today)')
    .option('--symbols <list...>', 'keep only these symbols (comma or space separated)')
    .option('--json', 'machine-readable output')
    .action(ingestNews);
}

async function ingestNews(opts: NewsOpts, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const toDay = opts.to === undefined ? Math.floor(Date.now() / DAY_MS) * DAY_MS : day(opts.to, 'to');
  const fromMs = opts.from === undefined ? toDay - DAY_MS : day(opts.from, 'from');
  const toMs = toDay + DAY_MS;
  if (fromMs >= toMs) throw new InputError(`--from: ${opts.from} is after --to ${opts.to}`, 'from');
  const symbols = listOf(opts.symbols);
  let url = opts.url;
  let key = process.env[VENDOR_KEY_ENV];
  if (url !== undefined) {
    if (!key)
      throw new InputError(
        `${VENDOR_KEY_ENV}: set it to the news API key (needed with --url)`,
        VENDOR_KEY_ENV,
      );
  } else if (inAwsMode(g)) {
    throw new InputError('--url: the news API URL is required with --aws', 'url');
  }
  const { ingestNews } = await import('../../news/ingest');
  const { NewsSimulator, NEWS_SIM_KEY } = await import('../../news/simulator');
  const sim = url === undefined ? await NewsSimulator.start() : undefined;
  if (sim) {
    url = sim.url;
    key = NEWS_SIM_KEY;
  }
  try {
    await withPlatform({ ...g, services: ['s3'] }, async (ctx) => {
      const r = await ingestNews(
        { clients: ctx.clients, buckets: ctx.buckets },
        {
          baseUrl: url!,
          apiKey: key!,
          fromMs,
          toMs,
          symbols: symbols.length > 0 ? symbols : undefined,
          log: opts.json ? undefined : (l) => process.stderr.write(`${l}\n`),
        },
      );
      if (opts.json) printJson(r);
      else
        console.log(
          `news ${r.from.slice(0, 10)}..${new Date(toMs - 1).toISOString().slice(0, 10)}: ${r.articles} article(s), ${r.added} row(s) added, ${r.duplicates} already there, ${r.retries} retried request(s), ${r.rejected} rejected`,
        );
    });
  } finally {
    await sim?.close();
  }
}
