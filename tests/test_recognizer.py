"""fastplate.Recognizer: CTC decoding, batching, input forms, bad inputs, CPU fallback, real reads."""
import json
import sys
import threading
from importlib import resources

import cv2
import numpy as np
import pytest

from fastplate.errors import DependencyError, ModelError
from fastplate.recognizer import Recognizer, ctc_decode, ctc_decode_batch

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = 36


def probs_for(path, alphabet=ALPHABET, low=0.001):
    """A (T, C) probability matrix whose best path is ``path`` ('-' = blank), peak probability ~0.9."""
    c = len(alphabet) + 1
    p = np.full((len(path), c), low, np.float32)
    for t, ch in enumerate(path):
        p[t, BLANK if ch == "-" else alphabet.index(ch)] = 1.0 - low * (c - 1)
    return p


# ---------------------------------------------------------------------------------------------- decoding
def test_decode_collapses_repeats_and_blanks():
    r = ctc_decode(probs_for("--AA-A--BB1-"), ALPHABET, BLANK)
    assert r.text == "AAB1"
    assert r.char_confidences.shape == (4,)
    assert r.char_spans.shape == (4, 2)
    assert r.candidates[0] == (r.text, r.confidence)
    np.testing.assert_allclose(r.confidence, np.prod(r.char_confidences), rtol=1e-6)


def test_decode_all_blank_reads_nothing():
    r = ctc_decode(probs_for("-" * 32), ALPHABET, BLANK)
    assert r.text == "" and r.confidence == 0.0
    assert r.char_spans.shape == (0, 2) and r.char_confidences.shape == (0,)
    assert r.candidates == (("", 0.0),)


def test_decode_spans_are_ordered_fractions_of_the_width():
    path = "-A--B--C--1--2--3-" + "-" * 14
    r = ctc_decode(probs_for(path), ALPHABET, BLANK)
    assert r.text == "ABC123"
    spans = r.char_spans
    assert (spans >= 0).all() and (spans <= 1).all()
    assert (spans[:, 1] > spans[:, 0]).all()
    assert (np.diff(spans[:, 0]) > 0).all()
    # 'A' is emitted at step 1 of 32: its span covers that position.
    assert spans[0, 0] <= 1.5 / 32 <= spans[0, 1]


def test_decode_alternatives_use_runner_ups_ranked_by_probability():
    p = probs_for("-K-L-4-8-2-")
    # '8' is unsure: 0.55 vs 'B' 0.40; '2' fairly sure: 0.8 vs 'Z' 0.15.
    p[7] = 0.0005
    p[7, ALPHABET.index("8")], p[7, ALPHABET.index("B")] = 0.55, 0.40
    p[9] = 0.0005
    p[9, ALPHABET.index("2")], p[9, ALPHABET.index("Z")] = 0.80, 0.15
    r = ctc_decode(p, ALPHABET, BLANK, top_n=4)
    texts = [t for t, _ in r.candidates]
    assert texts[0] == "KL482"
    assert texts[1] == "KL4B2"  # the cheapest swap first
    assert "KL48Z" in texts and "KL4BZ" in texts
    confs = [c for _, c in r.candidates]
    assert confs == sorted(confs, reverse=True)
    np.testing.assert_allclose(confs[1] / confs[0], 0.40 / 0.55, rtol=1e-4)


def test_decode_alternative_can_drop_a_doubtful_character():
    p = probs_for("-I-A-B-C-")
    p[1] = 0.001
    p[1, ALPHABET.index("I")], p[1, BLANK] = 0.5, 0.45  # a plate border read as 'I'
    texts = [t for t, _ in ctc_decode(p, ALPHABET, BLANK).candidates]
    assert texts[:2] == ["IABC", "ABC"]


