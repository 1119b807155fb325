"""Shared helpers: a job directory laid out like SageMaker's, and two ways to run the script
(in process for speed, as a child process where the exit code and stderr are what is tested)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TRAINING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAINING))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train  # noqa: E402
from synth import FEATURES, write_features_csv  # noqa: E402


@dataclass
class Job:
    root: Path

    @property
    def channel(self) -> Path:
        return self.root / "input" / "data" / "train"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    def env(self, **hps) -> dict[str, str]:
        hp = {"features": ",".join(FEATURES), "feature_set_version": "1", "epochs": "3", **{k: str(v) for k, v in hps.items()}}
        return {
            "SM_CHANNEL_TRAIN": str(self.channel),
            "SM_HPS": json.dumps(hp),
            "SM_MODEL_DIR": str(self.model),
            "SM_OUTPUT_DIR": str(self.output),
            "SM_OUTPUT_DATA_DIR": str(self.output / "data"),
            "QUANT_CHECKPOINT_DIR": str(self.checkpoints),
        }

    def run_inproc(self, env: dict[str, str]) -> int:
        return train.main(env)

    def run_child(self, env: dict[str, str]) -> subprocess.CompletedProcess:
        full = {k: v for k, v in os.environ.items() if not k.startswith("SM_")}
        full.update(env)
        return subprocess.run([sys.executable, str(TRAINING / "train.py")], env=full, capture_output=True,
                              text=True, timeout=600)

    def json(self, name: str):
        return json.loads((self.model / name).read_text())


@pytest.fixture
def job(tmp_path: Path) -> Job:
    j = Job(tmp_path / "job")
    write_features_csv(j.channel / "features.csv")
    return j


@pytest.fixture
def make_job(tmp_path: Path):
    counter = {"n": 0}

    def make(csv: bool = True, **kw) -> Job:
        counter["n"] += 1
        j = Job(tmp_path / f"job{counter['n']}")
        if csv:
            write_features_csv(j.channel / "features.csv", **kw)
        return j

    return make
