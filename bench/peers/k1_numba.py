"""K1 peer: the fused sma-cross loop of src/backtest/kernel.ts (smaCrossSummary), compiled by numba.

Reads the close series (raw little-endian float64) from argv[1], runs sma-cross(fast, slow) with
cost 0, long only, and prints one JSON object: the accumulated statistics (to check they agree with
ours), the compile time, and the best CPU time of single-thread runs and of one run per core on
independent copies (nogil threads). Run by bench/cli.bench.ts; needs /usr/bin/python3 with numba.

Two loops: sma_cross, the JS loop of kernel.ts as a numba user would write it, and sma_cross_runs,
the shape of src/backtest/kernel.wat (a loop while flat, a loop while a position is held, the
change of position between them; the drawdown as min(equity / running peak)), so that the gain of
the loop's shape and the gain of the compiler can be told apart.
"""
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

FAST, SLOW, REPS = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


@njit(cache=False, nogil=True, fastmath=False)
def sma_cross(close, fast, slow, cost, neg):
    n = close.shape[0]
    inv_f = 1.0 / fast
    inv_s = 1.0 / slow
    sf = 0.0
    ss = 0.0
    for t in range(slow - 1):
        c = close[t]
        sf += c
        ss += c
        if t >= fast:
            sf -= close[t - fast]
    prev = 0.0
    s = 0.0
    sum_sq = 0.0
    down = 0.0
    equity = 1.0
    peak = 1.0
    trough = 1.0
    min_ratio = 1.0
    trades = 0
    abs_dw = 0.0
    exposed = 0
    ep = 1.0
    entry_t = 0
    wins = 0
    losses = 0
    win_sum = 0.0
    loss_sum = 0.0
    for t in range(slow - 1, n - 1):
        c = close[t]
        sf += c
        sf -= close[t - fast]
        ss += c
        if t >= slow:
            ss -= close[t - slow]
        mf = sf * inv_f
        ms = ss * inv_s
        p = 1.0 if mf > ms else (neg if mf < ms else 0.0)
        if p == prev:
            if p == 0.0:
                continue
            x = p * (close[t + 1] / c - 1.0)
            ep *= 1.0 + x
            s += x
            sum_sq += x * x
            d = x if x < 0.0 else 0.0
            down += d * d
            e = equity * (1.0 + x)
            equity = e
            if e > peak:
                ratio = trough / peak
                if ratio < min_ratio:
                    min_ratio = ratio
                peak = e
                trough = e
            elif e < trough:
                trough = e
            continue
        r = close[t + 1] / c - 1.0
        a = p - prev if p > prev else prev - p
        k = a * cost
        trades += 1
        abs_dw += a
        x = p * r - k
        if prev != 0.0:
            share = k if p == 0.0 else k * 0.5
            g = ep * (1.0 - share) - 1.0
            if g > 0.0:
                wins += 1
                win_sum += g
            elif g < 0.0:
                losses += 1
                loss_sum += g
            exposed += t - entry_t
            ep = 1.0 if p == 0.0 else 1.0 + (p * r - share)
        else:
            ep = 1.0 + (p * r - k)
        if p != 0.0:
            entry_t = t
        prev = p
        s += x
        sum_sq += x * x
        d = x if x < 0.0 else 0.0
        down += d * d
        e = equity * (1.0 + x)
        equity = e
        if e > peak:
            ratio = trough / peak
            if ratio < min_ratio:
                min_ratio = ratio
            peak = e
            trough = e
        elif e < trough:
            trough = e
    if prev != 0.0:
        exposed += n - 1 - entry_t
    return (s, sum_sq, down, equity, peak, trough, min_ratio, trades, abs_dw, exposed, wins, losses,
            win_sum, loss_sum)