def test_decode_rejects_wrong_class_count():
    with pytest.raises(ValueError, match="probs must have shape"):
        ctc_decode(np.zeros((32, 10), np.float32), ALPHABET, BLANK)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"blank": 5}, ValueError, "blank must be <= 2"),  # once an IndexError from inside
    ({"blank": -1}, ValueError, "blank must be >= 0"),
    ({"blank": 2, "top_n": 0}, ValueError, "top_n must be >= 1"),  # once accepted silently
    ({"blank": 2, "max_swaps": 100}, ValueError, "max_swaps must be <= 10"),  # 2 ** 100 alternatives
    ({"blank": 2.0}, TypeError, "blank must be an int"),
])
def test_decode_rejects_bad_arguments(kwargs, exc, match):
    p = np.full((4, 3), 0.01, np.float32)
    p[[0, 1], 0] = p[2, 2] = p[3, 1] = 0.98
    with pytest.raises(exc, match=match):
        ctc_decode(p, "AB", **kwargs)
    with pytest.raises(TypeError, match="alphabet must be a str"):
        ctc_decode(p, ["A", "B"], 2)


@pytest.mark.parametrize("top_n", [1, 5, 10])
def test_batch_decode_equals_one_by_one(top_n):
    """The batched decoder (one array pass for all candidates) gives each matrix what ctc_decode gives it."""
    rng = np.random.default_rng(top_n)
    probs = rng.random((40, 32, 37)).astype(np.float32) ** 8  # peaked, with runner-ups and ties to blank
    probs /= probs.sum(2, keepdims=True)
    probs[3] = probs_for("-" * 32)  # nothing read
    probs[4] = 1 / 37  # every class tied at every step
    probs[5] = probs_for("AA-BB-CC--1-2-3" + "-" * 17)
    batch = ctc_decode_batch(probs, ALPHABET, BLANK, top_n)
    assert len(batch) == len(probs)
    for p, b in zip(probs, batch):
        one = ctc_decode(p, ALPHABET, BLANK, top_n)
        assert (b.text, b.confidence, b.candidates) == (one.text, one.confidence, one.candidates)
        np.testing.assert_array_equal(b.char_confidences, one.char_confidences)
        np.testing.assert_array_equal(b.char_spans, one.char_spans)
        assert len(b.candidates) <= top_n and b.candidates[0] == (b.text, b.confidence)
    assert batch[3].text == "" and batch[5].text == "ABC123"


def test_batch_decode_of_nothing_and_bad_shapes():
    assert ctc_decode_batch(np.zeros((0, 32, 37), np.float32), ALPHABET, BLANK) == []
    with pytest.raises(ValueError, match="probs must have shape"):
        ctc_decode_batch(np.zeros((2, 32, 10), np.float32), ALPHABET, BLANK)
    with pytest.raises(ValueError, match="probs must have shape"):
        ctc_decode_batch(np.zeros((32, 37), np.float32), ALPHABET, BLANK)


# -------------------------------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def rec():
    try:
        return Recognizer(threads=1, batch_size=4)
    except ModelError as exc:  # pragma: no cover - only before the first model is exported
        pytest.skip(f"shipped model missing: {exc}")


