"""The candidate gate: a tiny ONNX classifier that drops plate candidates not worth a recognizer run.

Most of the localizer's candidates are rows of plate-like blobs that are not text at all (grilles,
windows, foliage), or text with no plate around it (a camera's burnt-in timestamp); reading each costs a
recognizer run (about 0.8 ms on one core). The gate looks at a 32x64 gray warp of each candidate's quad grown
by the model's ``context`` (1.25x along it, 2x across, so the plate around the text shows; about 1/20 of the
recognizer's arithmetic) and keeps those that look like plate text. It is our own model, trained by
:mod:`fastplate.train.gate` on train-split candidates only, and shipped as ``fastplate/models/gate.onnx``
with its threshold and context in the model's metadata.
``Reader(gate=False)`` turns it off; the model card (``fastplate/models/README.md``) has its measurements.
"""
from __future__ import annotations

import importlib.resources
import numbers
import os

import numpy as np

from . import kernels
from ._validate import as_image, as_int, as_quads
from .errors import ModelError
from .localize import scale_quads
from .recognizer import HoldsSession, _import_onnxruntime

__all__ = ["CandidateGate", "as_gate"]


def as_gate(gate):
    """What ``Reader(gate=...)`` accepts, as a Localizer's gate: True, the shipped :class:`CandidateGate`;
    False, no gate (None); anything else as it is (the Localizer checks it)."""
    if gate is True:
        return CandidateGate()
    return None if gate is False else gate


def context_quads(quads, context) -> np.ndarray:
    """The quads the gate warps: ``quads`` ((N, 4, 2), each one :func:`fastplate.kernels.normalize_batch`
    accepts, else ValueError) grown by ``context`` (along, across) with :func:`fastplate.localize.scale_quads`.
    Growing a quad much narrower at one end than at the other across it can fold it exactly onto a line,
    which cannot be warped: such a quad is grown as the parallelogram of its mean axes instead (left as it
    is if even that cannot be warped). A quad folded past the line is warped as it is (a crossed crop, as in
    training; a few in a thousand candidates of tilted or sheared photos)."""
    quads = as_quads(quads)
    kernels.quad_to_rect_matrices(quads, (2, 2))  # the candidates themselves must be warpable
    grown = scale_quads(quads, *context)
    ok = _warpable(grown)
    for i in np.flatnonzero(~ok):
        q = quads[i]
        centre = q.mean(axis=0)
        along = ((q[1] - q[0]) + (q[2] - q[3])) * (context[0] / 4)
        across = ((q[3] - q[0]) + (q[2] - q[1])) * (context[1] / 4)
        flat = np.stack([centre - along - across, centre + along - across, centre + along + across,
                         centre - along + across])
        grown[i] = flat if _warpable(flat[None])[0] else q
    return grown


def _warpable(quads) -> np.ndarray:
    """Whether :func:`fastplate.kernels.normalize_batch` accepts each quad (finite, no three corners on a line):
    one native call, and one per quad only when some quad is not."""
    try:
        kernels.quad_to_rect_matrices(quads, (2, 2))
        return np.ones(len(quads), bool)
    except ValueError:
        if len(quads) == 1:
            return np.zeros(1, bool)
        return np.concatenate([_warpable(quads[i:i + 1]) for i in range(len(quads))])


