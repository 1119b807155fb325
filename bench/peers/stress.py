"""numpy peer of bench/stress.bench.ts: the same linear stress P&L (per position, by asset class,
region and sector, drawdown rule) and historical 99% VaR of the shocked exposures, vectorised over
all scenarios at once. Prints timing lines, then the JSON list of scenario totals."""
import json
import sys
import time

import numpy as np

d = json.load(open(sys.argv[1]))
qty = np.array(d["qty"], dtype=float)
price = np.array(d["price"], dtype=float)
beta = np.array(d["beta"], dtype=float)
duration = np.array(d["duration"], dtype=float)
returns = np.array(d["returns"], dtype=float).T  # days x positions
nav = float(d["nav"])
FACTORS = ["equity", "rates", "fx", "commodity"]


def factor_of(c):
    c = (c or "").lower()
    return {"equity": 0, "fixed income": 1, "fixedincome": 1, "fx": 2, "commodities": 3, "commodity": 3}.get(c, -1)


def codes(names):
    uniq, inv = np.unique(np.array(names, dtype=object).astype(str), return_inverse=True)
    return uniq, inv


def run(with_var):
    value = qty * price
    f = np.array([factor_of(c) for c in d["assetClass"]])
    sens = np.zeros((len(value), 4))
    sens[f == 0, 0] = (value * beta)[f == 0]
    sens[f == 1, 1] = (-value * duration)[f == 1]
    sens[f == 2, 2] = value[f == 2]
    sens[f == 3, 3] = value[f == 3]
    shocks = np.array([[s.get(k, 0.0) for k in FACTORS] for s in d["scenarios"]])  # S x 4
    corr1 = np.array([s["correlationOne"] for s in d["scenarios"]])
    pnl = shocks @ sens.T  # S x N
    pnl[corr1] = np.outer(shocks[corr1, 0], value * beta)
    pnl = np.round(pnl * 100) / 100
    totals = pnl.sum(axis=1)
    out = {}
    for key in ("assetClass", "region", "sector"):
        uniq, inv = codes(d[key])
        g = np.zeros((pnl.shape[0], len(uniq)))
        for j in range(len(uniq)):
            g[:, j] = pnl[:, inv == j].sum(axis=1)
        out[key] = g
    dd = 1 - (nav + totals) / nav
    if with_var:
        exposures = value[None, :] + pnl  # S x N
        daily = returns @ exposures.T  # days x S
        var = -np.quantile(daily, 0.01, axis=0)  # numpy's default is type 7, as src/risk/var.ts
        out["var"] = np.maximum(var, 0) / (nav + totals)
    return totals, dd, out.get("var")


def timeit(label, reps, fn):
    for _ in range(3):
        fn()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    print(f"{label:<58} median {ms[len(ms) // 2]:7.2f} ms   min {ms[0]:.2f} ms   max {ms[-1]:.2f} ms   ({reps} runs)")


timeit(f"numpy {np.__version__}: 50 scenarios (P&L, groups, DD rule)", 50, lambda: run(False))
timeit(f"numpy {np.__version__}: the same + historical VaR", 20, lambda: run(True))
totals, _, var = run(True)
print(json.dumps({"totals": totals.tolist(), "var": var.tolist()}))