@pytest.fixture(scope="module")
def crops():
    """Plate-like crops of different sizes, gray and BGR."""
    rng = np.random.default_rng(7)
    out = []
    for h, w in [(30, 90), (64, 200), (17, 60), (120, 240), (45, 100), (33, 150)]:
        img = np.full((h, w), 230, np.uint8)
        cv2.putText(img, "".join(rng.choice(list(ALPHABET), 6)), (2, int(h * 0.75)), cv2.FONT_HERSHEY_SIMPLEX,
                    h / 40, 20, max(1, h // 15))
        out.append(img)
    out[1] = cv2.cvtColor(out[1], cv2.COLOR_GRAY2BGR)
    return out


def same(a, b, rtol=1e-4):
    assert a.text == b.text
    np.testing.assert_allclose(a.confidence, b.confidence, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(a.char_confidences, b.char_confidences, rtol=rtol, atol=1e-6)


def test_session_names_and_config(rec):
    assert rec.input_name == rec.session.get_inputs()[0].name
    assert rec.output_name == rec.session.get_outputs()[0].name
    cfg = json.loads((resources.files("fastplate.models") / "recognizer.json").read_text())
    assert rec.alphabet == cfg["alphabet"] == ALPHABET and rec.blank == cfg["blank_index"] == BLANK
    assert rec.input_size == (32, 128)
    assert "CPUExecutionProvider" in rec.providers


def test_batch_equals_one_by_one(rec, crops):
    batched = rec.recognize(crops)  # 6 crops in chunks of 4
    assert len(batched) == len(crops)
    for crop, b in zip(crops, batched):
        same(rec.recognize(crop), b)


def test_tall_and_wide_crops_mixed_are_read_in_order_within_bounded_memory(rec, crops):
    # Packed in the given order, each tall crop opened a shelf as tall as itself for one wide crop: 30 such
    # pairs made an atlas of 93059x3000 px (refused as too large), 40 pairs of 8192x2 / 2x8192 took 2.6 GB.
    tall, wide = np.full((3000, 100), 200, np.uint8), np.full((100, 3000), 200, np.uint8)
    mixed = [tall, wide] * 30 + [crops[2]]
    atlas, quads = rec._atlas(mixed)
    assert atlas.size <= 3 * sum(c.shape[0] * c.shape[1] for c in mixed)
    for c, q in zip(mixed, quads):  # each crop is where its quad says
        x0, y0 = q[0].astype(int)
        np.testing.assert_array_equal(atlas[y0:y0 + c.shape[0], x0:x0 + c.shape[1]], c)
    out = rec.recognize(mixed)
    assert len(out) == len(mixed)
    same(out[-1], rec.recognize(crops[2]))
    same(out[0], rec.recognize(tall))


def test_single_list_and_array_inputs_agree(rec, crops):
    gray = crops[0]
    single = rec.recognize(gray)
    assert not isinstance(single, list)
    same(single, rec.recognize([gray])[0])
    same(single, rec.recognize(gray[:, :, None]))
    same(single, rec.recognize(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)))
    stack = np.stack([gray, gray[::-1].copy(), gray])
    as_array = rec.recognize(stack)
    as_list = rec.recognize(list(stack))
    assert len(as_array) == 3
    for a, b in zip(as_array, as_list):
        same(a, b)
    for a, b in zip(rec.recognize(np.stack([cv2.cvtColor(g, cv2.COLOR_GRAY2BGR) for g in stack])), as_list):
        same(a, b)


def test_many_crops_are_read_in_chunks(rec, crops, monkeypatch):
    # Any number of crops: they are normalized in chunks (4500 crops of 300x200 px once made one image
    # over the pixel limit). Tiny chunks here read the same as one chunk.
    import fastplate.recognizer as recognizer

    many = [crops[i % len(crops)] for i in range(11)]
    stack = np.stack([crops[0]] * 5)
    whole = rec.recognize(many), rec.recognize(stack)
    monkeypatch.setattr(recognizer, "CHUNK_CROPS", 3)
    monkeypatch.setattr(recognizer, "CHUNK_PIXELS", 2 * crops[0].size)
    for before, after in zip(whole, (rec.recognize(many), rec.recognize(stack))):
        assert len(after) == len(before)
        for a, b in zip(before, after):
            # Chunks put crops at other places of the atlas: warp positions are float32, so the inputs differ
            # by up to ~1e-4 and an unsure character's probability by ~2e-4 relative (OpenCV 4's text glyphs).
            same(a, b, rtol=1e-3)


def test_antialias_averages_large_quads_and_leaves_small_ones(crops):
    # Training shrank large plates by averaging; a 320 px wide quad sampled straight at 128 px skips pixels.
    from fastplate import kernels
    from fastplate.recognizer import _supersampling

    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 256, (300, 500), dtype=np.uint8), (0, 0), 1.0)
    quads = np.array([[[10, 10], [329, 10], [329, 169], [10, 169]],    # 320x160: 5x in height, capped at 4
                      [[20, 200], [119, 200], [119, 229], [20, 229]],  # 100x30: as it is
                      [[200, 20], [459, 20], [459, 84], [200, 84]]],   # 260x65: 2x
                     np.float64)
    assert _supersampling(quads, 32, 128).tolist() == [4, 1, 2]
    rec = Recognizer(threads=1, antialias=True)
    out = np.empty((3, 1, 32, 128), np.float32)
    rec._normalize_into(image, quads, out)
    for q, s, got in zip(quads, [4, 1, 2], out):
        big = kernels.normalize_batch(image, q, (32 * s, 128 * s), scale=rec.scale)
        np.testing.assert_allclose(got[0], big[0, 0].reshape(32, s, 128, s).mean(axis=(1, 3)), atol=1e-6)
    plain = Recognizer(threads=1, antialias=False)
    plain_out = np.empty_like(out)
    plain._normalize_into(image, quads, plain_out)
    np.testing.assert_array_equal(plain_out, kernels.normalize_batch(image, quads, (32, 128), scale=rec.scale))
    np.testing.assert_array_equal(plain_out[1], out[1])
    assert not np.array_equal(plain_out[0], out[0])


