"""The purged, embargoed walk-forward split: no label used for training reaches the test window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from quant_ml import data
from quant_ml.errors import InputError
from quant_ml.split import walk_forward_split
from synth import FEATURES


def panel(n_bars: int, symbols: int, horizon: int, seed: int = 0):
    """Samples of several symbols on a business-day calendar, some bars missing per symbol;
    label_end = the same symbol's bar `horizon` rows later."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2010-01-04", periods=n_bars).to_numpy().astype("datetime64[ns]")
    ts, le = [], []
    for _ in range(symbols):
        keep = np.sort(rng.choice(n_bars, size=int(n_bars * 0.9), replace=False))
        d = days[keep]
        ts.append(d[:-horizon])
        le.append(d[horizon:])
    return np.concatenate(ts), np.concatenate(le)


@pytest.mark.parametrize("horizon,embargo,test_fraction,val_fraction",
                         [(5, 5, 0.2, 0.1), (1, 0, 0.3, 0.2), (10, 3, 0.15, 0.15), (20, 20, 0.25, 0.1)])
def test_no_training_or_validation_label_overlaps_a_later_window(horizon, embargo, test_fraction, val_fraction):
    ts, le = panel(600, 4, horizon)
    sp = walk_forward_split(ts, le, test_fraction, val_fraction, embargo)
    test_first = ts[sp.test].min()
    val_first = ts[sp.validation].min()
    # every train label ends before validation starts, hence before the test window
    assert le[sp.train].max() < sp.validation_start <= val_first
    assert le[sp.train].max() < test_first
    # every validation label ends before the test window starts
    assert le[sp.validation].max() < sp.test_start <= test_first
    # the windows are disjoint and in time order
    assert ts[sp.train].max() < val_first and ts[sp.validation].max() < test_first


def test_purge_removes_the_rows_whose_label_crosses_the_boundary():
    ts, le = panel(600, 3, 5)
    sp = walk_forward_split(ts, le, 0.2, 0.1, 0)
    crossing = np.flatnonzero((ts < sp.validation_start) & (le >= sp.validation_start))
    assert len(crossing) > 0  # the data does have such rows: the check below can fail
    assert not np.isin(crossing, sp.train).any()
    # and nothing else before the boundary was dropped
    before = np.flatnonzero((ts < sp.validation_start) & (le < sp.validation_start))
    assert np.array_equal(np.sort(sp.train), before)


def test_embargo_drops_the_first_bars_of_each_following_window():
    ts, le = panel(600, 3, 5)
    times = np.unique(ts)
    for embargo in (0, 7):
        sp = walk_forward_split(ts, le, 0.2, 0.1, embargo)
        iv = int(np.searchsorted(times, sp.validation_start))
        it = int(np.searchsorted(times, sp.test_start))
        assert ts[sp.validation].min() == times[iv + embargo]
        assert ts[sp.test].min() == times[it + embargo]
        assert len(np.unique(ts[sp.test])) == len(times) - it - embargo


def test_too_few_rows_is_an_input_error():
    ts, le = panel(40, 1, 5)
    with pytest.raises(InputError, match="too few rows for the split"):
        walk_forward_split(ts, le, 0.2, 0.1, 5)


def test_split_of_a_real_features_file_keeps_training_labels_out_of_the_test_window(job):
    """Label ends computed by the loader from the file's own rows (fwd_return = close t -> t+5)."""
    ds, _ = data.load(str(job.channel), FEATURES, 1, 5)
    sp = walk_forward_split(ds.ts, ds.label_end, 0.2, 0.1, 5)
    assert ds.label_end[sp.train].max() < ds.ts[sp.test].min()
    assert ds.label_end[sp.validation].max() < ds.ts[sp.test].min()
    # label_end is the symbol's 5th bar later: check on one row against the file
    df = pd.read_csv(job.channel / "features.csv")
    a = df[df.symbol == "AAA"].reset_index(drop=True)
    i = int(np.flatnonzero(ds.symbol == "AAA")[0])
    row = a.index[a.ts == pd.Timestamp(ds.ts[i]).strftime("%Y-%m-%d")][0]
    assert pd.Timestamp(ds.label_end[i]).strftime("%Y-%m-%d") == a.ts[row + 5]
