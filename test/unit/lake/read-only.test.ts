import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../../../src/errors';
import { openDuckDb, runReadOnly } from '../../../src/lake/duckdb';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'read-only-'));
let db: { con: DuckDBConnection; close(): void };
beforeAll(async () => {
  db = await openDuckDb();
});
afterAll(() => {
  db.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('runReadOnly', () => {
  it('runs one SELECT', async () => {
    const r = await runReadOnly(db.con, 'SELECT 41 + 1 AS answer');
    expect(r.getRowObjectsJS()).toEqual([{ answer: 42 }]);
  });

  it.each([
    [`COPY (SELECT 1) TO '${path.join(tmp, 'x.csv')}'`, /only SELECT .* got COPY/],
    [`ATTACH '${path.join(tmp, 'y.db')}'`, /only SELECT .* got ATTACH/],
    ['INSTALL httpfs', /only SELECT .* got INSTALL/],
    ['CREATE TABLE t AS SELECT 1', /only SELECT .* got CREATE/],
    ['SET threads = 1', /only SELECT .* got SET/],
    [`EXPORT DATABASE '${path.join(tmp, 'exp')}'`, /only SELECT .* got EXPORT/],
    ['SELECT 1; SELECT 2', /one statement only, got 2/],
    ['   ', /empty query/],
    [';', /no statement/],
  ])('refuses %s, naming the problem, and writes nothing', async (sql, message) => {
    const err = await runReadOnly(db.con, sql).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
    expect(existsSync(path.join(tmp, 'x.csv'))).toBe(false);
    expect(existsSync(path.join(tmp, 'y.db'))).toBe(false);
    expect(existsSync(path.join(tmp, 'exp'))).toBe(false);
  });

  it("reports DuckDB's own parse error as bad input, with its message", async () => {
    const err = await runReadOnly(db.con, 'SELEC 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(/syntax error at or near "SELEC"/);
  });

  it('accepts the read-only forms: WITH, FROM-first, DESCRIBE', async () => {
    const r = await runReadOnly(db.con, 'WITH a AS (SELECT 2 AS x) FROM a');
    expect(r.getRowObjectsJS()).toEqual([{ x: 2 }]);
    await expect(runReadOnly(db.con, 'DESCRIBE SELECT 1 AS y')).resolves.toBeDefined();
  });
});
