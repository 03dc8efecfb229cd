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
    # With the ninth column (share inside camera text): text there is never a plate, whatever it reads.
    osd = np.concatenate([t, np.zeros((5, 1))], axis=1)
    assert train_gate.labels_of(osd).tolist() == [True, True, True, False, False]
    osd[:, 8] = (0.5, 0.0, 0.9, 0.9, 0.49)
    assert train_gate.labels_of(osd).tolist() == [False, True, False, False, False]


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
    train_gate.export(net, str(path), threshold=0.3, context=(1, 1), input_size=(16, 64))
    gate = CandidateGate(path)
    assert gate.threshold == 0.3 and gate.input_size == (16, 64) and gate.context == (1.0, 1.0)
    # the exported model equals the torch one on an image whose quads are the training crops
    image = np.concatenate(list(x[:8]), axis=0)  # 8 crops stacked: 128 x 64
    quads = np.array([[[0, 16 * i], [63, 16 * i], [63, 16 * i + 15], [0, 16 * i + 15]] for i in range(8)], float)
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(x[:8]).float().unsqueeze(1) / 255)).numpy()
    np.testing.assert_allclose(gate.scores(image, quads), want, atol=1e-4)
    assert (gate(image, quads) == (want >= 0.3)).mean() >= 0.75


def test_a_gate_with_context_sees_the_grown_quad(tmp_path):
    """The model's metadata says how much of the surroundings it sees; the gate grows each quad by it."""
    from fastplate.localize import scale_quads

    torch.manual_seed(0)
    net = train_gate.gate_net().eval()
    path = tmp_path / "gate.onnx"
    train_gate.export(net, str(path), context=(1.25, 2.0), input_size=(32, 64))
    gate = CandidateGate(path)
    assert gate.context == (1.25, 2.0) and gate.input_size == (32, 64) and "context=(1.25, 2.0)" in repr(gate)
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (120, 200)).astype(np.uint8)
    quads = np.array([[[60, 40], [140, 44], [139, 70], [59, 66]], [[10, 10], [50, 10], [50, 30], [10, 30]]], float)
    from fastplate import kernels

    crops = kernels.normalize_batch(image, scale_quads(quads, 1.25, 2.0), (32, 64), threads=1)
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(crops))).numpy()
    np.testing.assert_allclose(gate.scores(image, quads), want, atol=1e-5)


def _with_metadata(tmp_path, key, value):
    """An exported gate whose metadata entry ``key`` is ``value`` (None: no such entry)."""
    import onnx

    path = tmp_path / "gate.onnx"
    train_gate.export(train_gate.gate_net().eval(), str(path))
    model = onnx.load(str(path))
    kept = [(e.key, e.value) for e in model.metadata_props if e.key != key]
    del model.metadata_props[:]
    for k, v in kept + ([] if value is None else [(key, value)]):
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("key, value", [("context", "1.25"), ("context", "a,b"), ("context", "0,2"),
                                        ("context", "0.1,2"), ("context", "1,99"), ("context", "nan,1"),
                                        ("threshold", "abc"), ("threshold", "nan"), ("threshold", "1.5")])
def test_bad_metadata_is_a_model_error(tmp_path, key, value):
    from fastplate.errors import ModelError

    with pytest.raises(ModelError, match=f"bad '{key}' entry"):
        CandidateGate(_with_metadata(tmp_path, key, value))


def test_a_gate_without_context_metadata_warps_the_quad_as_it_is(tmp_path):
    gate = CandidateGate(_with_metadata(tmp_path, "context", None))
    assert gate.context == (1.0, 1.0)
    with pytest.raises(ValueError, match="three corners on a line"):  # a bad candidate is refused, not scored
        gate.scores(np.zeros((60, 60), np.uint8), [[10, 10], [20, 10], [30, 10], [10, 14]])


def test_collected_data_is_reused_only_with_the_recognizer_that_labelled_it(tmp_path, capsys):
    # Its labels are a recognizer's readings: data from another recognizer (or an earlier recipe run) was
    # reused silently.
    from fastplate.train.export import MODELS_DIR

    rng = np.random.default_rng(0)
    n = 64
    x = rng.integers(0, 256, (n, *train_gate.INPUT_SIZE), dtype=np.uint8)
    table = np.concatenate([_table(n, rng), np.zeros((n, 1))], axis=1)
    shipped = train_gate.file_sha256(f"{MODELS_DIR}/recognizer.onnx")
    out = tmp_path / "out"
    for sha, message in ((None, "a recognizer it does not name"), ("0" * 64, "another recognizer")):
        data = tmp_path / f"{sha}.npz"
        np.savez(data, x=x, table=table, **({} if sha is None else {"recognizer_sha256": np.array(sha)}))
        with pytest.raises(SystemExit):
            train_gate.main(["--data", str(data), "--out", str(out), "--epochs", "1"])
        assert message in capsys.readouterr().err
    data = tmp_path / "ok.npz"
    np.savez(data, x=x, table=table, recognizer_sha256=np.array(shipped))
    assert train_gate.main(["--data", str(data), "--out", str(out), "--epochs", "1", "--threads", "1"]) == 0
    assert (out / "gate.onnx").is_file()
