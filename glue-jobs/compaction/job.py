"""Glue job: compacts the raw ticks of given days into one de-duplicated file per (dt, symbol).

Thin entry point: the transformation is compaction.sql (the same SQL the local runner gives DuckDB).
Argument handling is importable without pyspark so it can be unit-tested anywhere.

The compacted data is written beside the small files under a run-specific prefix, then the small
files are deleted: a reader may briefly see a row twice (bars.sql de-duplicates), never miss one.
"""
import argparse
import datetime
import os
import re
import sys
import uuid

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


def parse_args(argv, today=None):
    """Parses the job arguments. Without --dt the job compacts yesterday (UTC): the scheduled run."""
    p = argparse.ArgumentParser(prog="compaction", description=__doc__)
    p.add_argument("--raw-path", required=True, type=_s3_url, help="s3://bucket/ticks")
    p.add_argument("--dt", action="append", default=[], type=lambda v: v if v == "" else _date(v))
    p.add_argument("--target-file-mb", type=int, default=128)
    p.add_argument("--JOB_NAME", default="compaction")
    args, _unknown = p.parse_known_args(argv)
    if args.target_file_mb < 32 or args.target_file_mb > 1024:
        p.error("--target-file-mb must be between 32 and 1024")
    dts = sorted({d for d in args.dt if d})
    if not dts:
        today = today or datetime.datetime.now(datetime.timezone.utc).date()
        dts = [(today - datetime.timedelta(days=1)).isoformat()]
    args.dt = dts
    return args


def render_sql(template, params):
    def sub(m):
        if m.group(1) not in params:
            raise KeyError(f"SQL parameter {{{{{m.group(1)}}}}} has no value")
        return str(params[m.group(1)])
    return re.sub(r"\{\{(\w+)\}\}", sub, template)


def dt_filter(dts):
    for d in dts:
        _date(d)
    return "CAST(dt AS STRING) IN (" + ", ".join(f"'{d}'" for d in dts) + ")"


def load_sql(name):
    for base in (os.path.dirname(os.path.abspath(__file__)), os.getcwd()):
        path = os.path.join(base, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError(name)


def main(argv):
    args = parse_args(argv)
    import boto3  # type: ignore
    from awsglue.context import GlueContext  # type: ignore
    from awsglue.job import Job  # type: ignore
    from pyspark.context import SparkContext  # type: ignore

    sc = SparkContext.getOrCreate()
    glue = GlueContext(sc)
    spark = glue.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    job = Job(glue)
    job.init(args.JOB_NAME, vars(args))

    bucket, _, prefix = args.raw_path[len("s3://"):].partition("/")
    s3 = boto3.client("s3")
    for dt in args.dt:
        # Snapshot the inputs first: files landing meanwhile are left for the next run.
        inputs = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/dt={dt}/"):
            inputs += [o for o in page.get("Contents", []) if o["Key"].endswith(".parquet")]
        if len(inputs) <= 1:
            continue
        paths = [f"s3://{bucket}/{o['Key']}" for o in inputs]
        spark.read.option("basePath", args.raw_path).parquet(*paths).createOrReplaceTempView("ticks")
        out = spark.sql(render_sql(load_sql("compaction.sql"), {"dt_filter": dt_filter([dt])}))
        total = sum(o["Size"] for o in inputs)
        files = max(1, total // (args.target_file_mb * 1024 * 1024))
        run = uuid.uuid4().hex[:12]
        (out.drop("dt").repartition(files, "symbol").sortWithinPartitions("symbol", "exchange_ts", "seq")
            .write.mode("overwrite").partitionBy("symbol").parquet(f"s3://{bucket}/{prefix}/dt={dt}/_compacting-{run}"))
        # Move the outputs into place (copy within the partition), then delete the inputs.
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/dt={dt}/_compacting-{run}/"):
            for o in page.get("Contents", []):
                if not o["Key"].endswith(".parquet"):
                    continue
                sym = o["Key"].split("/symbol=")[1].split("/")[0]
                name = o["Key"].rsplit("/", 1)[1]
                s3.copy_object(Bucket=bucket, Key=f"{prefix}/dt={dt}/symbol={sym}/compacted-{run}-{name}",
                               CopySource={"Bucket": bucket, "Key": o["Key"]})
        keys = [{"Key": o["Key"]} for o in inputs]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/dt={dt}/_compacting-{run}/"):
            keys += [{"Key": o["Key"]} for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i:i + 1000], "Quiet": True})
    job.commit()


if __name__ == "__main__":
    main(sys.argv[1:])
