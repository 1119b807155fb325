"""A small, deterministic features file for tests (no data committed).

Prices follow a random walk whose 1-bar return carries a little of the previous 5-bar return, so
a model can find something. Feature names and definitions follow src/contract/ml.ts (a subset);
features are empty during their warm-up and fwd_return is empty for the last `horizon` bars.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["ret_1", "ret_5", "ret_20", "vol_20", "zscore_20", "sma_ratio_5_20", "volume_ratio_20"]
# the whole set of src/contract/ml.ts, for the timing run (training/tools/bench_train_time.py)
ALL_FEATURES = FEATURES + ["sma_ratio_20_50", "volume_z_20", "xs_rank_ret_5", "xs_rank_ret_20"]


def synthetic_bars(n_bars: int, symbols: list[str], seed: int = 1, start: str = "2001-01-02") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_bars)
    frames = []
    for s in symbols:
        eps = rng.normal(0, 0.01, n_bars)
        r = np.zeros(n_bars)
        for t in range(n_bars):
            r[t] = eps[t] + (0.04 * r[max(0, t - 5) : t].sum() if t else 0.0)
        close = 100 * np.exp(np.cumsum(r))
        volume = rng.integers(1_000_000, 2_000_000, n_bars).astype(float)
        frames.append(pd.DataFrame({"ts": dates, "symbol": s, "close": close, "volume": volume}))
    return pd.concat(frames, ignore_index=True)


def features_from_bars(bars: pd.DataFrame, horizon: int = 5, full: bool = False) -> pd.DataFrame:
    out = []
    for sym, g in bars.sort_values(["symbol", "ts"]).groupby("symbol", sort=True):
        c, v = g["close"].astype(float), g["volume"].astype(float)
        r1 = c.pct_change()
        f = pd.DataFrame({"ts": g["ts"].dt.strftime("%Y-%m-%d"), "symbol": sym})
        f["ret_1"] = r1
        f["ret_5"] = c / c.shift(5) - 1
        f["ret_20"] = c / c.shift(20) - 1
        f["vol_20"] = r1.rolling(20).std()
        f["zscore_20"] = (c - c.rolling(20).mean()) / c.rolling(20).std()
        f["sma_ratio_5_20"] = c.rolling(5).mean() / c.rolling(20).mean() - 1
        f["volume_ratio_20"] = v / v.rolling(20).mean()
        if full:
            f["sma_ratio_20_50"] = c.rolling(20).mean() / c.rolling(50).mean() - 1
            f["volume_z_20"] = (v - v.rolling(20).mean()) / v.rolling(20).std()
        f["fwd_return"] = c.shift(-horizon) / c - 1
        out.append(f)
    df = pd.concat(out, ignore_index=True)
    if full:
        for n in (5, 20):
            # (rank - 1) / (n - 1) among the symbols that have the value, lowest rank for ties
            g = df.groupby("ts")[f"ret_{n}"]
            cnt = g.transform("count")
            rk = g.rank(method="min")
            df[f"xs_rank_ret_{n}"] = np.where(cnt > 1, (rk - 1) / (cnt - 1).where(cnt > 1, 1), 0.5)
            df.loc[df[f"ret_{n}"].isna(), f"xs_rank_ret_{n}"] = np.nan
        df = df[["ts", "symbol", *ALL_FEATURES, "fwd_return"]]
    return df


def write_features_csv(path: Path, n_bars: int = 400, symbols: tuple[str, ...] = ("AAA", "BBB"),
                       seed: int = 1, horizon: int = 5) -> Path:
    df = features_from_bars(synthetic_bars(n_bars, list(symbols), seed), horizon)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.10g")
    return path
