"""Scores of a model on a window: IC, hit rate, and the Sharpe of its long/flat strategy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = 252


def information_coefficient(score: np.ndarray, fwd_return: np.ndarray) -> float:
    """Spearman rank correlation; 0 when either side is constant (undefined)."""
    if len(score) < 2:
        return 0.0
    a = pd.Series(score).rank().to_numpy()
    b = pd.Series(fwd_return).rank().to_numpy()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def hit_rate(score: np.ndarray, fwd_return: np.ndarray, centre: float) -> float:
    if len(score) == 0:
        return 0.0
    return float(np.mean(np.sign(score - centre) == np.sign(fwd_return)))


def strategy_sharpe(ts: np.ndarray, score: np.ndarray, fwd_return: np.ndarray, threshold: float,
                    horizon: int) -> float:
    """Long (equal weight) the symbols whose score > threshold, else flat, held for `horizon`
    bars: decisions at every horizon-th distinct timestamp so holding periods do not overlap.
    Annualised with sqrt(252 / horizon); 0 when there are fewer than 2 periods or no variance."""
    times = np.unique(ts)[::horizon]
    rets = []
    for t in times:
        m = ts == t
        long = score[m] > threshold
        rets.append(float(fwd_return[m][long].mean()) if long.any() else 0.0)
    r = np.asarray(rets)
    if len(r) < 2 or r.std(ddof=1) == 0:
        return 0.0
    return float(r.mean() / r.std(ddof=1) * math.sqrt(PERIODS_PER_YEAR / horizon))
