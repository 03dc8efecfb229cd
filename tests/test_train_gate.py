"""Training and export of the candidate gate (needs the train extras: torch, onnx)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from fastplate.gate import CandidateGate  # noqa: E402
from fastplate.train import gate as train_gate  # noqa: E402


def _table(n, rng):
    """Columns iou, cover, length, confidence, widened, score, source, frame."""
    t = np.zeros((n, 8))
    t[:, 0] = rng.uniform(0, 1, n)
    t[:, 1] = rng.uniform(0, 1, n)
    t[:, 2] = rng.integers(0, 9, n)
    t[:, 3] = rng.uniform(0, 1, n)
    t[:, 6] = rng.integers(0, 4, n)
    t[:, 7] = np.arange(n) // 4
    return t


def test_labels_follow_the_documented_rule():
    t = np.zeros((5, 8))
    t[0, 0] = 0.5                   # overlaps a plate
    t[1, 1] = 0.7                   # mostly inside a plate (one group of it)
    t[2, 2:4] = (4, 0.9)            # plausible text by the recognizer
    t[3, 2:4] = (3, 0.99)           # too short
    t[4, :4] = (0.3, 0.5, 5, 0.8)   # nothing
    assert train_gate.labels_of(t).tolist() == [True, True, True, False, False]


def test_train_and_export_round_trip(tmp_path):
    """A gate learns bright-centre crops (positives) from dark ones and its ONNX export scores the same."""
    rng = np.random.default_rng(0)
    n = 512
    table = _table(n, rng)
    pos = train_gate.labels_of(table)
    x = rng.integers(0, 60, (n, 16, 64)).astype(np.uint8)
    x[pos, 4:12, 8:56] = 230
    net = train_gate.train(x, table, epochs=3, log=lambda *a: None)
    path = tmp_path / "gate.onnx"
    train_gate.export(net, str(path), threshold=0.3)
    gate = CandidateGate(path)
    assert gate.threshold == 0.3 and gate.input_size == (16, 64)
    # the exported model equals the torch one on an image whose quads are the training crops
    image = np.concatenate(list(x[:8]), axis=0)  # 8 crops stacked: 128 x 64
    quads = np.array([[[0, 16 * i], [63, 16 * i], [63, 16 * i + 15], [0, 16 * i + 15]] for i in range(8)], float)
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(x[:8]).float().unsqueeze(1) / 255)).numpy()
    np.testing.assert_allclose(gate.scores(image, quads), want, atol=1e-4)
    assert (gate(image, quads) == (want >= 0.3)).mean() >= 0.75