def test_quads_equal_crops(rec, crops):
    crop = crops[3]
    scene = np.zeros((400, 500), np.uint8)
    scene[100:220, 50:290] = crop
    quad = [[50, 100], [289, 100], [289, 219], [50, 219]]
    same(rec.recognize_quads(scene, quad)[0], rec.recognize(crop))
    two = rec.recognize_quads(scene, np.array([quad, quad], np.float32))
    assert len(two) == 2
    per_image = rec.recognize_quads_batch([(scene, [quad]), (crop, np.zeros((0, 4, 2))), (scene, [quad, quad])])
    assert [len(r) for r in per_image] == [1, 0, 2]
    same(per_image[2][1], two[1])


def test_batch_split_across_threads_reads_the_same(rec, crops):
    """threads=3 runs a batch as three parts at once; the readings match the one-thread session's."""
    rec3 = Recognizer(threads=3, batch_size=4)
    assert rec3.workers == 3
    many = crops * 3  # 18 crops: 5 parts of at most 4 (batch_size) on 3 workers
    one, three = rec.recognize(many), rec3.recognize(many)
    assert [r.text for r in one] == [r.text for r in three]
    np.testing.assert_allclose([r.confidence for r in one], [r.confidence for r in three], rtol=1e-4, atol=1e-6)
    batch = np.random.default_rng(0).random((7, 1, *rec.input_size), dtype=np.float32)
    np.testing.assert_allclose(rec3.predict_probs(batch), rec.predict_probs(batch), rtol=1e-4, atol=1e-6)


def test_thread_safe(rec, crops):
    expected = [r.text for r in rec.recognize(crops)]
    got, errors = [], []

    def work():
        try:
            for _ in range(3):
                got.append([r.text for r in rec.recognize(crops)])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert got == [expected] * 12


# ------------------------------------------------------------------------------------------- bad inputs
def test_empty_inputs_give_empty_results(rec):
    assert rec.recognize([]) == []
    assert rec.recognize(np.zeros((0, 32, 100), np.uint8)) == []
    assert rec.recognize_quads(np.zeros((50, 50), np.uint8), np.zeros((0, 4, 2))) == []


@pytest.mark.parametrize("bad, exc, match", [
    (np.zeros((0, 10), np.uint8), ValueError, "empty"),
    (np.zeros((10, 0, 3), np.uint8), ValueError, "empty"),
    (np.zeros((20, 60), np.float32), TypeError, "uint8"),
    ([np.zeros((20, 60), np.uint8), np.zeros((20, 60), np.int16)], TypeError, r"crops\[1\].*uint8"),
    ([np.zeros((20, 60), np.uint8), np.zeros((20, 0), np.uint8)], ValueError, r"crops\[1\] is empty"),
    ([np.zeros((20, 60, 2), np.uint8)], ValueError, "gray"),
    (np.zeros((1, 1), np.uint8), ValueError, "1x1 px: a crop needs at least 2 px"),
    ([np.zeros((20, 60), np.uint8), np.zeros((1, 60, 3), np.uint8)], ValueError, r"crops\[1\] is 1x60 px"),
    (np.zeros((4, 1, 60), np.uint8), ValueError, r"crops\[0\] is 1x60 px"),
    ("plate.jpg", TypeError, "numpy.ndarray"),
    ([None], TypeError, "numpy.ndarray"),
    (np.zeros((2, 3, 20, 60, 3), np.uint8), ValueError, "shape"),
])
def test_bad_crops(rec, bad, exc, match):
    with pytest.raises(exc, match=match):
        rec.recognize(bad)


