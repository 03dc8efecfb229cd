"""tools/parking_set.py: the US parking-camera stand-in is deterministic, honest about its split, and
written in the layout ``fastplate eval`` reads."""
import importlib.util
import io
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("parking_set", ROOT / "tools" / "parking_set.py")
parking_set = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parking_set)

from conftest import DATA  # noqa: E402

from fastplate.train.split import is_val  # noqa: E402

pytestmark = pytest.mark.skipif(not (DATA / "us-crops").is_dir(), reason="needs shared/data (us-crops, backgrounds)")


@pytest.fixture(autouse=True)
def _data_next_to_the_checkout(monkeypatch):
    """The data the tests found (../shared/data or FASTPLATE_DATA), also where the installed package's
    default path (next to site-packages) has none, as in CI."""
    from fastplate.train import data

    monkeypatch.setattr(data, "DATA_DIR", str(DATA))


def _first(n, **kw):
    return [f for _, f in zip(range(n), parking_set.generate(**kw))]


def test_frames_are_deterministic_and_follow_the_split():
    a, b = _first(3, split="val", seed=3), _first(3, split="val", seed=3)
    for (na, fa, ja, la), (nb, fb, jb, lb) in zip(a, b):
        assert na == nb and la == lb and ja == jb
        np.testing.assert_array_equal(fa, fb)
        assert fa.shape == (720, 1280, 3)
        assert 1 <= len(la) <= 2
        for (x, y, w, h), text in la:
            assert is_val(text)
            assert 55 <= w <= 140 and 0 <= x and x + w <= 1280 and 0 <= y and y + h <= 720
    assert all(not is_val(t) for _, _, _, labels in _first(3, split="train") for _, t in labels)
    assert _first(1, split="val", seed=4)[0][3] != a[0][3]
    assert all(labels == [] for _, _, _, labels in _first(2, split="val", negatives=True))


def test_written_frames_read_back_as_a_benchmark_folder(tmp_path):
    from fastplate.cli import read_benchmark_labels

    frames = _first(2, split="train")
    parking_set.write(tmp_path, frames)
    items = read_benchmark_labels(tmp_path)
    assert [p.name for p, _ in items] == [f"{n}.jpg" for n, _, _, _ in frames]
    assert [[(tuple(int(v) for v in box), t) for box, t in labels] for _, labels in items] == \
        [labels for _, _, _, labels in frames]


def test_a_candidate_model_is_scored_with_model(capsys, monkeypatch):
    import fastplate

    used = []
    real = fastplate.Recognizer

    def spy(model=None, **kw):
        used.append(model)
        return real(model, **kw)

    monkeypatch.setattr(fastplate, "Recognizer", spy)
    shipped = str(ROOT / "fastplate" / "models" / "recognizer.onnx")
    assert parking_set.main(["--split", "train", "--limit", "1", "--model", shipped]) == 0
    assert used == [shipped]
    assert "detection (IoU > 0.4)" in capsys.readouterr().out


def test_gate_both_scores_two_readers_on_the_same_frames(capsys):
    frames = _first(2, split="train")
    assert parking_set.main(["--split", "train", "--limit", "2", "--gate", "both"]) == 0
    out = capsys.readouterr().out
    assert "[gate off] 2 frames" in out and "[gate on] 2 frames" in out

    from fastplate import Reader

    summaries = parking_set.evaluate(frames, {"a": Reader("us", gate=False), "b": Reader("us", gate=False)},
                                     out=io.StringIO())
    # the same reader twice reads the same plates
    assert {k: v for k, v in summaries["a"].items() if "ms" not in k} == \
        {k: v for k, v in summaries["b"].items() if "ms" not in k}


@pytest.mark.parametrize("argv, message", [
    (["--country", "zz"], "--country must be one of"),
    (["--set", "foo"], "--set wants NAME=VALUE"),
    (["--set", "x=abc"], "Python literal"),
    (["--model", "/no/such.onnx"], "--model: no such file"),
    (["--gate", "/no/such.onnx"], "--gate: no such file"),
    (["--passes", "-1"], "--passes"),
    (["--limit", "0"], "--limit"),
])
def test_bad_arguments_are_one_line_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parking_set.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_camera_text_changes_nothing_but_itself():
    plain = _first(4, split="train")
    with_text = _first(4, split="train", osd="train")
    boxes = 0
    for (n0, f0, _, l0), (n1, f1, _, l1, box) in zip(plain, with_text):
        assert n0 == n1 and l0 == l1  # the same plates in the same places
        if box is None:
            continue
        boxes += 1
        x, y, w, h = box
        for (px, py, pw, ph), _ in l1:  # clear of the plates
            assert x + w <= px or px + pw <= x or y + h <= py or py + ph <= y
        diff = np.abs(f0.astype(int) - f1.astype(int)).max(axis=2) > 40
        ys, xs = np.nonzero(diff)
        assert len(ys) > 30
        # JPEG and blur spread the text a little; the frames are the same elsewhere
        assert xs.min() >= x - 8 and xs.max() < x + w + 8 and ys.min() >= y - 8 and ys.max() < y + h + 8
    assert boxes >= 3


@pytest.mark.parametrize("osd", ["bogus", True])
def test_bad_osd_is_refused_before_the_first_frame(osd):
    with pytest.raises(ValueError, match="osd must be None, 'train' or 'val'"):
        parking_set.generate(split="val", osd=osd)


def test_pitched_frames_keep_their_plates_labelled():
    frames = _first(2, split="train")
    seen = list(parking_set.pitched(frames, 30))
    assert [n for n, _, _, _ in seen] == [n for n, _, _, _ in frames]
    for (_, frame, _, labels), (_, out, jpeg, moved) in zip(frames, seen):
        assert out.shape[1] >= 1280 * 0.9 and out.shape[0] < 720  # shorter: seen from above
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == out.shape
        assert [t for _, t in moved] == [t for _, t in labels]
        for ((_, _, w0, h0), _), ((x, y, w, h), _) in zip(labels, moved):
            assert all(isinstance(v, int) for v in (x, y, w, h))
            assert h < h0 and 0 <= x and x + w <= out.shape[1] and 0 <= y and y + h <= out.shape[0]


def test_pitch_out_of_range_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as err:
        parking_set.main(["--split", "train", "--pitch", "90"])
    assert err.value.code == 2 and "--pitch must be from 0 to 80" in capsys.readouterr().err
