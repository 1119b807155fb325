"""Glue job: raw ticks -> 1m or 1d bars in the curated zone.

Thin entry point: the transformation is bars.sql (the same SQL `quant bars build` runs on DuckDB).
Argument handling is importable without pyspark so it can be unit-tested anywhere.

Job bookmarks find the tick files that are new since the last run; the job then recomputes the
bars of every day those files touch, from all the ticks of that day, and replaces those days' bars
(other days in the same year partition are kept).

Once the bars are written it publishes BarsUpdated (src/contract/bars.ts) to EventBridge, as
`quant bars build` and `quant lake import` do, so that the strategy runner and retraining react to
Glue-built bars too. The bus and the event's names come from the job's arguments (set by the
ingestion stack from src/contract/bars.ts); an empty bus publishes nothing.
"""
import argparse
import datetime
import json
import os
import re
import sys

# The event's `symbols` lists at most this many (BARS_EVENT_MAX_SYMBOLS in src/contract/bars.ts).
MAX_EVENT_SYMBOLS = 100

INTERVAL_NS = {"1m": 60_000_000_000, "1d": 86_400_000_000_000}
# From a bar's start to its label: 1m bars by close time, daily bars by their session date.
LABEL_OFFSET_NS = {"1m": INTERVAL_NS["1m"], "1d": 0}
_DT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value):
    if not _DT.match(value):
        raise argparse.ArgumentTypeError(f"--dt: {value!r} is not YYYY-MM-DD")
    try:
        datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--dt: {value!r} is not a date ({exc})") from exc
    return value


def _s3_url(value):
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise argparse.ArgumentTypeError(f"{value!r} is not an s3:// URL")
    return value.rstrip("/")


def parse_args(argv):
    """Parses the job arguments; Glue's own (--JOB_NAME, --job-bookmark-option, ...) are ignored."""
    p = argparse.ArgumentParser(prog="bars", description=__doc__)
    p.add_argument("--interval", required=True, choices=sorted(INTERVAL_NS))
    p.add_argument("--raw-path", required=True, type=_s3_url, help="s3://bucket/ticks")
    p.add_argument("--curated-path", required=True, type=_s3_url, help="s3://bucket/bars")
    # Glue passes every default argument, so an empty --dt means "days with new files".
    p.add_argument("--dt", action="append", default=[], type=lambda v: v if v == "" else _date(v))
    p.add_argument("--JOB_NAME", default="bars")
    # BARS_EVENT_JOB_ARGS of src/contract/bars.ts.
    p.add_argument("--bars-event-bus", default="")
    p.add_argument("--bars-event-source", default="")
    p.add_argument("--bars-event-detail-type", default="")
    args, _unknown = p.parse_known_args(argv)
    if args.bars_event_bus and not (args.bars_event_source and args.bars_event_detail_type):
        p.error("--bars-event-bus needs --bars-event-source and --bars-event-detail-type")
    args.dt = sorted({d for d in args.dt if d})
    return args


def render_sql(template, params):
    """Replaces {{name}}; an unknown or missing parameter is an error."""
    def sub(m):
        if m.group(1) not in params:
            raise KeyError(f"SQL parameter {{{{{m.group(1)}}}}} has no value")
        return str(params[m.group(1)])
    return re.sub(r"\{\{(\w+)\}\}", sub, template)


def dt_filter(dts):
    for d in dts:
        _date(d)
    return "true" if not dts else "CAST(dt AS STRING) IN (" + ", ".join(f"'{d}'" for d in dts) + ")"


