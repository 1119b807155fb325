"""Reading the `train` channel and turning it into model inputs.

The channel holds either one CSV with a header (local features step) or Athena UNLOAD parts
(JSON lines, gzip, no extension). Rows: ts, symbol, <features...>, fwd_return.

Empty feature values: a feature is empty until its look-back window is full and when a
denominator is 0 (see the feature definitions in src/contract/ml.ts). A row with an empty or
non-finite feature is not used, and neither is any sequence window that contains it. Leading
empty rows of a symbol (the warm-up) are expected; after a symbol's first complete row, more than
MAX_GAP_FRACTION of the rows being incomplete is an error naming the column and the count (a broken
column, not the odd zero denominator). Text where a number is expected is always an error.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

LABEL = "fwd_return"
MAX_GAP_FRACTION = 0.01


def channel_files(channel_dir: str | None) -> list[Path]:
    if not channel_dir:
        raise InputError("SM_CHANNEL_TRAIN is not set (the directory of the features file)")
    d = Path(channel_dir)
    if not d.is_dir():
        raise InputError(f"train channel {channel_dir} does not exist or is not a directory")
    files = sorted((p for p in d.iterdir() if p.is_file()), key=lambda p: p.name)
    if not files:
        raise InputError(f"train channel {channel_dir} has no files")
    return files


def data_hash(files: list[Path]) -> str:
    """sha256 of the channel files' bytes, concatenated in name order."""
    h = hashlib.sha256()
    for p in files:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return "sha256:" + h.hexdigest()


def _read_one(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise InputError(f"{path.name}: corrupt gzip data ({e})") from None
    if path.name.lower().endswith(".csv"):
        try:
            df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
            raise InputError(f"{path.name}: not a readable CSV ({str(e).splitlines()[0]})") from None
    else:
        rows = []
        for i, line in enumerate(raw.decode("utf-8", errors="strict").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path.name} line {i}: not JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{path.name} line {i}: expected a JSON object")
            rows.append(obj)
        df = pd.DataFrame(rows)
    df["__file"] = path.name
    df["__line"] = np.arange(len(df)) + (2 if path.name.lower().endswith(".csv") else 1)
    return df


def _to_number(df: pd.DataFrame, col: str) -> np.ndarray:
    """Numeric column; empty/null/NaN -> NaN; text -> InputError naming file, line and column."""
    s = df[col]
    num = pd.to_numeric(s.where(s != "", None), errors="coerce")
    text = s.astype(str).str.strip().str.lower()
    missing = s.isna() | (text == "") | (text == "nan") | (text == "none") | (text == "null")
    bad = num.isna() & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"column {col}: {int(bad.sum())} non-numeric value(s), first {s.iloc[i]!r} "
            f"in {df['__file'].iloc[i]} line {df['__line'].iloc[i]}"
        )
    return num.to_numpy(dtype=np.float64)


@dataclass
class Dataset:
    """Rows sorted by symbol, ts. A sample is the row index of its bar t; its model input (the
    window of bars t-window+1..t) is gathered when needed, not stored: S * window * F floats
    would not fit in memory for a large universe."""

    features: list[str]
    window: int
    bars: np.ndarray  # [R, F] float32: every row's features (NaN where empty)
    rows: np.ndarray  # [S] int64: the row of each sample's bar t
    y: np.ndarray  # [S] float64: fwd_return
    ts: np.ndarray  # [S] datetime64[ns]: the sample's bar
    label_end: np.ndarray  # [S] datetime64[ns]: ts of the bar `horizon` later (max if unknown)
    symbol: np.ndarray  # [S] object
    bar_x: np.ndarray  # [B, F] float64: complete per-bar feature rows (for normalisation stats)
    bar_ts: np.ndarray  # [B] datetime64[ns]
    date_only: bool
    rows_read: int
    rows_incomplete: int

    def windows(self, idx: np.ndarray) -> np.ndarray:
        """Model inputs [len(idx), window * F] of the samples `idx`: lag oldest -> newest, F per lag."""
        r = self.rows[idx]
        return self.bars[r[:, None] + np.arange(-self.window + 1, 1)[None, :]].reshape(len(r), -1)


