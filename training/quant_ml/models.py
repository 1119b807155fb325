"""The two architectures and the exported wrapper.

Both nets take the flattened contract input [N, window * F] (lag oldest -> newest, F features per
lag) already normalised, and return one raw value per row. `Scored` adds what the ONNX file must
contain around the net: normalisation with the training mean/std, and the output transform
(de-standardised return, or the probability that the return is positive).
"""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, n_inputs: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_inputs, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TemporalConv(nn.Module):
    """A small temporal convolution over the window: two 'same'-padded 1-D convolutions (the
    second dilated), then the mean over time and the newest step feed a linear head. The whole
    window is at or before bar t, so padding inside it cannot see the future."""

    def __init__(self, n_features: int, window: int, hidden: int):
        super().__init__()
        self.n_features = n_features
        self.window = window
        self.conv1 = nn.Conv1d(n_features, hidden, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel_size=3, padding=2, dilation=2)
        self.act = nn.ReLU()
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(-1, self.window, self.n_features).transpose(1, 2)  # [N, F, W]
        h = self.act(self.conv1(h))
        h = self.act(self.conv2(h))
        pooled = torch.cat([h.mean(dim=2), h[:, :, -1]], dim=1)
        return self.head(pooled)


def build_net(model: str, n_features: int, window: int, hidden: int) -> nn.Module:
    if model == "mlp":
        return MLP(n_features * window, hidden)
    return TemporalConv(n_features, window, hidden)


class Scored(nn.Module):
    """Raw features in, score out: what model.onnx computes."""

    def __init__(self, net: nn.Module, mean: torch.Tensor, std: torch.Tensor, window: int, target: str,
                 y_mean: float, y_std: float):
        super().__init__()
        self.net = net
        # per-feature stats tiled over the window's lags, matching the flattened layout
        self.register_buffer("mean", mean.to(torch.float32).repeat(window).reshape(1, -1))
        self.register_buffer("inv_std", (1.0 / std.to(torch.float32)).repeat(window).reshape(1, -1))
        self.target = target
        self.register_buffer("y_mean", torch.tensor([[y_mean]], dtype=torch.float32))
        self.register_buffer("y_std", torch.tensor([[y_std]], dtype=torch.float32))

    def raw(self, features: torch.Tensor) -> torch.Tensor:
        """The net's output before the output transform (what the loss sees in training)."""
        return self.net((features - self.mean) * self.inv_std)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        z = self.raw(features)
        if self.target == "sign":
            return torch.sigmoid(z)
        return z * self.y_std + self.y_mean