def test_huge_crop_is_refused_before_any_work(rec):
    huge = np.broadcast_to(np.zeros((1, 1), np.uint8), (9000, 40))  # no memory behind it
    with pytest.raises(ValueError, match="8192"):
        rec.recognize(huge)


@pytest.mark.parametrize("quads, exc, match", [
    ([[0, 0], [10, 0], [10, np.nan], [0, 10]], ValueError, "finite"),
    ([[0, 0], [10**400, 0], [10, 10], [0, 10]], ValueError, "finite"),  # once an OverflowError
    (np.zeros((2, 3, 2)), ValueError, r"\(N, 4, 2\)"),
    ([[5, 5], [5, 5], [5, 5], [5, 5]], ValueError, "degenerate"),
    ([[0, 0], [20, 0], [40, 0], [40, 10]], ValueError, "degenerate"),  # corners 0, 1, 2 on a line
    ([[0, 0], [1e9, 0], [1e9, 10], [0, 10]], ValueError, "outside"),
    (np.array([[["a", "b"]] * 4]), TypeError, "numeric"),
])
def test_bad_quads(rec, quads, exc, match):
    with pytest.raises(exc, match=match):
        rec.recognize_quads(np.zeros((50, 80), np.uint8), quads)


def test_bad_quad_items(rec):
    with pytest.raises(TypeError, match="list of"):
        rec.recognize_quads_batch(np.zeros((50, 80), np.uint8))
    with pytest.raises(TypeError, match=r"items\[0\] image must have dtype uint8"):
        rec.recognize_quads_batch([(np.zeros((50, 80)), [[0, 0], [9, 0], [9, 9], [0, 9]])])
    # one image's call names its own arguments, not the batch call's items[0]
    with pytest.raises(TypeError, match=r"^image must have dtype uint8"):
        rec.recognize_quads(np.zeros((50, 80)), [[0, 0], [9, 0], [9, 9], [0, 9]])
    with pytest.raises(ValueError, match=r"^quads"):
        rec.recognize_quads(np.zeros((50, 80), np.uint8), [[0, 0], [9, 0], [18, 0], [0, 9]])


