"""The model input layout of ML-CONTRACT.md: for each lag from oldest to newest (t-window+1 .. t),
the F features in manifest order; and which rows become samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from quant_ml import data
from synth import FEATURES


def test_a_window_row_is_the_symbols_bars_oldest_first_features_in_order(job):
    ds, _ = data.load(str(job.channel), FEATURES, 3, 5)
    df = pd.read_csv(job.channel / "features.csv")
    for i in (0, len(ds.rows) // 2, len(ds.rows) - 1):
        sym, t = ds.symbol[i], pd.Timestamp(ds.ts[i]).strftime("%Y-%m-%d")
        g = df[df.symbol == sym].reset_index(drop=True)
        k = int(g.index[g.ts == t][0])
        expected = g.loc[k - 2 : k, FEATURES].to_numpy(dtype=np.float32).reshape(-1)  # t-2, t-1, t
        assert np.array_equal(ds.windows(np.array([i]))[0], expected)
        assert ds.y[i] == g.fwd_return[k]


def test_samples_need_complete_windows_and_a_label(job):
    df = pd.read_csv(job.channel / "features.csv")
    ds, _ = data.load(str(job.channel), FEATURES, 4, 5)
    # per symbol: 20 warm-up rows without every feature, then 3 more for a 4-bar window,
    # and the last 5 rows have no label
    per_symbol = df.groupby("symbol").size()
    assert len(ds.rows) == int((per_symbol - 20 - 3 - 5).sum())
    assert np.isfinite(ds.windows(np.arange(len(ds.rows)))).all()
