"""Hyperparameters from SM_HPS: parsed, typed, defaulted and checked.

SageMaker passes every value as a string (the Python SDK even JSON-quotes strings: '"mlp"'), so
every field accepts its string form. Keys starting with `sagemaker_` or `_` are the platform's
own (e.g. `_tuning_objective_metric` from a tuning job) and are ignored; any other unknown key is
an error, so a typo such as `epoch=50` cannot silently train with the default.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InputError

MODELS = ("mlp", "seq")
TARGETS = ("return", "sign")
DEVICES = ("auto", "cpu", "cuda", "neuron")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FEATURE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class HyperParameters:
    features: list[str]
    # Version of the feature definitions that computed the features file (src/contract/ml.ts
    # FEATURE_SET_VERSION): the script reads columns, only its caller knows how they were computed.
    feature_set_version: int
    model: str = "mlp"
    window: int = 20
    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3
    hidden: int = 32
    seed: int = 7
    target: str = "return"
    horizon: int = 5
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    embargo: int = 5
    device: str = "auto"
    model_name: str = "ml-signal"
    # Samples whose bar t lies in [data_from, data_to] (ISO dates, inclusive; earlier bars still
    # feed a sequence model's window): the data the train/validation/test split divides.
    data_from: str | None = None
    data_to: str | None = None
    # Keys given explicitly (so a default embargo follows the horizon).
    given: tuple[str, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("given")
        return d


KNOWN = (
    "features",
    "feature_set_version",
    "model",
    "window",
    "epochs",
    "batch_size",
    "lr",
    "hidden",
    "seed",
    "target",
    "horizon",
    "test_fraction",
    "val_fraction",
    "embargo",
    "device",
    "model_name",
    "data_from",
    "data_to",
)


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _int(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    try:
        f = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        f = math.nan
    if not math.isfinite(f) or f != int(f):
        raise InputError(f"hyperparameter {name}: expected an integer, got {value!r}")
    i = int(f)
    if i < lo or (hi is not None and i > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise InputError(f"hyperparameter {name}: must be {bound}, got {i}")
    return i


def _float(name: str, value: Any, lo: float, hi: float, lo_open: bool = True) -> float:
    try:
        f = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        f = math.nan
    if not math.isfinite(f):
        raise InputError(f"hyperparameter {name}: expected a number, got {value!r}")
    if (f <= lo if lo_open else f < lo) or f >= hi:
        raise InputError(f"hyperparameter {name}: must be in {'(' if lo_open else '['}{lo}, {hi}), got {f}")
    return f


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    s = str(value).strip().lower()
    if s not in choices:
        raise InputError(f"hyperparameter {name}: must be one of {'|'.join(choices)}, got {value!r}")
    return s


def parse_hyperparameters(raw_json: str | None) -> HyperParameters:
    """Parse the SM_HPS JSON object."""
    if raw_json is None or raw_json.strip() == "":
        raw: dict[str, Any] = {}
    else:
        try:
            raw = json.loads(raw_json)
        except json.JSONDecodeError as e:
            raise InputError(f"SM_HPS is not valid JSON: {e.msg} at position {e.pos}") from None
        if not isinstance(raw, dict):
            raise InputError("SM_HPS must be a JSON object")
    hp = {k: _unquote(v) for k, v in raw.items() if not k.startswith("sagemaker_") and not k.startswith("_")}
    unknown = sorted(k for k in hp if k not in KNOWN)
    if unknown:
        raise InputError(f"unknown hyperparameter(s): {', '.join(unknown)} (known: {', '.join(KNOWN)})")

    if "features" not in hp or str(hp["features"]).strip() == "":
        raise InputError("hyperparameter features is required (comma-separated feature column names)")
    feats_raw = hp["features"]
    feats = [str(f).strip() for f in (feats_raw if isinstance(feats_raw, list) else str(feats_raw).split(","))]
    for f in feats:
        if not _FEATURE_RE.match(f) or f in ("ts", "symbol", "fwd_return"):
            raise InputError(f"hyperparameter features: invalid feature name {f!r}")
    dup = sorted({f for f in feats if feats.count(f) > 1})
    if dup:
        raise InputError(f"hyperparameter features: duplicate name(s) {', '.join(dup)}")

    if "feature_set_version" not in hp or str(hp["feature_set_version"]).strip() == "":
        raise InputError(
            "hyperparameter feature_set_version is required (the version of the feature definitions "
            "that computed the features file; inference refuses a model trained on another version)"
        )
    feature_set_version = _int("feature_set_version", hp["feature_set_version"], 1, 1_000_000)

    model = _choice("model", hp.get("model", "mlp"), MODELS)
    horizon = _int("horizon", hp.get("horizon", 5), 1, 1000)
    if model == "mlp":
        # The contract fixes window = 1 for the MLP: it sees the bar's features only.
        window = 1
    else:
        window = _int("window", hp.get("window", 20), 2, 1000)
    test_fraction = _float("test_fraction", hp.get("test_fraction", 0.2), 0.0, 1.0)
    val_fraction = _float("val_fraction", hp.get("val_fraction", 0.1), 0.0, 1.0)
    if test_fraction + val_fraction >= 0.9:
        raise InputError(
            f"hyperparameters test_fraction + val_fraction must leave at least 10% for training, "
            f"got {test_fraction} + {val_fraction}"
        )
    model_name = str(hp.get("model_name", "ml-signal"))
    if not _NAME_RE.match(model_name):
        raise InputError(
            f"hyperparameter model_name: letters, digits and '-' only (max 63), got {model_name!r}"
        )
    dates = {}
    for k in ("data_from", "data_to"):
        v = hp.get(k)
        if v is None or str(v).strip() == "":
            dates[k] = None
            continue
        s = str(v).strip()
        try:
            ok = _DATE_RE.match(s) is not None and date.fromisoformat(s).isoformat() == s
        except ValueError:
            ok = False
        if not ok:
            raise InputError(f"hyperparameter {k}: expected a date yyyy-mm-dd, got {v!r}")
        dates[k] = s
    if dates["data_from"] and dates["data_to"] and dates["data_from"] > dates["data_to"]:
        raise InputError(
            f"hyperparameters data_from {dates['data_from']} is after data_to {dates['data_to']}"
        )
    return HyperParameters(
        data_from=dates["data_from"],
        data_to=dates["data_to"],
        features=feats,
        feature_set_version=feature_set_version,
        model=model,
        window=window,
        epochs=_int("epochs", hp.get("epochs", 20), 1, 100000),
        batch_size=_int("batch_size", hp.get("batch_size", 256), 1, 1 << 20),
        lr=_float("lr", hp.get("lr", 1e-3), 0.0, 10.0),
        hidden=_int("hidden", hp.get("hidden", 32), 1, 4096),
        seed=_int("seed", hp.get("seed", 7), 0, 2**31 - 1),
        target=_choice("target", hp.get("target", "return"), TARGETS),
        horizon=horizon,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        embargo=_int("embargo", hp.get("embargo", horizon), 0, 100000),
        device=_choice("device", hp.get("device", "auto"), DEVICES),
        model_name=model_name,
        given=tuple(sorted(hp)),
    )
