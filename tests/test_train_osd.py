"""fastplate.train.osd: camera text burnt into frames, for the candidate gate and the stand-in's count of
what gets through."""
import numpy as np
import pytest

from fastplate.train.osd import HERSHEY, osd_text, overlay


def test_texts_look_like_camera_text():
    rng = np.random.default_rng(0)
    texts = [osd_text(rng) for _ in range(200)]
    assert all(2 <= len(t) <= 60 and t == t.strip() for t in texts)
    assert sum(":" in t for t in texts) > 80  # times
    assert sum(any(c.isalpha() for c in t.split(" ")[0]) for t in texts) > 30  # camera and place names
    assert len(set(texts)) > 190


@pytest.mark.parametrize("split", ["train", "val"])
@pytest.mark.parametrize("channels", [None, 3])
def test_overlay_draws_inside_its_box(split, channels):
    for seed in range(12):
        shape = (720, 1280) if channels is None else (720, 1280, channels)
        frame = np.full(shape, 128, np.uint8)
        before = frame.copy()
        x, y, w, h = overlay(frame, np.random.default_rng(seed), split)
        assert 0 <= x and 0 <= y and x + w <= 1280 and y + h <= 720 and w > 0 and h > 0
        changed = np.argwhere((frame != before).reshape(720, 1280, -1).any(axis=2))
        assert len(changed) > 50  # something was drawn ...
        assert changed[:, 1].min() >= x and changed[:, 1].max() < x + w  # ... inside the box
        assert changed[:, 0].min() >= y and changed[:, 0].max() < y + h
        if channels:  # gray text on a gray frame stays gray
            assert (frame[..., 0] == frame[..., 1]).all() and (frame[..., 1] == frame[..., 2]).all()
        again = np.full(shape, 128, np.uint8)
        assert overlay(again, np.random.default_rng(seed), split) == (x, y, w, h)
        np.testing.assert_array_equal(again, frame)  # deterministic in the generator


def test_the_style_sets_share_no_font():
    assert not set(HERSHEY["train"]) & set(HERSHEY["val"])


def test_bad_arguments_are_clear_errors():
    frame = np.zeros((100, 200), np.uint8)
    with pytest.raises(ValueError, match="split must be one of train, val"):
        overlay(frame, np.random.default_rng(0), "test")
    with pytest.raises(TypeError, match="Generator"):
        overlay(frame, 0)