def load(
    channel_dir: str | None,
    features: list[str],
    window: int,
    horizon: int,
    data_from: str | None = None,
    data_to: str | None = None,
) -> tuple[Dataset, str]:
    files = channel_files(channel_dir)
    digest = data_hash(files)
    frames = [_read_one(p) for p in files]
    for p, f in zip(files, frames):
        missing = [c for c in ["ts", "symbol", *features, LABEL] if c not in f.columns]
        if missing and len(f) > 0:
            raise InputError(f"{p.name}: missing column(s) {', '.join(missing)}")
    frames = [f for f in frames if len(f) > 0]
    if not frames:
        raise InputError(f"train channel {channel_dir} has no data rows")
    df = pd.concat(frames, ignore_index=True)
    rows_read = len(df)

    ts_text = df["ts"].astype(str).str.strip()
    # pandas 2 infers one format from the first value; ISO8601 accepts dates and datetimes mixed
    iso = {"format": "ISO8601"} if int(pd.__version__.split(".")[0]) >= 2 else {}
    ts = pd.to_datetime(ts_text, utc=True, errors="coerce", **iso)
    if ts.isna().any():
        i = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise InputError(
            f"column ts: {int(ts.isna().sum())} unreadable timestamp(s), first {df['ts'].iloc[i]!r} "
            f"in {df['__file'].iloc[i]} line {df['__line'].iloc[i]}"
        )
    date_only = bool(ts_text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all())
    sym = df["symbol"].astype(str).str.strip()
    if (sym == "").any() or df["symbol"].isna().any():
        i = int(np.flatnonzero(((sym == "") | df["symbol"].isna()).to_numpy())[0])
        raise InputError(f"column symbol: empty in {df['__file'].iloc[i]} line {df['__line'].iloc[i]}")
    feat = np.column_stack([_to_number(df, c) for c in features])
    label = _to_number(df, LABEL)
    if np.isinf(label).any():
        raise InputError(f"column {LABEL}: {int(np.isinf(label).sum())} infinite value(s)")

    ts_naive = ts.dt.tz_convert(None).to_numpy().astype("datetime64[ns]")  # UTC
    order = np.lexsort((ts_naive.astype(np.int64), sym.to_numpy()))
    ts_v = ts_naive[order]
    sym_v = sym.to_numpy()[order]
    feat = feat[order]
    label = label[order]
    same = (sym_v[1:] == sym_v[:-1]) & (ts_v[1:] == ts_v[:-1])
    if same.any():
        i = int(np.flatnonzero(same)[0])
        raise InputError(f"duplicate row for symbol {sym_v[i]} at {pd.Timestamp(ts_v[i]).isoformat()}")

    complete = np.isfinite(feat).all(axis=1)
    starts = np.flatnonzero(np.r_[True, sym_v[1:] != sym_v[:-1]])
    ends = np.r_[starts[1:], len(sym_v)]

    rows, ys, tss, les, syms = [], [], [], [], []
    bar_rows = []
    after_warmup = 0
    gap_by_col = np.zeros(len(features), dtype=np.int64)
    max_ts = np.datetime64(pd.Timestamp.max.value, "ns")
    # The requested window (UTC dates, both ends inclusive) bounds the samples, not the history.
    lo = np.datetime64(data_from, "ns") if data_from else np.datetime64(pd.Timestamp.min.value, "ns")
    hi = (np.datetime64(data_to, "D") + np.timedelta64(1, "D")).astype("datetime64[ns]") if data_to else max_ts
    for s, e in zip(starts, ends):
        n = e - s
        comp = complete[s:e]
        first = np.flatnonzero(comp)
        if len(first):
            f0 = first[0]
            after_warmup += n - f0
            gap_by_col += (~np.isfinite(feat[s + f0 : e])).sum(axis=0)
        bar_rows.append(np.flatnonzero(comp) + s)
        # label end: the ts of the same symbol's bar `horizon` rows later
        le = np.full(n, max_ts)
        if n > horizon:
            le[: n - horizon] = ts_v[s + horizon : e]
        # a sample at position p needs bars p-window+1..p complete and a label
        bad = (~comp).astype(np.int64)
        cbad = np.r_[0, np.cumsum(bad)]
        p = np.arange(window - 1, n)
        ok = (cbad[p + 1] - cbad[p + 1 - window] == 0) & np.isfinite(label[s + p])
        ok &= (ts_v[s + p] >= lo) & (ts_v[s + p] < hi)
        p = p[ok]
        if len(p) == 0:
            continue
        rows.append(s + p)
        ys.append(label[s + p])
        tss.append(ts_v[s + p])
        les.append(le[p])
        syms.append(sym_v[s + p])

    worst = int(np.argmax(gap_by_col))
    if after_warmup and gap_by_col[worst] > MAX_GAP_FRACTION * after_warmup:
        raise InputError(
            f"feature {features[worst]}: {int(gap_by_col[worst])} of {after_warmup} rows after the warm-up "
            f"are empty or not finite (more than {MAX_GAP_FRACTION:.0%}; the column looks broken)"
        )
    if not rows:
        within = f" between {data_from or 'the start'} and {data_to or 'the end'}" if data_from or data_to else ""
        raise InputError(
            f"no usable rows: {rows_read} rows read, none{within} with all {len(features)} features, "
            f"{window} bar(s) of history and a {LABEL}"
        )
    bar_idx = np.concatenate(bar_rows)
    ds = Dataset(
        features=list(features),
        window=window,
        bars=feat.astype(np.float32),
        rows=np.concatenate(rows).astype(np.int64),
        y=np.concatenate(ys),
        ts=np.concatenate(tss),
        label_end=np.concatenate(les),
        symbol=np.concatenate(syms),
        bar_x=feat[bar_idx],
        bar_ts=ts_v[bar_idx],
        date_only=date_only,
        rows_read=rows_read,
        rows_incomplete=int((~complete).sum()),
    )
    return ds, digest


def format_ts(t: np.datetime64, date_only: bool) -> str:
    ts = pd.Timestamp(t)
    if date_only:
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
