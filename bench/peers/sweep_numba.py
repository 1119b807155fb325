"""Peer of `quant backtest sweep --strategy sma-cross --grid fast=A:B --grid slow=A:B --where
"fast<slow" --bars BARS.csv` in numba: CSV read, every pair (each SMA computed once, then one
fused pass per pair, as src/backtest/kernel.ts smaCrossGrid does), ranking by Sharpe (then total
return), and the results table written to OUT. Parquet when pyarrow or fastparquet is importable;
otherwise (Debian's python3 here has neither) CSV, and the JSON says which.

Usage: python3 sweep_numba.py BARS.csv LO HI OUT_BASENAME. Prints one JSON object.
"""
import json
import sys
import time

t_start = time.perf_counter()
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from numba import njit  # noqa: E402


@njit(cache=False)
def rolling_mean(close, w):
    out = np.empty_like(close)
    s = 0.0
    inv = 1.0 / w
    for t in range(close.shape[0]):
        s += close[t]
        if t >= w:
            s -= close[t - w]
        out[t] = s * inv
    return out


@njit(cache=False)
def grid(close, sma, pairs):
    n = close.shape[0]
    periods = n - 1
    ret = close[1:] / close[:-1] - 1.0
    out = np.empty((pairs.shape[0], 5))
    for i in range(pairs.shape[0]):
        f = sma[pairs[i, 0]]
        s = sma[pairs[i, 1]]
        prev = 0.0
        acc = 0.0
        acc2 = 0.0
        equity = 1.0
        peak = 1.0
        mdd = 0.0
        trades = 0
        for t in range(pairs[i, 1] - 1, periods):
            p = 1.0 if f[t] > s[t] else 0.0
            if p != prev:
                trades += 1
            prev = p
            x = p * ret[t]
            acc += x
            acc2 += x * x
            equity *= 1.0 + x
            if equity > peak:
                peak = equity
            dd = 1.0 - equity / peak
            if dd > mdd:
                mdd = dd
        mean = acc / periods
        sd = np.sqrt(max(0.0, acc2 - acc * acc / periods) / (periods - 1))
        out[i, 0] = mean / sd * np.sqrt(252.0) if sd > 0 else 0.0
        out[i, 1] = equity - 1.0
        out[i, 2] = mdd
        out[i, 3] = trades
        out[i, 4] = equity ** (252.0 / periods) - 1.0
    return out


def main():
    bars, lo, hi, out_base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    t0 = time.perf_counter()
    close = pd.read_csv(bars, usecols=["date", "close"])["close"].to_numpy(dtype=np.float64)
    windows = np.arange(0, hi + 1)
    pairs = np.array([(f, s) for s in range(lo, hi + 1) for f in range(lo, hi + 1) if f < s], dtype=np.int64)
    t1 = time.perf_counter()
    sma = np.zeros((hi + 1, close.shape[0]))
    for w in windows[lo:]:
        sma[w] = rolling_mean(close, w)
    res = grid(close, sma, pairs)
    t2 = time.perf_counter()
    df = pd.DataFrame({
        "fast": pairs[:, 0], "slow": pairs[:, 1], "sharpe": res[:, 0], "total_return": res[:, 1],
        "max_drawdown": res[:, 2], "trades": res[:, 3].astype(np.int64), "cagr": res[:, 4],
    }).sort_values(["sharpe", "total_return"], ascending=False, kind="mergesort")
    try:
        df.to_parquet(out_base + ".parquet")
        written = "parquet"
    except ImportError:
        df.to_csv(out_base + ".csv", index=False)
        written = "csv (no pyarrow or fastparquet)"
    t3 = time.perf_counter()
    top = df.iloc[0]
    print(json.dumps({
        "sets": int(pairs.shape[0]), "topFast": int(top["fast"]), "topSlow": int(top["slow"]),
        "topSharpe": float(top["sharpe"]), "topTotalReturn": float(top["total_return"]),
        "written": written, "importSeconds": t0 - t_start, "readSeconds": t1 - t0,
        "computeSeconds": t2 - t1, "writeSeconds": t3 - t2,
    }))


main()