def _iso_ms(ts):
    """A bar label (naive UTC datetime, as Spark collects it with the UTC session zone) as JS's toISOString."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def bars_updated_entry(args, symbols, through, rows):
    """The PutEvents entry of BarsUpdated for the bars just written, or None (no rows, or no bus).

    `through` is the newest bar label written; the detail has the shape of barsUpdatedDetail in
    src/ingest/bars-events.ts (a test holds the two equal)."""
    if rows == 0 or not args.bars_event_bus:
        return None
    names = sorted(set(symbols))
    detail = {
        "interval": args.interval,
        "symbols": names[:MAX_EVENT_SYMBOLS],
        "symbolCount": len(names),
        "through": _iso_ms(through),
        "rows": int(rows),
    }
    return {
        "EventBusName": args.bars_event_bus,
        "Source": args.bars_event_source,
        "DetailType": args.bars_event_detail_type,
        "Detail": json.dumps(detail, separators=(",", ":")),
    }


def publish(entry, client):
    """One PutEvents; a rejected entry fails the job run (its failure alarm fires, the next run retries)."""
    r = client.put_events(Entries=[entry])
    if r.get("FailedEntryCount"):
        raise RuntimeError(f"BarsUpdated not put on {entry['EventBusName']}: {r['Entries'][0].get('ErrorMessage', 'failed')}")


def load_sql(name):
    """The .sql file ships next to the script (S3 asset) or in the working dir (--extra-files)."""
    for base in (os.path.dirname(os.path.abspath(__file__)), os.getcwd()):
        path = os.path.join(base, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError(name)


def main(argv):
    args = parse_args(argv)
    # Imported here: only the Glue runtime has them.
    from awsglue.context import GlueContext  # type: ignore
    from awsglue.job import Job  # type: ignore
    from pyspark.context import SparkContext  # type: ignore
    from pyspark.sql import functions as F  # type: ignore

    sc = SparkContext.getOrCreate()
    glue = GlueContext(sc)
    spark = glue.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    job = Job(glue)
    job.init(args.JOB_NAME, vars(args))

    dts = args.dt
    if not dts:
        # Bookmarked read (S3 source, by object modification time): only files added since the last
        # successful run. Read from S3, not the catalog: Glue ETL does not use partition projection.
        new = glue.create_dynamic_frame.from_options(
            connection_type="s3",
            connection_options={"paths": [args.raw_path + "/"], "recurse": True},
            format="parquet",
            transformation_ctx="new_ticks",
        ).toDF()
        dts = sorted({m.group(1) for m in (re.search(r"/dt=(\d{4}-\d{2}-\d{2})/", f) for f in new.inputFiles()) if m})
    if dts:
        paths = [f"{args.raw_path}/dt={d}/" for d in dts]
        spark.read.option("basePath", args.raw_path).parquet(*paths).createOrReplaceTempView("ticks")
        bars = spark.sql(
            render_sql(
                load_sql("bars.sql"),
                {
                    "interval_ns": INTERVAL_NS[args.interval],
                    "label_offset_ns": LABEL_OFFSET_NS[args.interval],
                    "dt_filter": dt_filter(dts),
                },
            )
        ).withColumn("interval", F.lit(args.interval))
        # Merge into the year partitions: keep the bars of days not rebuilt, replace the rest.
        years = [r["year"] for r in bars.select("year").distinct().collect()]
        out = f"{args.curated_path}/interval={args.interval}"
        try:
            old = spark.read.parquet(out).where(F.col("year").isin(years))
            day = F.date_format(F.col("ts") - F.expr(f"INTERVAL {LABEL_OFFSET_NS[args.interval] // 1000} MICROSECONDS"), "yyyy-MM-dd")
            old = old.where(~day.isin(dts)).withColumn("interval", F.lit(args.interval))
            bars = bars.unionByName(old)
        except Exception as exc:  # first run: nothing there yet
            if "PATH_NOT_FOUND" not in str(exc) and "Path does not exist" not in str(exc):
                raise
        cols = ["ts", "open", "high", "low", "close", "volume", "vwap", "trades", "symbol", "year"]
        # The merge reads the partitions it is about to overwrite: Spark refuses to overwrite a path
        # its plan still reads, so materialise the result first (an eager checkpoint cuts the lineage).
        bars = bars.select(*cols).localCheckpoint(eager=True)
        bars.repartition("symbol", "year").write.mode("overwrite").partitionBy("symbol", "year").parquet(out)
        # The event describes the days rebuilt (not the kept ones): their symbols, newest bar and rows.
        day = F.date_format(F.col("ts") - F.expr(f"INTERVAL {LABEL_OFFSET_NS[args.interval] // 1000} MICROSECONDS"), "yyyy-MM-dd")
        built = bars.where(day.isin(dts))
        stats = built.agg(F.count(F.lit(1)).alias("rows"), F.max("ts").alias("through")).collect()[0]
        entry = None
        if stats["rows"]:
            symbols = [r["symbol"] for r in built.select("symbol").distinct().collect()]
            entry = bars_updated_entry(args, symbols, stats["through"], stats["rows"])
        if entry is not None:
            import boto3  # type: ignore  # in the Glue runtime

            publish(entry, boto3.client("events"))
    job.commit()


if __name__ == "__main__":
    main(sys.argv[1:])
