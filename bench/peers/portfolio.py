"""Peers of bench/portfolio.bench.ts in numpy/pandas/scipy.

Usage: python3 portfolio.py DIR. DIR holds what the TypeScript bench wrote: meta.json (k, n, sectors),
close.bin, bookToPrice.bin, earningsYield.bin, roe.bin, debtToEquity.bin (float64, asset-major k x n),
and qp.json with a 500-asset mean-variance problem. Prints one JSON object.

multiFactor: the same rules as src/backtest/strategies/multi-factor.ts with its defaults (value,
momentum 252/21, quality, low volatility 63, sector neutral, quintile long-short, monthly), then the
engine's arithmetic (held t -> t+1, 5 bps of |change|, Sharpe with ddof 1, 252 a year), vectorised
over assets with numpy and forward-filled over time with pandas. optimiser: scipy SLSQP on the
long-only problem (what a user without a QP package reaches for).
"""
import json
import sys
import time

import numpy as np
import pandas as pd
from scipy.optimize import minimize

d = sys.argv[1]
meta = json.load(open(f"{d}/meta.json"))
k, n = meta["k"], meta["n"]
load = lambda name: np.fromfile(f"{d}/{name}.bin", dtype=np.float64).reshape(k, n).T  # n x k


def zs(x):
    ok = np.isfinite(x)
    out = np.full_like(x, np.nan)
    if not ok.any():
        return out
    v = x[ok]
    m, sd = v.mean(), np.sqrt(max(0.0, (v * v).mean() - v.mean() ** 2))
    out[ok] = np.clip((v - m) / sd, -3, 3) if sd > 0 else 0.0
    return out


def multi_factor():
    close = load("close")
    bp, ey, roe, de = (load(f) for f in ("bookToPrice", "earningsYield", "roe", "debtToEquity"))
    sectors = pd.Series(meta["sectors"])
    rets = close[1:] / close[:-1] - 1  # rets[t-1] = return into bar t
    start = 252
    W = np.full((n, k), np.nan)
    for t in range(start, n, 21):
        val = (zs(bp[t]) + zs(ey[t])) / 2
        qual = (zs(roe[t]) - zs(de[t])) / 2
        mom = zs(close[t - 21] / close[t - 252] - 1)
        vol = np.std(rets[t - 63 : t], axis=0, ddof=1)
        low = zs(-vol)
        s = val + mom + qual + low
        s = s - pd.Series(s).groupby(sectors).transform("mean").to_numpy()
        idx = np.where(np.isfinite(s))[0]
        order = idx[np.argsort(-s[idx], kind="stable")]
        q = int(np.floor(len(idx) * 0.2))
        w = np.zeros(k)
        if q > 0:
            w[order[:q]] = 0.5 / q
            w[order[len(order) - q :]] = -0.5 / q
        W[t] = w
    W = pd.DataFrame(W).ffill().fillna(0.0).to_numpy()
    held = W[:-1]
    dw = np.abs(np.diff(np.vstack([np.zeros(k), held]), axis=0)).sum(axis=1)
    r = (held * rets).sum(axis=1) - 5e-4 * dw
    return float(r.mean() / r.std(ddof=1) * np.sqrt(252))


def timed(fn, reps):
    fn()
    walls, cpus, value = [], [], None
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        value = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(min(time.process_time() - c0, walls[-1]))
    walls.sort()
    return {"cpu": min(cpus), "wall": walls[0], "median": walls[len(walls) // 2], "value": value}


def optimiser():
    qp = json.load(open(f"{d}/qp.json"))
    m = qp["n"]
    P = np.array(qp["P"]).reshape(m, m)
    q = np.array(qp["q"])
    f = lambda w: 0.5 * w @ P @ w + q @ w
    g = lambda w: P @ w + q
    cons = [{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(m)}]
    r = minimize(f, np.full(m, 1 / m), jac=g, bounds=[(0, qp["maxWeight"])] * m, constraints=cons,
                 method="SLSQP", options={"ftol": 1e-12, "maxiter": 1000})
    return float(f(r.x))


mf = timed(multi_factor, 3)
opt = timed(optimiser, 1)
print(json.dumps({"multiFactor": mf, "optimiser": opt, "numpy": np.__version__, "pandas": pd.__version__,
                  "scipy": __import__("scipy").__version__}))
