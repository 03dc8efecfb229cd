"""tools/robustness.py: its changed photos keep their labels on the plates."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from fastplate.samples import synthetic_scene

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("robustness", ROOT / "tools" / "robustness.py")
robustness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(robustness)


def _scene():
    image, truth = synthetic_scene(5)
    (text, quad), = truth
    (x0, y0), (x1, y1) = quad.min(0), quad.max(0)
    return image, [((x0, y0, x1 - x0, y1 - y0), text)], quad


@pytest.mark.parametrize("degrees", [0.0, 15.0, -15.0, 90.0])
def test_a_turned_photo_keeps_its_label_around_the_turned_plate(degrees):
    image, labels, quad = _scene()
    out, (((x, y, w, h), text),) = robustness._rotate(image, labels, degrees)
    h0, w0 = image.shape[:2]
    c, s = abs(np.cos(np.radians(degrees))), abs(np.sin(np.radians(degrees)))
    assert abs(out.shape[1] - (h0 * s + w0 * c)) <= 1 and abs(out.shape[0] - (h0 * c + w0 * s)) <= 1
    # The plate's centre, turned about the photo's centre, is the new label's centre.
    centre = quad.mean(0) - [w0 / 2, h0 / 2]
    a = np.radians(degrees)  # OpenCV turns counter-clockwise on screen (y down)
    turned = [centre[0] * np.cos(a) + centre[1] * np.sin(a), -centre[0] * np.sin(a) + centre[1] * np.cos(a)]
    assert np.allclose([x + w / 2, y + h / 2], np.add(turned, [out.shape[1] / 2, out.shape[0] / 2]), atol=2)
    if degrees == 0:
        assert np.array_equal(out, image) and text == labels[0][1]


def test_shrinking_scales_the_labels_and_never_enlarges():
    image, labels, _ = _scene()
    width = labels[0][0][2]
    small, ((box, text),) = robustness._plate_width(image, labels, width / 2)
    assert abs(small.shape[1] - image.shape[1] / 2) <= 1 and np.isclose(box[2], width / 2)
    same, ((box, _),) = robustness._plate_width(image, labels, width * 3)
    assert same.shape == image.shape and box == labels[0][0]
    big, ((box, _),) = robustness._plate_width(image, labels, width * 3, grow=True)
    assert abs(big.shape[1] - image.shape[1] * 3) <= 1 and np.isclose(box[2], width * 3)


def test_every_change_keeps_the_image_type_and_the_labels():
    image, labels, _ = _scene()
    for name, change in robustness.CHANGES.items():
        out, lb = change(image, labels, 0)
        assert out.dtype == np.uint8 and out.ndim == 3 and len(lb) == 1 and lb[0][1] == labels[0][1], name