class CandidateGate(HoldsSession):
    """Scores plate candidates (quads on a gray image) for being text worth reading.

    Parameters
    ----------
    model : str or os.PathLike, optional
        An ONNX gate model: input ``(N, 1, h, w)`` float32 in [0, 1], output ``(N,)`` scores in [0, 1]. Default:
        the shipped ``fastplate/models/gate.onnx``. Its metadata may hold ``threshold`` and ``context``
        ("along,across", scales in [0.25, 16]: each quad is grown so before it is warped, see
        :func:`context_quads`; default "1,1", the quad as it is).
    threshold : float, optional
        Candidates scoring below this are dropped. Default: the model's ``threshold`` metadata.
    threads : int
        ONNX Runtime intra-op threads (the gate's share of a frame's time is small).

    Example
    -------
    >>> import numpy as np
    >>> gate = CandidateGate()
    >>> gate.scores(np.zeros((100, 200), np.uint8), np.zeros((0, 4, 2))).shape
    (0,)
    """

    def __init__(self, model=None, *, threshold=None, threads=1):
        ort = _import_onnxruntime()
        if model is None:
            res = importlib.resources.files("fastplate.models") / "gate.onnx"
            if not res.is_file():
                raise ModelError("the shipped gate model fastplate/models/gate.onnx is missing from this install")
            source, self.name = res.read_bytes(), "fastplate/models/gate.onnx"
        elif isinstance(model, (str, os.PathLike)):
            source = self.name = os.fspath(model)
            if not os.path.isfile(source):
                raise ModelError(f"gate model file not found: {source!r}")
        else:
            raise TypeError(f"model must be None or a path, got {type(model).__name__}")
        threads = as_int(threads, "threads", minimum=1)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"cannot load the gate model {self.name}: {exc}") from exc
        meta = self.session.get_modelmeta().custom_metadata_map
        shape = self.session.get_inputs()[0].shape
        if len(shape) != 4 or not all(isinstance(v, int) for v in shape[2:]):
            raise ModelError(f"the gate model {self.name} must take (N, 1, h, w) input, got {shape}")
        self.input_size = (int(shape[2]), int(shape[3]))
        self.input_name = self.session.get_inputs()[0].name
        out = self.session.get_outputs()[0].shape  # one score per quad: (N,) or (N, 1)
        if not 1 <= len(out) <= 2 or (len(out) == 2 and isinstance(out[1], int) and out[1] != 1):
            raise ModelError(f"the gate model {self.name} must give one score per input, got output shape {out}")
        try:  # how much of the candidate's surroundings the model sees: its quad scaled by (along, across)
            self.context = tuple(float(v) for v in meta.get("context", "1,1").split(","))
        except ValueError:
            self.context = ()
        if len(self.context) != 2 or not all(0.25 <= v <= 16 for v in self.context):
            raise ModelError(f"the gate model {self.name} has a bad 'context' entry in its metadata: "
                             f"{meta.get('context')!r} (want two scales in [0.25, 16], e.g. '1.25,2')")
        if threshold is None:
            try:
                threshold = float(meta.get("threshold", 0.5))
            except ValueError:
                threshold = float("nan")
            if not 0 <= threshold <= 1:
                raise ModelError(f"the gate model {self.name} has a bad 'threshold' entry in its metadata: "
                                 f"{meta.get('threshold')!r} (want a number in [0, 1])")
        if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real) \
                or not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
        self.threshold = float(threshold)

    def __repr__(self):
        return (f"CandidateGate({self.name!r}, threshold={self.threshold}, input_size={self.input_size}, "
                f"context={self.context})")

    def scores(self, gray, quads) -> np.ndarray:
        """Scores in [0, 1] of ``quads`` ((N, 4, 2), corners clockwise from top-left) on ``gray`` ((H, W) uint8)."""
        gray = as_image(gray, "gray", ndims=(2,))
        quads = as_quads(quads)
        if not len(quads):
            return np.zeros(0, np.float32)
        if self.context != (1.0, 1.0):
            quads = context_quads(quads, self.context)
        batch = kernels.normalize_batch(gray, quads, self.input_size, threads=1)
        scores = self.session.run(None, {self.input_name: batch})[0].reshape(-1)
        if scores.shape != (len(quads),):
            raise ModelError(f"the gate model {self.name} gave {scores.size} scores for {len(quads)} quads")
        return scores

    def __call__(self, gray, quads) -> np.ndarray:
        """A boolean mask: which of ``quads`` to keep."""
        return self.scores(gray, quads) >= self.threshold
