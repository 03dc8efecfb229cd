"""The candidate gate: the shipped model loads, scores what looks like text above what does not, and the
localizer applies it before widening; bad inputs get clear errors."""
import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from fastplate import Reader  # noqa: E402
from fastplate.errors import ModelError  # noqa: E402
from fastplate.gate import CandidateGate  # noqa: E402
from fastplate.localize import Localizer, box_iou, quad_box  # noqa: E402
from fastplate.samples import synthetic_scene  # noqa: E402


@pytest.fixture(scope="module")
def gate():
    return CandidateGate()


@pytest.fixture(scope="module")
def scenes():
    return [synthetic_scene(s) for s in range(6)]


def _gray(image):
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def test_shipped_gate_loads(gate):
    assert gate.input_size == (32, 64) and gate.context == (1.25, 2.0)  # the plate around the text shows
    assert 0 < gate.threshold < 1
    assert "gate.onnx" in repr(gate)


def test_scores_shape_and_range(gate, scenes):
    gray = _gray(scenes[0][0])
    quads = np.array([q for _, q in scenes[0][1]] + [[[10, 10], [90, 10], [90, 40], [10, 40]]], np.float64)
    s = gate.scores(gray, quads)
    assert s.shape == (2,) and s.dtype == np.float32 and ((0 <= s) & (s <= 1)).all()
    assert gate.scores(gray, np.zeros((0, 4, 2))).shape == (0,)
    assert gate(gray, quads).dtype == bool


def test_plates_score_above_blank_and_noise(gate, scenes):
    """Every synthetic scene's plate passes; a flat patch and a noise patch score below every plate."""
    rng = np.random.default_rng(0)
    blank = np.full((120, 240), 128, np.uint8)
    noise = rng.integers(0, 256, (120, 240), dtype=np.uint8)
    box = np.array([[20, 20], [219, 20], [219, 79], [20, 79]], np.float64)
    worst = max(gate.scores(blank, box[None])[0], gate.scores(noise, box[None])[0])
    assert worst < gate.threshold
    for image, truth in scenes:
        for _, quad in truth:
            assert gate.scores(_gray(image), quad[None])[0] > max(worst, gate.threshold)


def test_bad_inputs(gate, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        CandidateGate(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        CandidateGate(tmp_path / "junk.onnx")
    with pytest.raises(TypeError, match="model"):
        CandidateGate(3)
    for bad in (1.5, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match="threshold"):
            CandidateGate(threshold=bad)
    with pytest.raises(ValueError, match="threads"):
        CandidateGate(threads=0)
    quad = np.array([[[0, 0], [9, 0], [9, 4], [0, 4]]], np.float64)
    with pytest.raises(TypeError, match="uint8"):
        gate.scores(np.zeros((20, 20), np.float32), quad)
    with pytest.raises(ValueError, match="2-D"):
        gate.scores(np.zeros((20, 20, 3), np.uint8), quad)


def test_localizer_gates_before_widening(scenes):
    image = scenes[2][0]
    free = Localizer()(image)
    rows = [c for c in free if not c.widened]
    assert Localizer(gate=lambda g, q: np.zeros(len(q), bool))(image) == []
    same = Localizer(gate=lambda g, q: np.ones(len(q), bool))(image)
    assert [c.score for c in same] == [c.score for c in free]
    # Keep every other row: the kept rows are widened, and a widened one's source is its row's new index.
    half = Localizer(gate=lambda g, q: np.arange(len(q)) % 2 == 0)(image)
    kept = [c for c in half if not c.widened]
    assert [c.score for c in kept] == [c.score for c in rows[::2]]
    for c in half:
        if c.widened:
            assert np.array_equal(c.char_boxes, kept[c.source].char_boxes)
    with pytest.raises(ValueError, match="decisions"):
        Localizer(gate=lambda g, q: np.ones(len(q) + 1, bool))(image)
    # None, one bool or scores once passed as a mask (None as one False: every plate dropped, no error).
    for bad in (None, True, np.full(len(rows), 0.7)):
        with pytest.raises(TypeError, match="gate must return a boolean mask with one entry per candidate"):
            Localizer(gate=lambda g, q: bad)(image)
    with pytest.raises(TypeError, match="gate"):
        Localizer(gate="yes")


def test_reader_gate_option(scenes):
    assert isinstance(Reader("us").localizer.gate, CandidateGate)
    assert Reader("us", gate=False).localizer.gate is None
    custom = lambda g, q: np.ones(len(q), bool)  # noqa: E731
    assert Reader("us", gate=custom).localizer.gate is custom
    with pytest.raises(TypeError, match="boolean mask"):
        Reader("us", gate=lambda g, q: None).read(scenes[0][0])


def test_gated_reader_finds_the_synthetic_plates(scenes):
    """The shipped gate keeps a candidate on every synthetic scene's plate."""
    loc = Reader(gate=True).localizer
    for image, truth in scenes:
        cands = loc(image)
        for _, quad in truth:
            assert any(box_iou(quad_box(c.quad), quad_box(quad)) > 0.4 for c in cands)


def test_a_model_that_does_not_give_one_score_per_quad_is_refused():
    from importlib import resources

    from fastplate.errors import ModelError
    from fastplate.gate import CandidateGate

    with pytest.raises(ModelError, match="one score per input"):  # once a mask of 2368 for 2 quads
        CandidateGate(str(resources.files("fastplate.models") / "recognizer.onnx"))


def test_context_quads_never_fold_a_quad_onto_a_line(gate):
    from fastplate.gate import context_quads
    from fastplate.localize import scale_quads

    # Twice as tall, this trapezoid's top edge shrinks to a point: grown as its mean parallelogram instead.
    narrow_top = np.array([[45, 0], [55, 0], [65, 10], [35, 10]], float)
    plain = np.array([[0, 0], [10, 0], [10, 4], [0, 4]], float)
    out = context_quads(np.stack([narrow_top, plain]), (1.0, 2.0))
    np.testing.assert_allclose(out[0], [[40, -5], [60, -5], [60, 15], [40, 15]])
    np.testing.assert_allclose(out[1], scale_quads(plain, 1.0, 2.0))  # the others as scale_quads grows them
    np.testing.assert_allclose(context_quads(plain[None], gate.context), scale_quads(plain[None], *gate.context))
    # A candidate that cannot be warped itself is refused, as without context.
    with pytest.raises(ValueError, match="three corners on a line"):
        context_quads([[10, 10], [20, 10], [30, 10], [10, 14]], (1.25, 2.0))
    # The gate scores such a candidate instead of stopping the read.
    image = np.random.default_rng(0).integers(0, 256, (100, 120)).astype(np.uint8)
    for context in ((1.0, 2.0), gate.context):
        own = CandidateGate()
        own.context = context
        assert own.scores(image, np.stack([narrow_top, plain]) + 30).shape == (2,)
