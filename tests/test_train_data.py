"""The training-data code of the recognizer: labels, the split rule, the synthetic plate renderer."""
import numpy as np
import pytest

data = pytest.importorskip("fastplate.train.data")
synth = pytest.importorskip("fastplate.train.synth")


def test_clean_label():
    assert data.clean_label(" abc-12 34 ") == "ABC1234"
    assert data.clean_label("ÄB12") is None
    assert data.clean_label("") is None


def test_split_rule_is_stable_and_ignores_o0_spelling():
    assert data.is_val("ABC1234") == data.is_val("ABC1234")
    assert data.is_val("OX0123") == data.is_val("0X0123") == data.is_val("OXO123")
    texts = [f"{a}{b}{n:04d}" for a in "ABCDEFGH" for b in "KLMNPQRS" for n in range(0, 10000, 997)]
    share = np.mean([data.is_val(t) for t in texts])
    assert 0.14 < share < 0.26  # about 20% held out


@pytest.fixture(scope="module")
def fonts():
    try:
        return synth.font_files()
    except RuntimeError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("style", synth.STYLES)
def test_render_plate_boxes(fonts, style):
    rng = np.random.default_rng(hash(style) % 1000)
    label, layout = synth.random_text(style, rng)
    assert label and all(c in synth.ALPHABET for c in label)
    image, boxes = synth.render_plate(layout, rng, style)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert boxes.shape == (len(label), 4)
    h, w = image.shape[:2]
    assert (boxes[:, 2] > 0).all() and (boxes[:, 3] > 0).all()
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= w + 1).all()
    assert (boxes[:, 1] >= 0).all() and (boxes[:, 1] + boxes[:, 3] <= h + 1).all()
    # Characters are drawn where the boxes are: darker/lighter than the plate around them.
    x, y, bw, bh = boxes[0].astype(int)
    assert image[y:y + bh, x:x + bw].std() > 10


def test_render_plate_rejects_unknown_style(fonts):
    with pytest.raises(ValueError, match="style"):
        synth.render_plate("ABC123", np.random.default_rng(0), "mars")


def test_synth_sample_shape(fonts):
    img, label = synth.synth_sample(np.random.default_rng(0))
    assert img.shape == (32, 128) and img.dtype == np.uint8 and label


def test_evaluate_shrink_maps_the_plate_to_small_width():
    evaluate = pytest.importorskip("fastplate.train.evaluate")
    image = np.zeros((300, 600), np.uint8)
    image[100:180, 100:420] = 255  # the "plate": 320 x 80 px
    sample = data.Sample(image, (100, 100, 320, 80), "ABC123", "us-crops", "x.jpg")
    quad = data.eval_quads(sample, None, False)
    small, q = evaluate.shrink(sample, quad)
    assert small.shape == (60, 120)  # scaled by 64/320
    assert np.ptp(q[:, 0]) <= evaluate.SMALL_WIDTH
    # The shrunk quad still frames the bright plate.
    x0, y0 = np.floor(q.min(0)).astype(int)
    x1, y1 = np.ceil(q.max(0)).astype(int)
    assert small[y0 + 2:y1 - 1, x0 + 2:x1 - 1].min() > 200
    assert small[:, : x0 - 1].max() < 50
    # Plates already small enough are left alone.
    tiny = data.Sample(image, (100, 100, 50, 20), "ABC123", "us-crops", "x.jpg")
    same, q2 = evaluate.shrink(tiny, quad)
    assert same is image and q2 is quad


@pytest.mark.parametrize("small_plates, lowest", [(False, 150), (True, 70)])
def test_degrade_keeps_real_plates_above_their_floor(monkeypatch, small_plates, lowest):
    """A real 300 px plate keeps half its width, or shrinks to parking-camera sizes (>= 0.1 w + 40 px) with
    ``small_plates`` (the fine-tuning recipe)."""
    widths = []
    resize = synth.cv2.resize

    def spy(image, size, *args, **kwargs):
        widths.append(size[0])
        return resize(image, size, *args, **kwargs)

    monkeypatch.setattr(synth.cv2, "resize", spy)
    rng = np.random.default_rng(0)
    crop = np.tile(np.uint8([0, 255]), (64, 128))
    for _ in range(300):
        out = synth.degrade(crop, rng, (32, 128), source_width=300, small_plates=small_plates)
        assert out.shape == (32, 128) and out.dtype == np.uint8
    camera = [w for w in widths if w != 128]  # the final resize to the model input is 128 wide
    assert min(camera) >= lowest
    assert min(camera) < lowest + 15  # and the floor is reached: the range really goes that low