@pytest.mark.parametrize("kwargs, match", [
    ({"device": "tpu"}, "device"),
    ({"device": "gpu", "providers": ["CPUExecutionProvider"]}, "device"),
    ({"batch_size": 0}, "batch_size"),
    ({"threads": 0}, "threads"),
    ({"top_n": 0}, "top_n"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Recognizer(**kwargs)


def test_bad_provider_and_session_options_are_named():
    with pytest.raises(TypeError, match="providers must be a list"):
        Recognizer(providers=5)
    with pytest.raises(ValueError, match="at least one provider"):
        Recognizer(providers=[])
    with pytest.raises(TypeError, match="sess_options must be an onnxruntime.SessionOptions"):
        Recognizer(sess_options=5)  # once a ModelError blaming the model
    # A generator is read once (it was consumed by the check, leaving no providers).
    assert Recognizer(providers=(p for p in ["CPUExecutionProvider"])).providers == ["CPUExecutionProvider"]


@pytest.mark.parametrize("name", ["batch_size", "top_n"])
def test_options_are_checked_when_set(rec, name):
    # Plain attributes once: batch_size 0 gave a ZeroDivisionError at the next recognize(), top_n -1 was kept.
    before = getattr(rec, name)
    for bad, error in ((0, ValueError), (-3, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match=name):
            setattr(rec, name, bad)
    assert getattr(rec, name) == before


def test_a_recognizer_is_not_pickled_but_may_be_copied(rec):
    import copy
    import pickle

    for deep in (pickle.dumps, copy.deepcopy):
        with pytest.raises(TypeError, match="Recognizer cannot be pickled"):
            deep(rec)
    twin = copy.copy(rec)
    twin.top_n = 2
    assert twin.session is rec.session and rec.top_n != 2


@pytest.mark.parametrize("make, name", [("gate", "CandidateGate"), ("reader", "CandidateGate"),
                                        ("reader without gate", "Recognizer")])
def test_what_holds_a_session_says_so_when_pickled(make, name):
    # The default Reader's gate used to fail first, with ONNX Runtime's own error naming its session class.
    import copy
    import pickle

    from fake_recognizer import FakeRecognizer

    from fastplate import Reader
    from fastplate.gate import CandidateGate

    obj = {"gate": CandidateGate, "reader": lambda: Reader("eu"), "reader without gate": lambda: Reader(gate=False)}[make]()
    for deep in (pickle.dumps, copy.deepcopy):
        with pytest.raises(TypeError, match=f"a {name} cannot be pickled.*create one in each process"):
            deep(obj)
    twin = copy.copy(obj)  # a shallow copy shares the sessions, as threads may
    assert type(twin) is type(obj) and twin is not obj
    # A Reader without ONNX Runtime parts still pickles.
    plain = pickle.loads(pickle.dumps(Reader("eu", recognizer=FakeRecognizer([]), gate=False)))
    assert plain.country == "eu" and plain.min_gray_range == 160


def test_a_model_in_a_dotted_folder_finds_its_own_config(tmp_path):
    models = resources.files("fastplate.models")
    folder = tmp_path / "v1.2"
    folder.mkdir()
    (folder / "plate.int8.onnx").write_bytes((models / "recognizer.onnx").read_bytes())
    cfg = json.loads((models / "recognizer.json").read_text())
    cfg["step_positions"] = np.linspace(0, 1, 65).round(4).tolist()  # recognisably its own
    (folder / "plate.json").write_text(json.dumps(cfg))
    (tmp_path / "v1.json").write_text("{}")  # what the whole path's first dot once pointed at
    assert Recognizer(str(folder / "plate.int8.onnx")).step_positions[1] == pytest.approx(1 / 64, abs=1e-4)


def test_an_alternative_reached_by_two_swaps_keeps_its_best_score():
    # Best path "AAB": dropping either A gives "AB"; the surer drop must score it.
    p = probs_for("-A-A-B-")
    a = ALPHABET.index("A")
    p[1, a], p[1, BLANK] = 0.50, 0.20  # first A: the least sure, swapped first; dropped, ratio 0.4
    p[3, a], p[3, BLANK] = 0.55, 0.44  # second A: dropped, ratio 0.8
    r = ctc_decode(p, ALPHABET, BLANK, top_n=5)
    scores = dict(r.candidates)
    assert scores["AB"] == pytest.approx(r.confidence * 0.44 / 0.55, rel=1e-5)
    assert len(scores) == len(r.candidates)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        Recognizer(tmp_path / "nope.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        Recognizer(tmp_path / "bad.onnx")


def test_missing_onnxruntime_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(DependencyError, match="pip install onnxruntime"):
        Recognizer()


class _FailingImport:
    """A meta path finder whose ``import onnxruntime`` raises ``error`` (as a broken install would)."""

    def __init__(self, error):
        self.error = error

    def find_spec(self, name, path=None, target=None):
        if name == "onnxruntime":
            raise self.error
        return None


def _interrupted_import():
    error = ImportError("initialization failed")  # what ONNX Runtime's native init makes of a Ctrl-C
    error.__cause__ = KeyboardInterrupt()
    return error


def test_a_missing_onnxruntime_inside_a_ctrl_c_handler_is_still_missing(monkeypatch):
    # The exception being handled where we are called is the ImportError's context, not its cause.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        with pytest.raises(DependencyError, match="pip install onnxruntime"):
            Recognizer()


@pytest.mark.parametrize("error, expected", [
    (ImportError("libonnxruntime.so: cannot open shared object file"), "installed but cannot be imported.*cannot open"),
    (_interrupted_import(), KeyboardInterrupt),
])
def test_a_broken_or_interrupted_onnxruntime_import_is_not_reported_missing(monkeypatch, error, expected):
    # Every ImportError used to read "needs ONNX Runtime: pip install onnxruntime", even a Ctrl-C at start-up.
    monkeypatch.delitem(sys.modules, "onnxruntime", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_FailingImport(error)] + sys.meta_path)
    if expected is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            Recognizer()
    else:
        with pytest.raises(DependencyError, match=expected) as info:
            Recognizer()
        assert "pip install onnxruntime " not in str(info.value)


def test_cuda_request_falls_back_to_cpu_with_a_warning(crops):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("a CUDA provider is available here: no fallback to test")
    with pytest.warns(RuntimeWarning, match="falling back to CPU"):
        rec = Recognizer(device="cuda", threads=1)
    assert rec.providers == ["CPUExecutionProvider"]
    assert isinstance(rec.recognize(crops[0]).text, str)


# ------------------------------------------------------------------------------------------- real reads
def test_reads_the_shipped_sample_image(rec):
    files = resources.files("fastplate.data")
    if not (files / "sample.json").is_file():
        pytest.skip("no sample image shipped")
    meta = json.loads((files / "sample.json").read_text())
    image = cv2.imdecode(np.frombuffer((files / "sample.jpg").read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    results = rec.recognize_quads(image, np.array([m["quad"] for m in meta]))
    assert [r.text for r in results] == [m["plate"] for m in meta]
    assert results[0].confidence > 0.5


def test_reads_rendered_plates(rec):
    synth = pytest.importorskip("fastplate.train.synth")
    try:
        synth.font_files()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    rng = np.random.default_rng(3)
    texts = ["ABC1234", "KL482TM", "7XYZ519", "BRA2E19"]
    styles = ["us", "eu", "us", "mercosur"]
    images = [synth.render_plate(t, rng, s)[0] for t, s in zip(texts, styles)]
    read = [r.text for r in rec.recognize(images)]
    assert sum(r == t for r, t in zip(read, texts)) >= 3, read


_FORK_RECOGNIZER = None


def _read_in_child(batch):
    return [r.text for r in _FORK_RECOGNIZER.recognize(batch)]


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_reads_with_the_parents_recognizer():
    """A Recognizer made (and used, so its thread pool exists) before a fork still works in the child:
    archive jobs often build one reader, then fork workers. Without care the child would wait forever
    for the parent's pool threads."""
    import multiprocessing

    global _FORK_RECOGNIZER
    try:
        _FORK_RECOGNIZER = Recognizer(threads=2)
    except ModelError as exc:  # pragma: no cover
        pytest.skip(f"shipped model missing: {exc}")
    batch = np.full((6, 40, 120), 255, np.uint8)
    expected = _read_in_child(batch)  # the parent's pool now has worker threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_read_in_child, (batch,)).get(timeout=120) == expected


def test_shipped_models_import_only_the_opsets_their_nodes_use():
    # quantize_static declared ai.onnx.ml 5 (and 7 other unused domains) in the int8 model, which ONNX Runtime
    # before 1.18 refuses to load: Recognizer("int8") failed on the onnxruntime>=1.16 that pyproject allows.
    onnx = pytest.importorskip("onnx")
    for name in ("recognizer.onnx", "recognizer.int8.onnx", "gate.onnx"):
        model = onnx.load_from_string((resources.files("fastplate.models") / name).read_bytes())
        used = {n.domain for n in model.graph.node} | {""}
        assert {o.domain for o in model.opset_import} == used == {""}, name
        assert [o.version for o in model.opset_import] == [17], name  # ONNX Runtime 1.16 reads opset 17


def test_drop_unused_opsets(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from fastplate.train.export import drop_unused_opsets

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 5),
                                                    helper.make_opsetid("com.microsoft", 1)])
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    drop_unused_opsets(path)
    kept = onnx.load(path)
    assert [(o.domain, o.version) for o in kept.opset_import] == [("", 17)]
    assert kept.graph == model.graph
