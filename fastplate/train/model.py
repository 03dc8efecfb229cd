"""The recognizer network: a small CNN that collapses height, then dilated 1-D convs, and a CTC head.

Input (N, 1, 32, 128) float32 in [0, 1]; output (N, T=32, 37) softmax probabilities, class 36 = CTC blank.
No LSTM: recurrent layers are slow in ONNX Runtime at batch 1; the dilated 1-D stack sees the whole
width (receptive field 31 steps), which also lets it learn the reading order of two-row plates.
"""
from __future__ import annotations

import torch
from torch import nn

from ..formats import ALPHABET  # the classes; the blank comes after them

BLANK = len(ALPHABET)
NUM_CLASSES = len(ALPHABET) + 1
INPUT_SIZE = (32, 128)
CHANNELS = (16, 32, 64, 64, 96)  # the image convs' channels at width 1.0


def _conv(cin, cout, kernel=3, padding=1):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=padding, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class _Residual1d(nn.Module):
    """Conv1d k=3 with dilation + BN + ReLU, added to its input (keeps gradients flowing through the stack)."""

    def __init__(self, channels, dilation):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm1d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn(self.conv(x)))


class PlateNet(nn.Module):
    """CTC plate recognizer; ``width`` scales the channel counts (see the model card for the chosen one)."""

    def __init__(self, width=1.0, hidden=128, dilations=(1, 2, 4, 8)):
        super().__init__()
        c = [max(8, int(round(v * width))) for v in CHANNELS]
        self.config = {"width": width, "hidden": hidden, "dilations": list(dilations)}
        self.features = nn.Sequential(
            _conv(1, c[0]), nn.MaxPool2d(2),            # 16 x 64
            _conv(c[0], c[1]), nn.MaxPool2d(2),         # 8 x 32
            _conv(c[1], c[2]), _conv(c[2], c[3]),
            nn.MaxPool2d((2, 1)),                       # 4 x 32
            _conv(c[3], c[4]),
        )
        # Collapse the remaining 4 rows with one full-height conv: keeps where a character sits vertically
        # (top or bottom row of a two-row plate) in the channels.
        self.collapse = nn.Sequential(nn.Conv2d(c[4], hidden, (4, 1), bias=False), nn.BatchNorm2d(hidden),
                                      nn.ReLU(inplace=True))
        self.sequence = nn.Sequential(*[_Residual1d(hidden, d) for d in dilations])
        self.head = nn.Conv1d(hidden, NUM_CLASSES, 1)

    def forward(self, x):
        """Return CTC log-probabilities (N, T, C) in training; probabilities are added at export."""
        f = self.collapse(self.features(x)).squeeze(2)  # N, hidden, T
        return self.head(self.sequence(f)).permute(0, 2, 1)


class ExportWrapper(nn.Module):
    """What is exported: softmax over classes, (N, T, 37) probabilities."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=-1)
