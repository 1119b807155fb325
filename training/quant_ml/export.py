"""ONNX export of the scored model, and the checks that the file is what the contract says."""

from __future__ import annotations

import inspect
from pathlib import Path

import torch

OPSET = 17
INPUT_NAME = "features"
OUTPUT_NAME = "score"


def export_onnx(scored: torch.nn.Module, path: Path, n_inputs: int) -> None:
    scored = scored.cpu().eval()
    dummy = torch.zeros(2, n_inputs, dtype=torch.float32)
    kwargs = {}
    # torch >= 2.5 has a second exporter (dynamo); this file is built for the TorchScript one,
    # which torch 1.13 (Debian) and the SageMaker 2.x containers both have.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with torch.no_grad():
        torch.onnx.export(
            scored,
            (dummy,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "N"}, OUTPUT_NAME: {0: "N"}},
            opset_version=OPSET,
            do_constant_folding=True,
            export_params=True,
            **kwargs,
        )


def check_onnx(path: Path, n_inputs: int) -> str | None:
    """onnx.checker plus the contract's names, shapes and embedded weights. Returns the onnx
    package version, or None when the package is absent (the SageMaker GPU container has no
    onnx and a network-isolated job cannot install it): the export itself does not need it."""
    try:
        import onnx  # noqa: PLC0415
    except ImportError:
        return None
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    g = model.graph
    inits = {i.name for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    problems = []
    if [i.name for i in inputs] != [INPUT_NAME] or [o.name for o in g.output] != [OUTPUT_NAME]:
        problems.append(f"inputs {[i.name for i in inputs]} outputs {[o.name for o in g.output]}")
    else:
        def dims(v):
            return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in v.type.tensor_type.shape.dim]

        di, do = dims(inputs[0]), dims(g.output[0])
        if not (len(di) == 2 and isinstance(di[0], str) and di[0] and di[1] == n_inputs):
            problems.append(f"input shape {di}")
        if not (len(do) == 2 and isinstance(do[0], str) and do[0] and do[1] == 1):
            problems.append(f"output shape {do}")
        if inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            problems.append("input is not float32")
    if any(i.data_location == onnx.TensorProto.EXTERNAL for i in g.initializer):
        problems.append("weights stored outside the file")
    opsets = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not opsets or max(opsets) > OPSET:
        problems.append(f"opset {opsets}")
    if problems:
        raise RuntimeError(f"exported ONNX file breaks the contract: {'; '.join(problems)}")
    return onnx.__version__
