"""Recognizer throughput: fastplate (float32 and int8) vs fast-plate-ocr's cct-xs-v1-global, one process.

Run: ``pytest benchmarks/bench_recognizer.py`` (``--benchmark-disable`` for a quick smoke run).
Each group is one batch size and one thread count (the peer: ONNX Runtime intra-op threads, its own way;
fastplate: ``Recognizer(threads=N)``, which runs a batch as N parts at once on single-threaded session
calls); it holds the model run of the
fastplate float32 and int8 models and of the peer on a prepared batch (the peer's uint8 (N, 64, 128, 3)
RGB, ours the normalized float32 (N, 1, 32, 128)). One more group times the whole ``recognize`` call on 32
crops of different sizes (normalization + model + CTC decoding) against the peer's resize + run + argmax.
The last test prints plates/s and the ratio to the peer (target: >= 3x at batch 32, one thread).
The peer columns are skipped, with a message, when ``../shared/peers`` is absent.
"""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from fastplate.errors import ModelError
from fastplate.recognizer import Recognizer

PEERS = Path(os.environ.get("FASTPLATE_PEERS", Path(__file__).resolve().parents[1] / ".." / "shared" / "peers"))
PEER_MODEL = PEERS / "cct_xs_v1_global.onnx"
TIMES: dict = {}  # (group, implementation) -> (min seconds, plates per call)
BATCHES = [1, 8, 32, 128]
THREADS = [1, 2]
IMPLEMENTATIONS = ["fastplate-float32", "fastplate-int8", "peer-cct-xs"]


def peer_session(threads):
    if not PEER_MODEL.exists():
        pytest.skip(f"peer model not found at {PEER_MODEL}: peer benchmark skipped")
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(PEER_MODEL), so, providers=["CPUExecutionProvider"])


_RECOGNIZERS: dict = {}


def recognizer(kind, threads):
    key = (kind, threads)
    if key not in _RECOGNIZERS:
        try:
            _RECOGNIZERS[key] = Recognizer(kind, device="cpu", threads=threads, batch_size=128)
        except ModelError as exc:
            pytest.skip(f"{kind} model not available: {exc}")
    return _RECOGNIZERS[key]


def run(benchmark, group, implementation, plates, func):
    benchmark.group = group
    benchmark.extra_info["implementation"] = implementation
    benchmark.extra_info["plates"] = plates
    result = benchmark(func)
    if benchmark.stats is not None:  # None under --benchmark-disable
        TIMES[(group, implementation)] = (benchmark.stats.stats.min, plates)
    return result


@pytest.fixture(scope="module")
def plate_crops():
    """32 plate-like crops of different sizes (gray and BGR), fixed seed."""
    rng = np.random.default_rng(0)
    crops = []
    for i in range(32):
        h = int(rng.integers(20, 120))
        w = int(h * rng.uniform(2.0, 4.5))
        img = np.full((h, w, 3), rng.integers(150, 255), np.uint8)
        cv2.putText(img, "ABC" + str(1000 + i), (2, int(h * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, h / 45, (20, 20, 20),
                    max(1, h // 15))
        crops.append(img if i % 2 else img[:, :, 1].copy())
    return crops


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_model_run(benchmark, implementation, batch, threads):
    group = f"recognizer-model-batch{batch:03d}-threads{threads}"
    rng = np.random.default_rng(batch)
    if implementation == "peer-cct-xs":
        sess = peer_session(threads)
        name = sess.get_inputs()[0].name
        x = rng.integers(0, 256, (batch, 64, 128, 3), dtype=np.uint8)
        out = run(benchmark, group, implementation, batch, lambda: sess.run(None, {name: x})[0])
    else:
        rec = recognizer(implementation.split("-")[1], threads)
        x = rng.random((batch, 1, *rec.input_size), dtype=np.float32)
        out = run(benchmark, group, implementation, batch, lambda: rec.predict_probs(x))
    assert len(out) == batch


@pytest.mark.parametrize("implementation", ["fastplate-float32", "fastplate-int8", "peer-cct-xs"])
def test_end_to_end_32_crops(benchmark, plate_crops, implementation):
    group = "recognizer-end-to-end-32-crops-threads1"
    if implementation == "peer-cct-xs":
        sess = peer_session(1)
        name = sess.get_inputs()[0].name

        def peer_recognize():  # fast-plate-ocr's own preprocessing: resize each crop, RGB, one batch
            x = np.stack([cv2.cvtColor(cv2.resize(c if c.ndim == 3 else cv2.cvtColor(c, cv2.COLOR_GRAY2BGR),
                                                  (128, 64), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
                          for c in plate_crops])
            return sess.run(None, {name: x})[0].reshape(len(x), 9, -1).argmax(-1)

        out = run(benchmark, group, implementation, len(plate_crops), peer_recognize)
    else:
        rec = recognizer(implementation.split("-")[1], 1)
        out = run(benchmark, group, implementation, len(plate_crops), lambda: rec.recognize(plate_crops))
    assert len(out) == len(plate_crops)


def test_print_table(capsys):
    """Plates/s per implementation, batch and thread count, and the ratio to the peer in the same group."""
    lines = []
    groups = sorted({g for g, _ in TIMES})
    for group in groups:
        peer = TIMES.get((group, "peer-cct-xs"))
        for impl in IMPLEMENTATIONS:
            if (group, impl) not in TIMES:
                continue
            seconds, plates = TIMES[(group, impl)]
            ratio = f"{(plates / seconds) / (peer[1] / peer[0]):5.2f}x peer" if peer and impl != "peer-cct-xs" else ""
            lines.append(f"{group:44s} {impl:18s} {seconds * 1e3:8.2f} ms/call {plates / seconds:8.0f} plates/s  {ratio}")
    if not PEER_MODEL.exists():
        lines.append(f"(peer model not found at {PEER_MODEL}: no peer columns)")
    with capsys.disabled():
        print("\n" + ("\n".join(lines) if lines else "recognizer: no timings (benchmarks disabled)"))
