"""Purged, embargoed walk-forward split by time.

The distinct sample timestamps are cut into three consecutive windows: train, validation, test
(the last `test_fraction` of the time range; validation is the `val_fraction` before it).

- Purge: a sample's label spans its bar t to bar t+horizon of the same symbol (`label_end`). A
  train sample whose label_end is at or after the first timestamp of the validation window is
  dropped, and so is a validation sample whose label_end reaches the test window. No label used
  for fitting or model selection therefore shares a bar with a later window.
- Embargo: the first `embargo` timestamps of the validation and of the test window are dropped,
  a gap after each window that keeps serially correlated features near a boundary out of the
  next window's evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError

MIN_ROWS = {"train": 32, "validation": 8, "test": 8}


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # sample indices
    validation: np.ndarray
    test: np.ndarray
    validation_start: np.datetime64  # first timestamp of the validation window (before embargo)
    test_start: np.datetime64  # first timestamp of the test window (before embargo)


def walk_forward_split(
    ts: np.ndarray,
    label_end: np.ndarray,
    test_fraction: float,
    val_fraction: float,
    embargo: int,
    min_rows: dict[str, int] | None = None,
) -> Split:
    mins = MIN_ROWS if min_rows is None else min_rows
    times = np.unique(ts)
    n = len(times)
    n_test = max(1, int(math.ceil(n * test_fraction)))
    n_val = max(1, int(math.ceil(n * val_fraction)))
    test_start = n - n_test
    val_start = test_start - n_val
    if val_start < 1 or val_start + embargo >= test_start or test_start + embargo >= n:
        raise InputError(
            f"too few rows for the split: {n} distinct timestamps cannot hold train, "
            f"validation ({n_val}) and test ({n_test}) windows with an embargo of {embargo} bars"
        )
    t_val, t_test = times[val_start], times[test_start]
    t_val_emb, t_test_emb = times[val_start + embargo], times[test_start + embargo]

    train = np.flatnonzero((ts < t_val) & (label_end < t_val))
    validation = np.flatnonzero((ts >= t_val_emb) & (ts < t_test) & (label_end < t_test))
    test = np.flatnonzero(ts >= t_test_emb)
    for name, idx in (("train", train), ("validation", validation), ("test", test)):
        if len(idx) < mins[name]:
            raise InputError(
                f"too few rows for the split: the {name} window has {len(idx)} row(s) after purging "
                f"and embargo (need >= {mins[name]}; {n} distinct timestamps, "
                f"test_fraction={test_fraction}, val_fraction={val_fraction}, embargo={embargo})"
            )
    return Split(train, validation, test, t_val, t_test)
