"""featureStats: the bins the drift check (src/ml/drift.ts) uses, edges[i-1] < x <= edges[i]."""

from __future__ import annotations

import numpy as np
from quant_ml.job import feature_stats


def _bin_of(edges, x):
    # the drift check's rule, written independently: first i with x <= edges[i], else len(edges)
    for i, e in enumerate(edges):
        if x <= e:
            return i
    return len(edges)


def test_proportions_follow_the_drift_checks_binning_with_ties_at_the_edges():
    rng = np.random.default_rng(4)
    discrete = rng.choice([0.0, 1 / 3, 2 / 3, 1.0], size=997)  # a cross-sectional rank of 4 symbols
    continuous = rng.normal(size=997)
    st = feature_stats(np.column_stack([discrete, continuous]), ["xs_rank", "ret"])
    for j, name in enumerate(["xs_rank", "ret"]):
        edges, props = st[name]["edges"], st[name]["proportions"]
        assert len(edges) == 10 and len(props) == 11 and edges == sorted(edges)
        v = np.column_stack([discrete, continuous])[:, j]
        counts = np.bincount([_bin_of(edges, x) for x in v], minlength=11)
        assert np.allclose(props, counts / len(v))
    # ties matter: with 'right' binning the discrete feature's shares would differ
    assert st["xs_rank"]["proportions"][0] > 0.2


def test_a_sample_from_the_training_distribution_has_a_small_psi():
    rng = np.random.default_rng(5)
    st = feature_stats(rng.normal(size=(5000, 1)), ["f"])["f"]
    live = rng.normal(size=5000)
    p = np.bincount([_bin_of(st["edges"], x) for x in live], minlength=11) / len(live)
    e = np.maximum(np.array(st["proportions"]), 1e-4)
    psi = float(np.sum((np.maximum(p, 1e-4) - e) * np.log(np.maximum(p, 1e-4) / e)))
    assert psi < 0.02
    shifted = rng.normal(loc=1.0, size=5000)
    p2 = np.bincount([_bin_of(st["edges"], x) for x in shifted], minlength=11) / len(shifted)
    psi2 = float(np.sum((np.maximum(p2, 1e-4) - e) * np.log(np.maximum(p2, 1e-4) / e)))
    assert psi2 > 0.25
