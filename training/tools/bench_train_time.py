"""Local CPU training time on data shaped like the demo's: the S&P 500 daily bars that
vega-datasets ships (node_modules/vega-datasets/data/sp500-2000.csv, 5,105 bars) plus synthetic
symbols of the same length, the 11 features of src/contract/ml.ts, default hyperparameters.

    /usr/bin/python3 training/tools/bench_train_time.py [--symbols 3] [--epochs 20]

Runs train.py as a child process per architecture (as the local workflow does) and prints the
training loop's time (metric train_seconds), the whole process's wall time and its CPU time
(user + system: the number that depends least on the machine's other load).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "tests"))
from synth import ALL_FEATURES, features_from_bars, synthetic_bars  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--symbols", type=int, default=3, help="synthetic symbols besides the S&P 500")
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    sp = pd.read_csv(ROOT / "node_modules" / "vega-datasets" / "data" / "sp500-2000.csv")
    bars = pd.DataFrame({"ts": pd.to_datetime(sp["date"]), "symbol": "SPX", "close": sp["close"],
                         "volume": sp["volume"]})
    frames = [bars]
    if args.symbols > 0:
        syn = synthetic_bars(len(bars), [f"SYN{i}" for i in range(args.symbols)], seed=3, start="2000-01-03")
        syn["ts"] = list(bars["ts"]) * args.symbols  # the same calendar
        frames.append(syn)
    feats = features_from_bars(pd.concat(frames, ignore_index=True), 5, full=True)
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "train").mkdir()
        feats.to_csv(root / "train" / "features.csv", index=False, float_format="%.10g")
        print(f"{len(feats)} rows, {feats.symbol.nunique()} symbols, {len(ALL_FEATURES)} features; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
        for model in ("mlp", "seq"):
            env = dict(os.environ, SM_CHANNEL_TRAIN=str(root / "train"), SM_MODEL_DIR=str(root / model),
                       SM_OUTPUT_DIR=str(root / f"out-{model}"), QUANT_CHECKPOINT_DIR=str(root / f"ck-{model}"),
                       SM_HPS=json.dumps({"features": ",".join(ALL_FEATURES), "feature_set_version": 1, "model": model,
                                          "epochs": args.epochs}))
            t0 = time.monotonic()
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = subprocess.run([sys.executable, str(ROOT / "training" / "train.py")], env=env,
                               capture_output=True, text=True, timeout=3600)
            wall = time.monotonic() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            if r.returncode != 0:
                sys.exit(f"{model} failed: {r.stderr}")
            m = dict(re.findall(r"^metric (\w+)=([-+0-9.eE]+)$", r.stdout, re.M))
            split = re.search(r"^split: .*$", r.stdout, re.M).group(0)
            print(f"{model}: training loop {float(m['train_seconds']):.1f} s, process {wall:.1f} s wall / "
                  f"{cpu:.1f} s CPU "
                  f"({args.epochs} epochs; {split}; test_ic {float(m['test_ic']):.4f}, "
                  f"test_sharpe {float(m['test_sharpe']):.2f}); load average now {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
