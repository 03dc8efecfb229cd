"""The plate recognizer: an ONNX Runtime session, batched normalization, CTC decoding.

>>> rec = Recognizer()                                   # the shipped model, from package data
>>> rec.recognize(crop).text                             # doctest: +SKIP
'ABC1234'
"""
from __future__ import annotations

import importlib.resources
import itertools
import json
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import kernels
from ._validate import as_int, as_quads
from .errors import DependencyError, ModelError
from .formats import ALPHABET
from .types import Recognition

__all__ = ["Recognizer", "ctc_decode", "ctc_decode_batch"]

# Crops larger than this per side are refused: a plate crop is a few hundred pixels; anything bigger is a
# whole frame passed by mistake (use recognize_quads for that) or a corrupt array.
MAX_CROP_SIDE = 8192
# recognize() normalizes crops in chunks of at most this many crops and pixels, so any number of crops
# fits in memory (and under the image size limit of the kernels) however many are passed at once.
CHUNK_CROPS, CHUNK_PIXELS = 4096, 1 << 26
_SHIPPED = {"float32": "recognizer.onnx", "int8": "recognizer.int8.onnx"}


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        # Ctrl-C while ONNX Runtime's native module initializes reaches us as an ImportError caused by it
        # (only causes: a context would be any exception being handled where we were called).
        cause, seen = exc.__cause__, 0
        while cause is not None and seen < 16:
            if isinstance(cause, KeyboardInterrupt):
                raise cause
            cause, seen = cause.__cause__, seen + 1
        if isinstance(exc, ModuleNotFoundError) and exc.name == "onnxruntime":
            raise DependencyError("fastplate.Recognizer needs ONNX Runtime: pip install onnxruntime "
                                  "(or onnxruntime-gpu for CUDA)") from exc
        raise DependencyError(f"ONNX Runtime is installed but cannot be imported ({type(exc).__name__}: {exc}); "
                              "reinstall the package you use: onnxruntime, or onnxruntime-gpu") from exc
    return onnxruntime


def _model_bytes_and_config(model):
    """Resolve ``model`` to (onnx bytes or path, config dict, display name)."""
    if model is None or (isinstance(model, str) and model in _SHIPPED):
        files = importlib.resources.files("fastplate.models")
        name = _SHIPPED[model or "float32"]
        cfg_res = files / "recognizer.json"
        if not cfg_res.is_file() or not (files / name).is_file():
            raise ModelError(f"the shipped recognizer model fastplate/models/{name} is missing from this install")
        return (files / name).read_bytes(), json.loads(cfg_res.read_text()), f"fastplate/models/{name}"
    if isinstance(model, (bytes, bytearray)):
        return bytes(model), _default_config(), "<bytes>"
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be None, 'float32', 'int8', a path or ONNX bytes, got {type(model).__name__}")
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ModelError(f"model file not found: {path!r}")
    config = config_path(path)
    if config is not None:
        with open(config) as f:
            return path, json.load(f), path
    return path, _default_config(), path


def config_path(model_path):
    """The config a model file is read with: ``<stem>.json`` next to it, ``<name before its first dot>.json``
    (``plate.int8.onnx``: ``plate.json``), or ``recognizer.json`` in its folder; None when there is none
    (the shipped config is used)."""
    folder, name = os.path.split(os.fspath(model_path))
    stem = os.path.splitext(name)[0]  # the file's name only: a folder may have dots too ("v1.2/")
    for cand in (os.path.join(folder, stem + ".json"), os.path.join(folder, stem.split(".")[0] + ".json"),
                 os.path.join(folder, "recognizer.json")):
        if os.path.isfile(cand):
            return cand
    return None


def _default_config():
    """The shipped config, for a model without its own; less the shipped model's step positions."""
    files = importlib.resources.files("fastplate.models")
    if (files / "recognizer.json").is_file():
        cfg = json.loads((files / "recognizer.json").read_text())
        cfg.pop("step_positions", None)
        return cfg
    return {"input_size": [32, 128], "alphabet": ALPHABET, "blank_index": 36,
            "normalization": {"scale": 1.0 / 255.0, "offset": 0.0}}


def _choose_providers(ort, device, providers):
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
    if providers is not None:
        if isinstance(providers, str) or not hasattr(providers, "__iter__"):
            raise TypeError(f"providers must be a list of provider names, got {providers!r}")
        providers = list(providers)  # once: a generator is read once
        if not all(isinstance(p, (str, tuple)) for p in providers):
            raise TypeError(f"providers must be a list of provider names, got {providers!r}")
        if not providers:
            raise ValueError("providers must name at least one provider (e.g. ['CPUExecutionProvider'])")
        return providers
    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda" or "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


