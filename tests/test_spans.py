"""Character places from CTC steps: the ``step_positions`` table, its check, and the boxes it gives."""
import json
from importlib import resources

import cv2
import numpy as np
import pytest

from fastplate import Reader, Recognizer
from fastplate.errors import ModelError
from fastplate.recognizer import ctc_decode

from test_recognizer import ALPHABET, BLANK, probs_for


def test_decode_places_characters_through_the_table():
    probs = probs_for("-" * 12 + "A" + "-" * 7 + "B" + "-" * 11)  # A at step 12.5, B at 20.5 of 32
    plain = ctc_decode(probs, ALPHABET, BLANK)
    np.testing.assert_allclose(plain.char_spans.mean(1), [12.5 / 32, 20.5 / 32], atol=0.02)
    shifted = np.clip(np.arange(65) / 64 - 0.25, 0, 1)  # a model that emits a quarter of the width late
    r = ctc_decode(probs, ALPHABET, BLANK, positions=shifted)
    assert r.text == plain.text
    np.testing.assert_allclose(r.char_spans.mean(1), [12.5 / 32 - 0.25, 20.5 / 32 - 0.25], atol=0.02)
    assert (np.diff(r.char_spans, axis=1) > 0).all()


@pytest.mark.parametrize("table, match", [
    (np.linspace(0, 1, 64), "65 non-decreasing"),
    (np.linspace(1, 0, 65), "non-decreasing"),
    (np.linspace(0, 2, 65), r"\[0, 1\]"),
    (np.r_[np.linspace(0, 1, 64), np.nan], "non-decreasing"),
    (["a"] * 65, "numbers"),
])
def test_bad_tables_are_refused(table, match):
    with pytest.raises(ValueError, match=match):
        ctc_decode(probs_for("-" * 32), ALPHABET, BLANK, positions=table)


def test_a_config_with_a_bad_table_is_a_model_error(tmp_path):
    models = resources.files("fastplate.models")
    (tmp_path / "m.onnx").write_bytes((models / "recognizer.onnx").read_bytes())
    cfg = json.loads((models / "recognizer.json").read_text())
    cfg["step_positions"] = [0.5, 0.2]
    (tmp_path / "m.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="step_positions"):
        Recognizer(str(tmp_path / "m.onnx"))


def test_a_model_without_its_own_config_is_not_given_the_shipped_table():
    data = (resources.files("fastplate.models") / "recognizer.onnx").read_bytes()
    assert Recognizer(data).step_positions is None
    assert Recognizer().step_positions is not None


def drawn_plate(text="AB123CD", pitch=32):
    """A crop with ``text`` drawn at a known pitch, and the characters' centres in pixels."""
    crop = np.full((60, 40 + pitch * len(text)), 235, np.uint8)
    centres = []
    for i, ch in enumerate(text):
        x = 20 + pitch * i
        cv2.putText(crop, ch, (x, 47), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 20, 4, cv2.LINE_AA)
        (w, _), _ = cv2.getTextSize(ch, cv2.FONT_HERSHEY_SIMPLEX, 1.4, 4)
        centres.append(x + w / 2)
    return crop, np.array(centres)


def test_the_shipped_model_spans_cover_their_characters():
    # Without the table every span sat 27-46 px (about 1.4 characters) right of its character.
    crop, centres = drawn_plate()
    r = Recognizer(threads=1).recognize(crop)
    assert r.text == "AB123CD"
    found = r.char_spans.mean(1) * crop.shape[1]
    assert np.abs(found - centres).max() < 32 / 3, found - centres
    lo, hi = r.char_spans[:, 0] * crop.shape[1], r.char_spans[:, 1] * crop.shape[1]
    assert ((lo <= centres) & (centres <= hi)).all()


@pytest.mark.parametrize("text", ["AB12", "AB123CD", "ABC12345"])
def test_spans_of_a_crop_cut_close_to_its_characters(text):
    # The model emits the characters near the right edge crowded into its last steps; they are spread out at
    # the row's pitch (the last one once sat 0.6-0.8 of a pitch left of its character).
    crop, centres = drawn_plate(text, pitch=40)
    tight = crop[:, 16:int(centres[-1]) + 20]
    r = Recognizer(threads=1).recognize(tight)
    assert r.text == text
    found = r.char_spans.mean(1) * tight.shape[1] + 16
    assert np.abs(found - centres).max() < 40 / 3, found - centres


def test_plate_character_boxes_lie_on_the_plate():
    from fastplate.samples import synthetic_scene

    reader = Reader("eu", threads=1)
    checked = 0
    for seed in range(30, 50):
        image, truth = synthetic_scene(seed, style="eu")
        text, quad = truth[0]
        plates = [p for p in reader.read(image) if p.text == text]
        if not plates:
            continue
        checked += 1
        for c in plates[0].chars:
            x, y, w, h = c.box
            assert quad[:, 0].min() - 4 <= x + w / 2 <= quad[:, 0].max() + 4, (seed, c)
    assert checked >= 10


def test_calibration_finds_the_shipped_table():
    pytest.importorskip("PIL")
    from fastplate.train import spans, synth

    try:
        synth.font_files()
    except RuntimeError as exc:  # no plate fonts on this machine (the model card says which to install)
        pytest.skip(str(exc))

    shipped = np.array(Recognizer().step_positions)
    table = np.array(spans.calibrate(str(resources.files("fastplate.models") / "recognizer.onnx"), n=300, seed=5))
    assert table.shape == shipped.shape and (np.diff(table) >= 0).all()
    middle = slice(20, 56)  # steps 10-28, where most characters are emitted
    assert np.abs(table[middle] - shipped[middle]).max() < 0.03


def test_spread_characters_stay_inside_the_crop():
    # Nine characters, the last four crowded into the last steps: spread at the pitch they would pass 1.0.
    path = ["-"] * 32
    for step, ch in ((8, "A"), (12, "B"), (16, "C"), (20, "D"), (24, "E"), (28, "F"), (29, "G"), (30, "H"), (31, "J")):
        path[step] = ch
    r = ctc_decode(probs_for("".join(path)), ALPHABET, BLANK, positions=Recognizer().step_positions)
    assert r.text == "ABCDEFGHJ"
    assert (r.char_spans[:, 1] > r.char_spans[:, 0]).all() and r.char_spans.max() <= 1.0


def test_spans_writes_the_config_the_recognizer_reads(tmp_path):
    pytest.importorskip("PIL")
    from fastplate.train import spans, synth

    try:
        synth.font_files()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    models = resources.files("fastplate.models")
    (tmp_path / "mine.onnx").write_bytes((models / "recognizer.onnx").read_bytes())
    cfg = json.loads((models / "recognizer.json").read_text())
    cfg.pop("step_positions")
    (tmp_path / "mine.json").write_text(json.dumps(cfg))
    (tmp_path / "recognizer.json").write_text(json.dumps(cfg))  # not the one mine.onnx is read with
    spans.main([str(tmp_path / "mine.onnx"), "-n", "200"])
    assert Recognizer(str(tmp_path / "mine.onnx")).step_positions is not None
    assert "step_positions" not in json.loads((tmp_path / "recognizer.json").read_text())
