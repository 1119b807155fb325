"""A minimal ONNX evaluator in numpy, for the operators our exported models use.

Debian's onnx is 1.12 (no onnx.reference, added in 1.13) and onnxruntime is not installable here,
so the tests run the exported file with this: it reads the graph and the initializers from the
file itself, so it checks the weights are inside and the graph computes what PyTorch computes.
An operator it does not know fails the test rather than being skipped.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, a):
    # x [N, C, L], w [M, C, K]; 1-D only (what the temporal conv exports)
    if x.ndim != 3 or a.get("group", 1) != 1:
        raise NotImplementedError("Conv: only 1-D, group 1")
    (pl, pr), d, s = a.get("pads", [0, 0]), a.get("dilations", [1])[0], a.get("strides", [1])[0]
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (pl, pr)))
    out_len = (xp.shape[2] - d * (k - 1) - 1) // s + 1
    y = np.zeros((x.shape[0], w.shape[0], out_len), dtype=np.float64)
    for j in range(k):
        seg = xp[:, :, j * d : j * d + s * (out_len - 1) + 1 : s]  # [N, C, out_len]
        y += np.einsum("ncl,mc->nml", seg, w[:, :, j])
    if b is not None:
        y += b[None, :, None]
    return y


def run(path: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    model = onnx.load(path)
    g = model.graph
    env: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i).astype(np.float64)
                                  if i.data_type == onnx.TensorProto.FLOAT else numpy_helper.to_array(i)
                                  for i in g.initializer}
    for k, v in inputs.items():
        env[k] = v.astype(np.float64)
    for node in g.node:
        a = _attrs(node)
        x = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            y = numpy_helper.to_array(a["value"])
        elif op == "Sub":
            y = x[0] - x[1]
        elif op == "Add":
            y = x[0] + x[1]
        elif op == "Mul":
            y = x[0] * x[1]
        elif op == "Div":
            y = x[0] / x[1]
        elif op == "Relu":
            y = np.maximum(x[0], 0)
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-x[0]))
        elif op == "Gemm":
            A = x[0].T if a.get("transA", 0) else x[0]
            B = x[1].T if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        elif op == "MatMul":
            y = x[0] @ x[1]
        elif op == "Reshape":
            shape = [int(s) for s in x[1]]
            shape = [x[0].shape[i] if s == 0 and not a.get("allowzero", 0) else s for i, s in enumerate(shape)]
            y = x[0].reshape(shape)
        elif op == "Transpose":
            y = np.transpose(x[0], a["perm"])
        elif op == "Conv":
            y = _conv(x[0], x[1], x[2] if len(x) > 2 else None, a)
        elif op == "ReduceMean":
            y = x[0].mean(axis=tuple(a["axes"]), keepdims=bool(a.get("keepdims", 1)))
        elif op == "Gather":
            y = np.take(x[0], x[1].astype(np.int64), axis=a.get("axis", 0))
        elif op == "Concat":
            y = np.concatenate(x, axis=a["axis"])
        else:
            raise NotImplementedError(f"operator {op} is not implemented in the test evaluator")
        for name in node.output:
            env[name] = y
    return [env[o.name] for o in g.output]