MAX_SWAPS = 10  # ctc_decode's alternatives number up to 2 ** max_swaps


def ctc_decode(probs, alphabet, blank, top_n=5, max_swaps=4, positions=None):
    """Greedy (best-path) CTC decoding of one (T, C) probability matrix.

    Parameters
    ----------
    probs : ndarray, (T, C) float32
        Per-step class probabilities (softmax output); ``C == len(alphabet) + 1``.
    alphabet : str
    blank : int
        Index of the CTC blank class.
    top_n : int
        Number of readings in ``candidates`` (the best path first).
    max_swaps : int
        Alternatives swap up to this many (0-MAX_SWAPS) of the least confident characters with their runner-up
        at the step where the character was emitted (the runner-up may be "blank": the character dropped);
        the alternatives number up to ``2 ** max_swaps``.
    positions : sequence of 2T + 1 floats, optional
        Where a character emitted at step position ``0, 0.5, 1, ..., T`` sits, as a fraction of the crop
        width (a model's ``step_positions``, see :func:`fastplate.train.spans.calibrate`). A CTC model
        emits each character some steps after (or before) it appears; without a table the step position
        is taken as the place (``t / T``).

    Returns
    -------
    Recognition
        ``confidence`` is the product of the character probabilities (0 when nothing was read); each
        character's probability is its maximum over the steps of its run; ``char_spans`` divide the
        width at the midpoints between the characters' places (their emission steps through
        ``positions``).

    Example
    -------
    >>> p = np.full((4, 3), 0.01, np.float32); p[[0, 1], 0] = 0.98; p[2, 2] = 0.98; p[3, 1] = 0.98
    >>> ctc_decode(p, "AB", 2).text
    'AB'
    """
    probs = np.asarray(probs, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[1] != len(alphabet) + 1:
        raise ValueError(f"probs must have shape (T, {len(alphabet) + 1}), got {probs.shape}")
    return ctc_decode_batch(probs[None], alphabet, blank, top_n, max_swaps, positions)[0]


def step_positions(positions, t_steps):
    """``positions`` checked as a table of :func:`ctc_decode` (None passes): a float64 array of 2T + 1
    non-decreasing fractions in [0, 1]."""
    if positions is None:
        return None
    try:
        table = np.asarray(positions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("positions must be a sequence of numbers") from None
    if table.shape != (2 * t_steps + 1,) or not np.isfinite(table).all() or table.min() < 0 or table.max() > 1 \
            or (np.diff(table) < 0).any():
        raise ValueError(f"positions must be {2 * t_steps + 1} non-decreasing fractions in [0, 1] (one per half "
                         f"step of {t_steps}), got shape {table.shape}")
    return table


def ctc_decode_batch(probs, alphabet, blank, top_n=5, max_swaps=4, positions=None):
    """:func:`ctc_decode` of each of the (N, T, C) probability matrices: a list of N Recognitions.

    The array work runs once for the whole batch (the reader decodes every candidate of every image
    in one call); only the few characters of each reading are handled one by one.
    """
    probs = np.asarray(probs, dtype=np.float32)
    if probs.ndim != 3 or probs.shape[2] != len(alphabet) + 1:
        raise ValueError(f"probs must have shape (N, T, {len(alphabet) + 1}), got {probs.shape}")
    n, t_steps, n_cls = probs.shape
    if not isinstance(alphabet, str):
        raise TypeError(f"alphabet must be a str, got {type(alphabet).__name__}")
    blank = as_int(blank, "blank", minimum=0, maximum=n_cls - 1)
    top_n = as_int(top_n, "top_n", minimum=1)
    max_swaps = as_int(max_swaps, "max_swaps", minimum=0, maximum=MAX_SWAPS)
    positions = step_positions(positions, t_steps)
    if n == 0 or t_steps == 0:
        return [_recognition("", [], [], [], t_steps, top_n) for _ in range(n)]
    flat = probs.reshape(n * t_steps, n_cls)
    best = flat.argmax(1)
    step_prob = flat[np.arange(n * t_steps), best]
    # A character is emitted once per run of a non-blank class, at the run's most probable step (the
    # earliest on ties).
    starts, ends = _runs(best, t_steps)
    run = np.repeat(np.arange(len(starts)), ends - starts)
    order = np.lexsort((-step_prob, run))  # by run, then most probable first (stable)
    keep = best[starts] != blank
    peak = order[starts][keep]
    chars = best[peak]
    conf32 = step_prob[peak]
    item = starts[keep] // t_steps
    steps = (starts[keep] + ends[keep]) / 2.0 - item * t_steps
    if positions is None:
        centres = steps / t_steps
    else:
        centres = np.interp(steps, np.arange(2 * t_steps + 1) / 2.0, positions)
    # The model has no steps past the crop's right edge: characters near it are emitted crowded into the last
    # steps, whatever their places; with a table, they are spread out at the row's pitch (_even_out).
    late = (steps >= t_steps - LAST_STEPS) & (positions is not None)
    # Runner-up class of every emitted character, at its peak step (blank: the character dropped).
    rows = flat[peak]
    rows[np.arange(len(peak)), chars] = -1.0
    alt = rows.argmax(1)
    alt_prob = rows[np.arange(len(peak)), alt]
    bounds = np.searchsorted(item, np.arange(n + 1))
    chars, confs, centres, late = chars.tolist(), conf32.tolist(), centres.tolist(), late.tolist()
    alt, alt_prob = alt.tolist(), alt_prob.tolist()
    out = []
    for b in range(n):
        s, e = bounds[b], bounds[b + 1]
        alts = []
        if top_n > 1:
            for i in sorted(range(e - s), key=confs[s:e].__getitem__)[:max_swaps]:
                if alt_prob[s + i] > 0:
                    alts.append((i, "" if alt[s + i] == blank else alphabet[alt[s + i]],
                                 alt_prob[s + i] / max(confs[s + i], 1e-12)))
        places = _even_out(centres[s:e], late[s:e])
        out.append(_recognition("".join([alphabet[c] for c in chars[s:e]]), conf32[s:e], places, alts, t_steps, top_n))
    return out


def _runs(best, t_steps):
    """Runs of the same class in best-path classes ``best`` of matrices of ``t_steps`` steps laid end to end
    (every matrix starts a new run): ``(starts, ends)``, indices into ``best``, ends exclusive."""
    change = np.empty(len(best), bool)
    change[:1] = True
    np.not_equal(best[1:], best[:-1], out=change[1:])
    change[::t_steps] = True
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], len(best))
    return starts, np.minimum(ends, (starts // t_steps + 1) * t_steps)


def _median(values):
    """Median of a short list (as numpy's: the mean of the middle two for an even count)."""
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


# Characters emitted in the last LAST_STEPS steps that are closer than EVEN_OUT of the row's pitch to their left
# neighbour are moved to one pitch right of it. Chosen on synthetic one-row plates (400 each of tight,
# plate-sized and loose crops); on 600 others, the median of each plate's worst span centre error went from
# 0.57 to 0.23 of the pitch on tight crops, 0.22 to 0.20 on plate-sized ones, 0.20 to 0.21 on loose ones.
LAST_STEPS = 3.0
EVEN_OUT = 0.9


def _even_out(places, late):
    """``places`` of a row's characters with the ``late`` ones that crowd their left neighbour spread out."""
    if len(places) < 3 or not any(late):
        return places
    c = list(places)
    pitch = _median([b - a for a, b in zip(c, c[1:])])
    for i in range(1, len(c)):
        if late[i] and c[i] - c[i - 1] < EVEN_OUT * pitch:
            c[i] = c[i - 1] + min(pitch, (1.0 - c[i - 1]) * 2 / 3)  # never past the crop's edge
    return c


def _recognition(text, char_conf, places, alts, t_steps, top_n):
    """A Recognition from one decoded path: its characters' confidences (float32), places (fractions of the
    width) and runner-ups ``[(index, letter or "", probability ratio), ...]``."""
    k = len(text)
    char_conf = np.array(char_conf, np.float32)
    if k:
        c = places
        half = _median([b - a for a, b in zip(c, c[1:])]) / 2 if k > 1 else 0.5 / t_steps * 2
        bounds = [min(max(v, 0.0), 1.0) for v in [c[0] - half] + [(a + b) / 2 for a, b in zip(c, c[1:])] + [c[-1] + half]]
        spans = np.array([bounds[:-1], bounds[1:]], np.float32).T.copy()
    else:
        spans = np.zeros((0, 2), np.float32)
    confidence = float(np.prod(char_conf)) if k else 0.0
    # Alternatives: swap the least confident characters with their runner-ups, rank by path probability.
    candidates = [(text, confidence)]
    if top_n > 1 and alts:
        best = {}  # a text reachable by several swaps ("KL442": either 4 dropped) keeps its best score
        for r in range(1, len(alts) + 1):
            for combo in itertools.combinations(alts, r):
                letters = list(text)
                ratio = 1.0
                for i, ch, q in combo:
                    letters[i] = ch
                    ratio *= q
                cand = "".join(letters)
                if cand != text and confidence * ratio > best.get(cand, -1.0):
                    best[cand] = confidence * ratio
        candidates += sorted(best.items(), key=lambda x: -x[1])[: top_n - 1]
    return Recognition(text=text, confidence=confidence, char_confidences=char_conf, char_spans=spans,
                       candidates=tuple(candidates))


def _positive_int(name, doc):
    """A property holding a whole number >= 1, checked whenever it is set (not only by the constructor)."""
    def get(self):
        return getattr(self, "_" + name)

    def set(self, value):
        setattr(self, "_" + name, as_int(value, name, minimum=1))

    return property(get, set, doc=doc)


def _chunks(crops):
    """Consecutive runs of ``crops`` of at most CHUNK_CROPS crops and CHUNK_PIXELS pixels (one crop at least)."""
    part, pixels = [], 0
    for c in crops:
        size = c.shape[0] * c.shape[1]
        if part and (len(part) == CHUNK_CROPS or pixels + size > CHUNK_PIXELS):
            yield part
            part, pixels = [], 0
        part.append(c)
        pixels += size
    if part:
        yield part


MAX_SUPERSAMPLING = 4


def _supersampling(quads, h, w):
    """Per quad, how many times the input size (h, w) to warp it at before averaging back: its top edge
    over ``w`` or its left edge over ``h``, rounded, 1 to MAX_SUPERSAMPLING."""
    quads = np.asarray(quads, dtype=np.float64)
    top = np.hypot(*(quads[:, 1] - quads[:, 0]).T)
    left = np.hypot(*(quads[:, 3] - quads[:, 0]).T)
    return np.clip(np.rint(np.maximum(top / w, left / h)), 1, MAX_SUPERSAMPLING).astype(np.int64)


def _block_mean(big, s):
    """Means of the s x s blocks of (N, 1, s h, s w) float32: (N, 1, h, w). Sums of strided slices: NumPy's
    mean over two axes of a reshaped array is about 15x slower on these sizes."""
    n, _, sh, sw = big.shape
    rows = big.reshape(n, sh // s, s, sw)
    out = rows[:, :, 0].copy()
    for k in range(1, s):
        out += rows[:, :, k]
    cols = out.reshape(n, sh // s, sw // s, s)
    out = cols[..., 0].copy()
    for k in range(1, s):
        out += cols[..., k]
    out *= np.float32(1.0 / (s * s))
    return out.reshape(n, 1, sh // s, sw // s)


def _to_gray(image):
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return np.ascontiguousarray(image[:, :, 0])
    return kernels.to_gray(image)


class HoldsSession:
    """What holds ONNX Runtime sessions (the Recognizer, the candidate gate): sessions cannot be pickled, so
    neither is it, with an error that names it (ONNX Runtime's names its session class); a shallow
    ``copy.copy`` shares the session, as threads may, with options of its own (``top_n``, ...)."""

    def __reduce__(self):
        raise TypeError(f"a {type(self).__name__} cannot be pickled or deep-copied (it holds ONNX Runtime sessions): "
                        f"create one in each process (e.g. in a multiprocessing Pool initializer); threads may share one")

    def __deepcopy__(self, memo):
        self.__reduce__()

    def __copy__(self):
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new


class Recognizer(HoldsSession):
    """Read the text of license plate crops with the shipped (or a given) ONNX recognizer.

    Parameters
    ----------
    model : None, "float32", "int8", path or bytes
        None/"float32": the shipped float32 model; "int8": the shipped int8 model; or an ONNX file (its
        config is read from ``<stem>.json`` or ``recognizer.json`` next to it, else the shipped config).
    device : {"auto", "cpu", "cuda"}
        "auto" uses CUDA when onnxruntime-gpu and a GPU are present. A requested CUDA provider that
        falls back to CPU gives a ``RuntimeWarning``.
    providers : list of str, optional
        ONNX Runtime providers, overriding ``device``.
    sess_options : onnxruntime.SessionOptions, optional
        Used as given, except that ``threads`` (when given) sets its ``intra_op_num_threads`` to 1: the
        object is changed, so pass a fresh one to each Recognizer that needs other settings.
    batch_size : int
        Crops per ONNX Runtime run.
    threads : int, optional
        CPU threads per call (default: the cores this process may use, :func:`fastplate.kernels.cpu_cores`;
        with your own ``sess_options``, its settings). The session runs each call single-threaded and a
        batch is split into ``threads`` parts run at the same time: ONNX Runtime's intra-op threads scale
        poorly on this small model (measured on 2 cores, batches of 8-64: 1.3-1.5x one thread, against
        1.9-2x for two parts at once). Also used for the normalization kernel. On a GPU provider a batch is
        never split.
    top_n : int
        Readings per crop in ``Recognition.candidates``.
    antialias : bool
        Shrink large plates by averaging, as the model saw them in training: a quad more than about 1.5x the
        input size (32x128) is warped at ``s`` times that size (``s`` = its top edge / 128 or left edge /
        32, rounded, 2-4) and ``s`` x ``s`` blocks are averaged. False: every quad is sampled bilinearly
        straight at the input size, which skips pixels of plates much wider than 128 px.

    Notes
    -----
    Thread-safe: one session per Recognizer (ONNX Runtime sessions may run concurrently), every call
    allocates its own batch buffer.

    Example
    -------
    >>> rec = Recognizer(threads=1)
    >>> rec.recognize(np.full((40, 120), 255, np.uint8)).text
    ''
    """

    def __init__(self, model=None, *, device="auto", providers=None, sess_options=None, batch_size=64,
                 threads=None, top_n=5, antialias=True):
        ort = _import_onnxruntime()
        batch_size = as_int(batch_size, "batch_size", minimum=1)
        threads = None if threads is None else as_int(threads, "threads", minimum=1)
        top_n = as_int(top_n, "top_n", minimum=1)
        source, cfg, self.model_name = _model_bytes_and_config(model)
        self.config = cfg
        self.alphabet = cfg["alphabet"]
        self.blank = int(cfg["blank_index"])
        self.input_size = tuple(int(v) for v in cfg["input_size"])
        self.scale = float(cfg.get("normalization", {}).get("scale", 1.0 / 255.0))
        if float(cfg.get("normalization", {}).get("offset", 0.0)) != 0.0:
            raise ModelError(f"{self.model_name}: normalization.offset is not supported (inputs are pixel * scale)")
        try:  # where the model's characters sit along its steps (model card, "Character boxes")
            self.step_positions = step_positions(cfg.get("step_positions"),
                                                 int(cfg.get("time_steps") or self.input_size[1] // 4))
        except ValueError as exc:
            raise ModelError(f"{self.model_name}: step_positions of its config: {exc}") from None
        self.batch_size = int(batch_size)
        self.top_n = int(top_n)
        self.antialias = bool(antialias)
        self.threads = None if threads is None else int(threads)

        own_options = sess_options is None
        if not own_options and not isinstance(sess_options, ort.SessionOptions):
            raise TypeError(f"sess_options must be an onnxruntime.SessionOptions or None, got "
                            f"{type(sess_options).__name__}")
        if own_options:
            sess_options = ort.SessionOptions()
            sess_options.inter_op_num_threads = 1
            sess_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            # Idle ORT workers must not spin: between runs the cores belong to the localization threads.
            sess_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Parts of a batch run at once (see ``threads``); each session call then runs on one thread.
        self.workers = self.threads or (kernels.cpu_cores() if own_options else 1)
        if own_options or self.threads is not None:
            sess_options.intra_op_num_threads = 1
        requested = _choose_providers(ort, device, providers)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ORT's own provider warnings; we report the fallback below
            try:
                self.session = ort.InferenceSession(source, sess_options, providers=requested)
            except Exception as exc:
                raise ModelError(f"cannot load recognizer model {self.model_name}: {exc}") from exc
        self.providers = self.session.get_providers()
        if self.providers[0] != "CPUExecutionProvider":
            self.workers = 1  # a GPU runs a whole chunk at once; splitting only adds launches
        self._pool, self._pool_pid = None, None
        self._pool_lock = threading.Lock()
        gpu_wanted = [p for p in requested if (p[0] if isinstance(p, tuple) else p) != "CPUExecutionProvider"]
        missing = [p for p in gpu_wanted if (p[0] if isinstance(p, tuple) else p) not in self.providers]
        if missing:
            warnings.warn(f"fastplate.Recognizer: requested {missing} but ONNX Runtime runs on "
                          f"{self.providers} (install onnxruntime-gpu and CUDA/cuDNN to use the GPU); "
                          "falling back to CPU", RuntimeWarning, stacklevel=2)

        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) < 1:
            raise ModelError(f"{self.model_name}: expected 1 input and 1 output, got {len(inputs)} and {len(outputs)}")
        self.input_name, self.output_name = inputs[0].name, outputs[0].name
        shape = inputs[0].shape
        if len(shape) != 4 or shape[1] not in (1, "channels") or any(
                isinstance(s, int) and s != v for s, v in zip(shape[2:], self.input_size)):
            raise ModelError(f"{self.model_name}: input shape {shape} does not match (N, 1, {self.input_size[0]}, "
                             f"{self.input_size[1]}) from its config")

    batch_size = _positive_int("batch_size", "Crops per model run, at least 1 (checked when set).")
    top_n = _positive_int("top_n", "Readings per crop in ``Recognition.candidates``, at least 1 (checked when set).")

    def __repr__(self):
        return (f"Recognizer(model={self.model_name!r}, providers={self.providers}, batch_size={self.batch_size}, "
                f"threads={self.threads}, workers={self.workers})")

    # ------------------------------------------------------------------------------------------ inputs
    def _check_crop(self, crop, name):
        if not isinstance(crop, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray of uint8, got {type(crop).__name__}")
        if crop.dtype != np.uint8:
            raise TypeError(f"{name} must have dtype uint8, got {crop.dtype}")
        if crop.ndim not in (2, 3) or (crop.ndim == 3 and crop.shape[2] not in (1, 3, 4)):
            raise ValueError(f"{name} must be (H, W) gray or (H, W, 3|4) BGR, got shape {crop.shape}")
        h, w = crop.shape[:2]
        if h == 0 or w == 0:
            raise ValueError(f"{name} is empty (shape {crop.shape})")
        if h < 2 or w < 2:
            raise ValueError(f"{name} is {h}x{w} px: a crop needs at least 2 px per side")
        if h > MAX_CROP_SIDE or w > MAX_CROP_SIDE:
            raise ValueError(f"{name} is {h}x{w} px, more than {MAX_CROP_SIDE} px per side: pass a plate crop, or "
                             "the whole image with recognize_quads()")
        return crop

    def _atlas(self, crops):
        """Paste gray versions of crops of any sizes into one image; returns (atlas, quads (N, 4, 2))."""
        sizes = [c.shape[:2] for c in crops]
        width = max(max(w for _, w in sizes), 1024)
        x = y = shelf = 0
        pos = [None] * len(crops)
        # Shelf packing, tallest first (one pixel between crops): each shelf is as tall as its first crop, so
        # the atlas stays within about twice the crops' pixels plus one shelf, whatever mix of tall and wide
        # crops comes (in the given order, one tall crop per shelf of wide ones could make it hundreds of
        # times larger).
        for i in sorted(range(len(sizes)), key=lambda k: -sizes[k][0]):
            h, w = sizes[i]
            if x + w > width:
                x, y, shelf = 0, y + shelf + 1, 0
            pos[i] = (x, y)
            x += w + 1
            shelf = max(shelf, h)
        atlas = np.zeros((y + shelf, width), np.uint8)
        quads = np.empty((len(crops), 4, 2), np.float64)
        for i, (c, (h, w), (x0, y0)) in enumerate(zip(crops, sizes, pos)):
            atlas[y0:y0 + h, x0:x0 + w] = _to_gray(c)
            quads[i] = [[x0, y0], [x0 + w - 1, y0], [x0 + w - 1, y0 + h - 1], [x0, y0 + h - 1]]
        return atlas, quads

    def _normalize_into(self, image, quads, out):
        """normalize_batch of one gray image into ``out`` (a slice of the batch buffer); large quads
        averaged down from ``s`` times the size when ``antialias`` (see the class docstring)."""
        h, w = self.input_size
        factor = _supersampling(quads, h, w) if self.antialias else np.ones(len(quads), np.int64)
        for s in np.unique(factor):
            pick = np.flatnonzero(factor == s)
            whole = len(pick) == len(quads)
            if s == 1:
                target = out if whole else np.empty((len(pick), 1, h, w), np.float32)
                kernels.normalize_batch(image, quads[pick], (h, w), scale=self.scale, threads=self.threads or None,
                                        out=target)
            else:  # at most 256 quads warped large at a time (64 MB at s = 4)
                target = np.empty((len(pick), 1, h, w), np.float32)
                for a in range(0, len(pick), 256):
                    big = kernels.normalize_batch(image, quads[pick[a:a + 256]], (h * s, w * s), scale=self.scale,
                                                  threads=self.threads or None)
                    target[a:a + 256] = _block_mean(big, s)
            if not whole or s != 1:
                out[pick] = target

    def _check_quads(self, quads, name, image_shape):
        quads = as_quads(quads, name)
        h, w = image_shape[:2]
        if (np.abs(quads) > 4 * max(h, w) + 1024).any():
            raise ValueError(f"{name} has corners far outside the {w}x{h} image")
        # Shoelace area: a quad with (almost) no area cannot be read.
        x, y = quads[..., 0], quads[..., 1]
        area = 0.5 * np.abs((x * np.roll(y, -1, 1) - np.roll(x, -1, 1) * y).sum(1))
        if (area < 1.0).any():
            raise ValueError(f"{name}[{int(np.argmax(area < 1.0))}] is degenerate (area < 1 px)")
        return quads

    # ------------------------------------------------------------------------------------------- running
    def _executor(self):
        """The thread pool for batch parts, made on first use, and again in a forked child process (the
        parent's worker threads do not exist there, and a pool that waits for them would hang)."""
        pid = os.getpid()
        if self._pool_pid != pid:
            if self._pool_pid is not None:  # forked: forget the parent's pool and its (maybe held) lock
                self._pool, self._pool_lock = None, threading.Lock()
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="fastplate-recognizer")
                    self._pool_pid = pid
        return self._pool

    def _run_part(self, part):
        return self.session.run([self.output_name], {self.input_name: part})[0]

    def _run(self, batch):
        """Run the model over the (N, 1, h, w) batch in chunks of at most ``batch_size``, in at least
        ``workers`` parts run at once; returns (N, T, C) probabilities."""
        n = len(batch)
        parts = max(-(-n // self.batch_size), min(self.workers, n))
        if parts == 1:
            outs = [self._run_part(batch)]
        else:
            edges = [n * i // parts for i in range(parts + 1)]
            chunks = [batch[a:b] for a, b in zip(edges, edges[1:])]
            if self.workers > 1:
                outs = list(self._executor().map(self._run_part, chunks))
            else:
                outs = [self._run_part(c) for c in chunks]
        probs = np.concatenate(outs) if len(outs) > 1 else outs[0]
        if probs.ndim != 3 or probs.shape[2] != len(self.alphabet) + 1:
            raise ModelError(f"{self.model_name}: output shape {probs.shape}, expected (N, T, {len(self.alphabet) + 1})")
        if self.step_positions is not None and 2 * probs.shape[1] + 1 != len(self.step_positions):
            raise ModelError(f"{self.model_name}: {probs.shape[1]} output steps, but its config's step_positions "
                             f"are for {(len(self.step_positions) - 1) // 2}")
        return probs

    def _decode(self, probs):
        return ctc_decode_batch(probs, self.alphabet, self.blank, self.top_n, positions=self.step_positions)

    def _empty_batch(self, n):
        return np.empty((n, 1, *self.input_size), np.float32)

    def predict_probs(self, batch):
        """Raw model output for a normalized (N, 1, h, w) float32 batch: (N, T, C) probabilities."""
        if not isinstance(batch, np.ndarray) or batch.dtype != np.float32:
            raise TypeError("batch must be a float32 numpy.ndarray of shape (N, 1, h, w)")
        if batch.ndim != 4 or batch.shape[1:] != (1, *self.input_size):
            raise ValueError(f"batch must have shape (N, 1, {self.input_size[0]}, {self.input_size[1]}), got {batch.shape}")
        if len(batch) == 0:
            steps = int(self.config.get("time_steps", self.input_size[1] // 4))
            return np.zeros((0, steps, len(self.alphabet) + 1), np.float32)
        return self._run(np.ascontiguousarray(batch))

    def recognize(self, crops):
        """Read plate crops.

        Parameters
        ----------
        crops : ndarray or list of ndarray, uint8
            One crop (H, W) gray or (H, W, 3|4) BGR; a list of such crops of any sizes; or a batch
            (N, H, W) / (N, H, W, C). A 3-D array whose last axis has 1, 3 or 4 entries is one colour crop.

        Returns
        -------
        Recognition, for a single crop; list of Recognition otherwise (empty list for an empty list/batch).

        Raises
        ------
        TypeError
            Not an ndarray / list of them, or not uint8.
        ValueError
            Zero-size crops, crops under 2 px per side, crops larger than 8192 px per side, wrong number of dims/channels.
        """
        single = False
        if isinstance(crops, np.ndarray):
            if crops.dtype != np.uint8:
                raise TypeError(f"crops must have dtype uint8, got {crops.dtype}")
            if crops.ndim == 2 or (crops.ndim == 3 and crops.shape[2] in (1, 3, 4)):
                single = True
                crops = [crops]
            elif crops.ndim in (3, 4):
                if len(crops) == 0:
                    return []
                self._check_crop(crops[0], "crops[0]")
                n, h, w = crops.shape[:3]
                step = max(1, min(CHUNK_CROPS, CHUNK_PIXELS // (h * w)))
                results = []
                for a in range(0, n, step):
                    # A chunk of equal crops is one tall image: no copy for gray, one conversion for colour.
                    part = crops[a:a + step]
                    tall = _to_gray(np.ascontiguousarray(part.reshape(len(part) * h, w, *crops.shape[3:])))
                    quads = np.array([[[0, i * h], [w - 1, i * h], [w - 1, i * h + h - 1], [0, i * h + h - 1]]
                                      for i in range(len(part))], np.float64)
                    batch = self._empty_batch(len(part))
                    self._normalize_into(tall, quads, batch)
                    results += self._decode(self._run(batch))
                return results
            else:
                raise ValueError(f"crops must be (H, W), (H, W, C), (N, H, W) or (N, H, W, C), got shape {crops.shape}")
        elif isinstance(crops, (list, tuple)):
            if len(crops) == 0:
                return []
        else:
            raise TypeError(f"crops must be a numpy.ndarray or a list of them, got {type(crops).__name__}")
        crops = [self._check_crop(c, f"crops[{i}]" if not single else "crop") for i, c in enumerate(crops)]
        results = []
        for part in _chunks(crops):
            atlas, quads = self._atlas(part)
            batch = self._empty_batch(len(part))
            self._normalize_into(atlas, quads, batch)
            results += self._decode(self._run(batch))
        return results[0] if single else results

    def recognize_quads(self, image, quads):
        """Read the plates at ``quads`` of one image, without cutting crops first.

        Parameters
        ----------
        image : ndarray, (H, W) gray or (H, W, 3|4) BGR uint8
        quads : array_like, (N, 4, 2) or (4, 2)
            Corners x, y (pixel centres), clockwise from the top-left corner of the plate.

        Returns
        -------
        list of Recognition, one per quad.
        """
        return self._quads_batch([self._check_item(image, quads, "")])[0]

    def recognize_quads_batch(self, items):
        """Read quads of several images with one batched model run (chunked by ``batch_size``).

        Parameters
        ----------
        items : list of (image, quads)

        Returns
        -------
        list (one per image) of lists of Recognition.
        """
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"items must be a list of (image, quads) pairs, got {type(items).__name__}")
        prepared = []
        for i, item in enumerate(items):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise TypeError(f"items[{i}] must be an (image, quads) pair")
            prepared.append(self._check_item(*item, f"items[{i}] "))
        return self._quads_batch(prepared)

    def _check_item(self, image, quads, where):
        """``(image, quads as an (N, 4, 2) array)`` checked; errors name them after ``where``."""
        if not isinstance(image, np.ndarray):
            raise TypeError(f"{where}image must be a numpy.ndarray of uint8, got {type(image).__name__}")
        if image.dtype != np.uint8:
            raise TypeError(f"{where}image must have dtype uint8, got {image.dtype}")
        if image.ndim not in (2, 3) or image.size == 0:
            raise ValueError(f"{where}image must be a non-empty (H, W) or (H, W, C) array, got {image.shape}")
        return image, self._check_quads(quads, f"{where}quads", image.shape)

    def _quads_batch(self, prepared):
        counts = [len(q) for _, q in prepared]
        batch = self._empty_batch(sum(counts))
        start = 0
        for (image, quads), n in zip(prepared, counts):
            if n:
                gray = _to_gray(np.ascontiguousarray(image))
                self._normalize_into(gray, quads, batch[start:start + n])
            start += n
        results = self._decode(self._run(batch)) if len(batch) else []
        out, start = [], 0
        for n in counts:
            out.append(results[start:start + n])
            start += n
        return out
