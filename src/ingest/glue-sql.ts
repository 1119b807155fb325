/**
 * The Glue jobs' SQL (glue-jobs/<job>/<job>.sql), run locally by DuckDB: the same text Spark runs,
 * with the `{{name}}` parameters substituted and the Spark functions DuckDB lacks defined as macros.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../errors';
import { packageRoot } from '../package-root';
import { BAR_INTERVAL_NS, type BarInterval } from '../market-data/events';

export type GlueJob = 'bars' | 'compaction';

export function glueSqlPath(job: GlueJob): string {
  return path.join(packageRoot(), 'glue-jobs', job, `${job}.sql`);
}

/** Substitutes `{{name}}`; a parameter left unset is an error, not an empty string. */
export function renderSql(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const v = params[name];
    if (v === undefined) throw new Error(`SQL parameter {{${name}}} has no value`);
    return v;
  });
}

const DT = /^\d{4}-\d{2}-\d{2}$/;

/** A SQL predicate on the `dt` partition for a list of days (all days when empty). */
export function dtFilter(dts: readonly string[]): string {
  for (const d of dts) {
    if (
      !DT.test(d) ||
      Number.isNaN(Date.parse(`${d}T00:00:00Z`)) ||
      new Date(`${d}T00:00:00Z`).toISOString().slice(0, 10) !== d
    ) {
      throw new InputError(`--dt: "${d}" is not a date (YYYY-MM-DD)`, 'dt');
    }
  }
  return dts.length === 0 ? 'true' : `CAST(dt AS STRING) IN (${dts.map((d) => `'${d}'`).join(', ')})`;
}

export function barsSql(interval: BarInterval, dts: readonly string[]): string {
  return renderSql(readFileSync(glueSqlPath('bars'), 'utf8'), {
    interval_ns: BAR_INTERVAL_NS[interval].toString(),
    dt_filter: dtFilter(dts),
  });
}

export function compactionSql(dts: readonly string[]): string {
  return renderSql(readFileSync(glueSqlPath('compaction'), 'utf8'), { dt_filter: dtFilter(dts) });
}

/** Spark functions used by the job SQL, as DuckDB macros. */
export async function defineSparkCompat(con: DuckDBConnection): Promise<void> {
  await con.run('CREATE OR REPLACE MACRO timestamp_micros(us) AS make_timestamp(us)');
  // Keys are ignored: the struct only serves as an ordering key (compared field by field).
  await con.run('CREATE OR REPLACE MACRO named_struct(k1, v1, k2, v2) AS row(v1, v2)');
}