@njit(cache=False, nogil=True, fastmath=False)
def sma_cross_runs(close, fast, slow, cost, neg):
    n = close.shape[0]
    inv_f = 1.0 / fast
    inv_s = 1.0 / slow
    sf = 0.0
    ss = 0.0
    # The sums through bar slow - 1, the first decided bar; each loop below moves them one bar on.
    for t in range(slow):
        c = close[t]
        sf += c
        ss += c
        if t >= fast:
            sf -= close[t - fast]
    prev = 0.0
    p = 0.0
    s = 0.0
    sum_sq = 0.0
    down = 0.0
    equity = 1.0
    peak = 1.0
    min_ratio = 1.0
    trades = 0
    abs_dw = 0.0
    exposed = 0
    ep = 1.0
    entry_t = 0
    wins = 0
    losses = 0
    win_sum = 0.0
    loss_sum = 0.0
    t = slow - 1
    last = n - 1
    while t < last:
        if prev == 0.0:
            while t < last:
                mf = sf * inv_f
                ms = ss * inv_s
                p = 1.0 if mf > ms else (neg if mf < ms else 0.0)
                if p != 0.0:
                    break
                c1 = close[t + 1]
                sf += c1
                sf -= close[t + 1 - fast]
                ss += c1
                ss -= close[t + 1 - slow]
                t += 1
        else:
            while t < last:
                mf = sf * inv_f
                ms = ss * inv_s
                p = 1.0 if mf > ms else (neg if mf < ms else 0.0)
                if p != prev:
                    break
                c1 = close[t + 1]
                x = prev * (c1 / close[t] - 1.0)
                ep *= 1.0 + x
                s += x
                sum_sq += x * x
                d = x if x < 0.0 else 0.0
                down += d * d
                equity *= 1.0 + x
                peak = equity if equity > peak else peak
                ratio = equity / peak
                min_ratio = ratio if ratio < min_ratio else min_ratio
                sf += c1
                sf -= close[t + 1 - fast]
                ss += c1
                ss -= close[t + 1 - slow]
                t += 1
        if t >= last:
            break
        c1 = close[t + 1]
        r = c1 / close[t] - 1.0
        a = p - prev if p > prev else prev - p
        k = a * cost
        trades += 1
        abs_dw += a
        x = p * r - k
        if prev != 0.0:
            share = k if p == 0.0 else k * 0.5
            g = ep * (1.0 - share) - 1.0
            if g > 0.0:
                wins += 1
                win_sum += g
            elif g < 0.0:
                losses += 1
                loss_sum += g
            exposed += t - entry_t
            ep = 1.0 if p == 0.0 else 1.0 + (p * r - share)
        else:
            ep = 1.0 + (p * r - k)
        if p != 0.0:
            entry_t = t
        prev = p
        s += x
        sum_sq += x * x
        d = x if x < 0.0 else 0.0
        down += d * d
        equity *= 1.0 + x
        peak = equity if equity > peak else peak
        ratio = equity / peak
        min_ratio = ratio if ratio < min_ratio else min_ratio
        sf += c1
        sf -= close[t + 1 - fast]
        ss += c1
        ss -= close[t + 1 - slow]
        t += 1
    if prev != 0.0:
        exposed += n - 1 - entry_t
    return (s, sum_sq, down, equity, peak, peak, min_ratio, trades, abs_dw, exposed, wins, losses,
            win_sum, loss_sum)


def main():
    close = np.fromfile(sys.argv[1], dtype="<f8")
    t0 = time.perf_counter()
    stats = sma_cross(close, FAST, SLOW, 0.0, 0.0)
    compile_s = time.perf_counter() - t0
    runs_stats = sma_cross_runs(close, FAST, SLOW, 0.0, 0.0)
    cores = os.cpu_count() or 1
    copies = [close.copy() for _ in range(cores)]

    def timings(fn):
        best = float("inf")
        for _ in range(REPS):
            c0 = time.process_time()
            fn(close, FAST, SLOW, 0.0, 0.0)
            best = min(best, time.process_time() - c0)
        best_all = float("inf")
        with ThreadPoolExecutor(cores) as pool:
            for _ in range(max(3, REPS // 4)):
                w0 = time.perf_counter()
                list(pool.map(lambda c: fn(c, FAST, SLOW, 0.0, 0.0), copies))
                best_all = min(best_all, time.perf_counter() - w0)
        return best, best_all

    best, best_all = timings(sma_cross)
    runs_best, runs_best_all = timings(sma_cross_runs)
    names = ["sum", "sumSq", "down", "equity", "peak", "trough", "minRatio", "trades", "absDw",
             "exposed", "wins", "losses", "winSum", "lossSum"]
    print(json.dumps({
        "stats": dict(zip(names, [float(v) for v in stats])),
        "compileSeconds": compile_s,
        "bestCpuSeconds": best,
        "cores": cores,
        "allCoresWallSeconds": best_all,
        "runsStats": dict(zip(names, [float(v) for v in runs_stats])),
        "runsBestCpuSeconds": runs_best,
        "runsAllCoresWallSeconds": runs_best_all,
    }))


main()
