import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BARS_EVENT_JOB_ARGS, BARS_UPDATED_EVENT } from '../../../src/contract/bars';
import { barsUpdatedDetail } from '../../../src/ingest/bars-events';
import { dtFilter, renderSql } from '../../../src/ingest/glue-sql';

const root = path.resolve(import.meta.dirname, '../../..');

/** Runs Python with the job's directory importable (no pyspark: only argument handling is loaded). */
function py(job: string, code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('python3', ['-c', code], {
    cwd: path.join(root, 'glue-jobs', job),
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('Glue entry points (machine python3, no pyspark)', () => {
  it('both job.py files compile (python3 -m py_compile)', () => {
    const r = spawnSync('python3', ['-m', 'py_compile', 'bars/job.py', 'compaction/job.py'], {
      cwd: path.join(root, 'glue-jobs'),
      encoding: 'utf8',
      env: { ...process.env, PYTHONPYCACHEPREFIX: path.join(os.tmpdir(), 'quant-pycache') },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('bars: parses Glue-style arguments and ignores the ones Glue adds', () => {
    const r = py(
      'bars',
      `import job, json
a = job.parse_args(['--JOB_NAME', 'quant-bars-1m', '--job-bookmark-option', 'job-bookmark-enable', '--interval', '1m',
  '--raw-path', 's3://raw-bucket/ticks', '--curated-path', 's3://curated-bucket/bars/', '--dt', '2026-01-05', '--dt', '2026-01-02', '--dt', ''])
print(json.dumps({'interval': a.interval, 'raw': a.raw_path, 'path': a.curated_path, 'dt': a.dt, 'job': a.JOB_NAME}))`,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      interval: '1m',
      raw: 's3://raw-bucket/ticks',
      path: 's3://curated-bucket/bars',
      dt: ['2026-01-02', '2026-01-05'],
      job: 'quant-bars-1m',
    });
  });

  it('bars: rejects bad arguments with a message naming the argument', () => {
    const cases: Array<[string, RegExp]> = [
      [
        `['--interval', '5m', '--raw-path', 's3://r/t', '--curated-path', 's3://b/x']`,
        /--interval: invalid choice: '5m'/,
      ],
      [
        `['--interval', '1m', '--raw-path', 's3://r/t', '--curated-path', 's3://b/x', '--dt', '2026-02-30']`,
        /--dt: '2026-02-30' is not a date/,
      ],
      [
        `['--interval', '1m', '--raw-path', 's3://r/t', '--curated-path', 's3://b/x', '--dt', "2026-01-01' OR 1=1"]`,
        /is not YYYY-MM-DD/,
      ],
      [
        `['--interval', '1m', '--raw-path', 'raw-bucket', '--curated-path', 's3://b/x']`,
        /argument --raw-path: 'raw-bucket' is not an s3:\/\/ URL/,
      ],
      [
        `['--interval', '1m', '--raw-path', 's3://r/t', '--curated-path', '/local/path']`,
        /not an s3:\/\/ URL/,
      ],
      [
        `['--interval', '1m', '--raw-path', 's3://r/t']`,
        /the following arguments are required: --curated-path/,
      ],
    ];
    // One interpreter for all cases (startup dominates): each SystemExit is caught with its stderr.
    const r = py(
      'bars',
      `import contextlib, io, json, job
out = []
for argv in [${cases.map(([a]) => a).join(', ')}]:
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            job.parse_args(argv)
        out.append([None, ''])
    except SystemExit as e:
        out.append([e.code, err.getvalue()])
print(json.dumps(out))`,
    );
    expect(r.stderr).toBe('');
    const results = JSON.parse(r.stdout) as Array<[number | null, string]>;
    cases.forEach(([, msg], i) => {
      expect(results[i][0]).toBe(2);
      expect(results[i][1]).toMatch(msg);
    });
  });

  it('compaction: defaults to yesterday (UTC) and bounds the target file size', () => {
    const r = py(
      'compaction',
      `import job, json, datetime
a = job.parse_args(['--raw-path', 's3://raw/ticks', '--dt', ''], today=datetime.date(2026, 3, 1))
print(json.dumps({'dt': a.dt, 'mb': a.target_file_mb, 'raw': a.raw_path}))`,
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ dt: ['2026-02-28'], mb: 128, raw: 's3://raw/ticks' });
    const bad = py(
      'compaction',
      `import job; job.parse_args(['--raw-path', 's3://r/t', '--target-file-mb', '4'])`,
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--target-file-mb must be between 32 and 1024/);
  });

  it('Python and TypeScript render the same SQL from the same .sql file', () => {
    for (const [job, params] of [
      [
        'bars',
        { interval_ns: '60000000000', label_offset_ns: '60000000000', dt_filter: dtFilter(['2026-01-05']) },
      ],
      ['bars', { interval_ns: '86400000000000', label_offset_ns: '0', dt_filter: dtFilter(['2026-01-05']) }],
      ['compaction', { dt_filter: dtFilter(['2026-01-05', '2026-01-06']) }],
    ] as const) {
      const r = py(
        job,
        `import job, sys; sys.stdout.write(job.render_sql(job.load_sql('${job}.sql'), {k: v for k, v in ${JSON.stringify(params)}.items()}))`,
      );
      expect(r.stderr).toBe('');
      const template = spawnSync('cat', [path.join(root, 'glue-jobs', job, `${job}.sql`)], {
        encoding: 'utf8',
      }).stdout;
      expect(r.stdout).toBe(renderSql(template, params));
      expect(r.stdout).not.toMatch(/\{\{/);
      const pyFilter = py(job, `import job, sys; sys.stdout.write(job.dt_filter(['2026-01-05']))`);
      expect(pyFilter.stdout).toBe(dtFilter(['2026-01-05']));
    }
    const missing = py('bars', `import job; job.render_sql('{{nope}}', {})`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nope/);
    expect(() => renderSql('{{nope}}', {})).toThrow(/nope/);
  });

  it('bars: the BarsUpdated entry has the contract names and the same detail as barsUpdatedDetail', () => {
    const symbols = Array.from({ length: 130 }, (_, i) => `S${String(i).padStart(3, '0')}`).reverse();
    const args = [
      '--interval',
      '1d',
      '--raw-path',
      's3://r/t',
      '--curated-path',
      's3://c/bars',
      BARS_EVENT_JOB_ARGS.bus,
      'default',
      BARS_EVENT_JOB_ARGS.source,
      BARS_UPDATED_EVENT.source,
      BARS_EVENT_JOB_ARGS.detailType,
      BARS_UPDATED_EVENT.detailType,
    ];
    const r = py(
      'bars',
      `import job, json, datetime
a = job.parse_args(${JSON.stringify(args)})
syms = ${JSON.stringify([...symbols, symbols[0]])}
e = job.bars_updated_entry(a, syms, datetime.datetime(2026, 1, 6, 0, 0, 0), 3140)
none_rows = job.bars_updated_entry(a, syms, datetime.datetime(2026, 1, 6), 0)
none_bus = job.bars_updated_entry(job.parse_args(['--interval', '1d', '--raw-path', 's3://r/t', '--curated-path', 's3://c/b']), syms, datetime.datetime(2026, 1, 6), 5)
print(json.dumps({'entry': e, 'none': [none_rows, none_bus]}))`,
    );
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { entry: Record<string, string>; none: unknown[] };
    expect(out.none).toEqual([null, null]);
    expect(out.entry).toMatchObject({
      EventBusName: 'default',
      Source: BARS_UPDATED_EVENT.source,
      DetailType: BARS_UPDATED_EVENT.detailType,
    });
    // The same bars described by the local publisher (src/ingest/bars-events.ts).
    expect(JSON.parse(out.entry.Detail)).toEqual(
      barsUpdatedDetail('1d', symbols, [Date.UTC(2026, 0, 5), Date.UTC(2026, 0, 6)], 3140),
    );
    expect(JSON.parse(out.entry.Detail).symbols).toHaveLength(100);

    const half = py(
      'bars',
      `import job
job.parse_args(['--interval', '1d', '--raw-path', 's3://r/t', '--curated-path', 's3://c/b', '${BARS_EVENT_JOB_ARGS.bus}', 'default'])`,
    );
    expect(half.status).toBe(2);
    expect(half.stderr).toMatch(/--bars-event-bus needs --bars-event-source and --bars-event-detail-type/);
  });

  it('bars: a rejected PutEvents entry fails the run', () => {
    const r = py(
      'bars',
      `import job
class C:
    def put_events(self, Entries):
        return {'FailedEntryCount': 1, 'Entries': [{'ErrorCode': 'AccessDenied', 'ErrorMessage': 'not authorized'}]}
job.publish({'EventBusName': 'default'}, C())`,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/BarsUpdated not put on default: not authorized/);
  });
});
