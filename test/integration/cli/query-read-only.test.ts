import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runQuant } from '../../helpers/quant-cli';
import { removeDataDirs } from '../../helpers/quant-process';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'query-ro-'));
afterAll(() => removeDataDirs(dataDir));
const query = (sql: string) => runQuant(['--data-dir', dataDir, 'query', sql, '--json']);

describe('quant query (local): read-only, one statement, bad SQL is bad input', () => {
  it('answers a SELECT over the lake tables', async () => {
    const r = await query('SELECT count(*) AS n FROM bars');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual([{ n: 0 }]);
  });

  it('exits 2 for writes, several statements, empty and invalid SQL, with no stack trace', async () => {
    const cases: Array<[string, RegExp]> = [
      [`COPY (SELECT 1) TO '${path.join(dataDir, 'x.csv')}'`, /only SELECT queries .* got COPY/],
      ['SELECT 1; SELECT 2', /one statement only/],
      ['', /empty query/],
      ['SELEC 1', /syntax error/],
      ['SELECT nope FROM bars', /Referenced column "nope" not found/],
    ];
    for (const [sql, message] of cases) {
      const r = await query(sql);
      expect(r.code, sql).toBe(2);
      expect(r.err, sql).toMatch(message);
      expect(r.err, sql).not.toMatch(/\n\s+at /);
    }
  });
});
