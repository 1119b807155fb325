"""The opt-in daily news sentiment (feature set version 2, src/contract/ml.ts): the features file
carries `news_sentiment_1d` after the feature set; the script trains on it like any other column,
the manifest lists it and says version 2, and the model really uses it (a label driven by the
sentiment is learnt only when the column is in the features)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from synth import FEATURES, features_from_bars, synthetic_bars

SENTIMENT = "news_sentiment_1d"


def _write(job, seed: int = 3) -> pd.DataFrame:
    """A features file whose 5-bar forward return is mostly the day's sentiment (known at the close)."""
    df = features_from_bars(synthetic_bars(400, ["AAA", "BBB"], seed=seed))
    rng = np.random.default_rng(seed)
    # Mean comparative score of a day's articles: 0 (no news) on about half of the days.
    s = np.where(rng.random(len(df)) < 0.5, 0.0, rng.normal(0, 0.3, len(df)))
    df.insert(len(df.columns) - 1, SENTIMENT, s)
    has_label = df["fwd_return"].notna()
    df.loc[has_label, "fwd_return"] = 0.05 * df.loc[has_label, SENTIMENT] + rng.normal(0, 0.002, has_label.sum())
    job.channel.mkdir(parents=True, exist_ok=True)
    df.to_csv(job.channel / "features.csv", index=False, float_format="%.10g")
    assert list(df.columns) == ["ts", "symbol", *FEATURES, SENTIMENT, "fwd_return"]
    return df


def test_the_manifest_lists_the_sentiment_feature_and_version_2(make_job):
    job = make_job(csv=False)
    _write(job)
    feats = [*FEATURES, SENTIMENT]
    assert job.run_inproc(job.env(features=",".join(feats), feature_set_version=2, epochs=5)) == 0
    m = job.json("manifest.json")
    assert m["features"] == feats
    assert m["featureSetVersion"] == 2 and m["hyperparameters"]["feature_set_version"] == 2
    assert m["input"]["shape"] == [None, len(feats)]
    assert len(m["normalisation"]["mean"]) == len(feats)
    assert SENTIMENT in m["featureStats"]
    par = job.json("parity.json")
    assert all(len(r) == len(feats) for r in par["rows"])


def test_the_model_learns_from_the_sentiment_only_when_it_is_a_feature(make_job):
    with_s, without = make_job(csv=False), make_job(csv=False)
    _write(with_s)
    _write(without)
    assert with_s.run_inproc(with_s.env(features=",".join([*FEATURES, SENTIMENT]), feature_set_version=2,
                                        epochs=20)) == 0
    assert without.run_inproc(without.env(epochs=20)) == 0
    ic_with = with_s.json("evaluation.json")["ic"]
    ic_without = without.json("evaluation.json")["ic"]
    # The label is 0.05 x sentiment plus small noise: with the column the held-out IC is high, without it
    # the price features carry nothing about it.
    assert ic_with > 0.5
    assert abs(ic_without) < 0.3
