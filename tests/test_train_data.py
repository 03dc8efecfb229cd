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


def _bars_plate(label, char_w, gap, height, shade, pad=10):
    """A light plate with one dark bar per character, as a Sample with the plate's box."""
    width = pad * 2 + len(label) * char_w + (len(label) - 1) * gap
    image = np.full((height + 2 * pad, width), 210, np.uint8)
    for i in range(len(label)):
        x = pad + i * (char_w + gap)
        image[pad + 2:pad + height - 2, x:x + char_w] = shade
    return data.Sample(image, (pad, pad, width - 2 * pad, height), label, "us-crops", label)


def test_char_cuts_fall_in_the_gaps_and_refuse_wrong_counts():
    a = _bars_plate("ABC123", 8, 6, 30, 40)
    cuts = data.char_cuts([a, data.Sample(a.image, a.box, "ABC1234", "us-crops", "x")])
    assert cuts[1] is None  # 6 characters found, 7 in the label: no cut is trusted
    x = np.asarray(cuts[0]) * a.box[2]  # in box pixels
    assert x.shape == (5,)
    gaps = np.array([(i + 1) * 8 + i * 6 for i in range(5)])  # each gap starts after a bar
    assert ((x > gaps - 1) & (x < gaps + 7)).all()


def test_splice_joins_two_plates_between_characters():
    a = _bars_plate("ABC123", 8, 6, 30, 40)
    b = _bars_plate("XYZ789", 16, 12, 60, 90)  # twice the size, lighter characters
    ca, cb = data.char_cuts([a, b])
    seen = set()
    for seed in range(40):
        s = data.splice(a, ca, b, cb, np.random.default_rng(seed))
        if s is None:
            continue
        k = sum(c in a.label for c in s.label)  # the labels share no character
        assert 1 <= k <= 5 and s.label == a.label[:k] + b.label[len(b.label) - len(s.label) + k:]
        assert 4 <= len(s.label) <= 8 and not data.is_val(s.label)
        x, y, w, h = s.box
        assert h == a.box[3] and 0 <= y and y + h <= s.image.shape[0] and x + w <= s.image.shape[1]
        box = s.image[y + 3:y + h - 3, x:x + w]
        dark = (box < 128).any(axis=0)
        runs = np.flatnonzero(np.diff(np.r_[0, dark.astype(int), 0]) == 1)
        assert len(runs) == len(s.label)  # every character whole, none cut in half
        right = s.image[y + 3:y + h - 3, x + w - 4]
        assert abs(int(right.min()) - 40) < 25  # b's characters took a's darkness
        seen.add(len(s.label))
    assert seen and 6 in seen  # same-length plates are mostly cut at the same place


def test_splice_never_makes_a_validation_text():
    a, b = _bars_plate("ABC123", 8, 6, 30, 40), _bars_plate("XYZ789", 8, 6, 30, 40)
    ca, cb = data.char_cuts([a, b])
    joined = [data.splice(a, ca, b, cb, np.random.default_rng(seed)) for seed in range(200)]
    labels = {s.label for s in joined if s is not None}
    assert labels and not any(data.is_val(t) for t in labels)
    all_joins = {a.label[:k] + b.label[kb:] for k in range(1, 6) for kb in range(1, 6)
                 if 4 <= k + 6 - kb <= 8}
    assert any(data.is_val(t) for t in all_joins)  # the rule had something to refuse


def test_reader_quads_are_the_readers_crops_of_the_plate():
    from fastplate.localize import box_iou, quad_box
    from fastplate.samples import synthetic_scene

    image, truth = synthetic_scene(2, size=(720, 1280))
    gray = np.ascontiguousarray(image[:, :, 1])
    x, y, w, h = (int(round(v)) for v in quad_box(truth[0][1]))
    plate = data.Sample(gray, (x, y, w, h), truth[0][0], "scenes-eu", "scene")
    blank = data.Sample(np.full((200, 300), 128, np.uint8), (100, 80, 90, 30), "AB123", "scenes-eu", "blank")
    found, none = data.reader_quads([plate, blank], "eu")
    assert found.dtype == np.float32 and found.shape[1:] == (4, 2) and len(found) >= 3
    assert len(found) % 3 == 0  # each candidate also at the two refine heights
    assert none.shape == (0, 4, 2)
    assert max(box_iou(quad_box(q), (x, y, w, h)) for q in found) > 0.4
    crop = data.augment_real(plate, np.random.default_rng(0), (32, 128), quads=found)
    assert crop.shape == (32, 128) and crop.dtype == np.uint8
    # without quads (a plate the localizer missed) the crop is the grown box, as before
    a = data.augment_real(blank, np.random.default_rng(3), (32, 128), quads=none)
    b = data.augment_real(blank, np.random.default_rng(3), (32, 128))
    np.testing.assert_array_equal(a, b)


def test_relight_changes_the_light_not_the_plate():
    plate = np.full((64, 256), 200, np.uint8)
    plate[16:48, 40:60] = 30  # one dark character
    lit = [data.relight(plate, np.random.default_rng(k)) for k in range(20)]
    assert all(x.shape == plate.shape and x.dtype == np.uint8 for x in lit)
    assert len({round(float(x.mean())) for x in lit}) > 10  # other light each time
    # the character stays darker than the plate around it in every one
    assert all(x[20:44, 44:56].mean() < x[20:44, 70:110].mean() for x in lit)
    sample = data.Sample(plate, (30, 10, 200, 44), "AB123", "us-crops", "flat")
    a = data.augment_real(sample, np.random.default_rng(5), (32, 128))
    b = data.augment_real(sample, np.random.default_rng(5), (32, 128), lighting=True)
    assert a.shape == b.shape == (32, 128) and not np.array_equal(a, b)


def test_extra_fonts_only_when_asked(fonts):
    # Off (the shipped recipe), the extra group is never drawn and the picks are the recipe's own; on, it is
    # drawn in about one pick in five where its fonts are installed.
    styles = ("us", "eu", "br", "mercosur") * 100

    def picks(seed):
        rng = np.random.default_rng(seed)
        return [synth._pick_font(s, rng) for s in styles]

    extra = set(fonts.get("extra", []))
    off = picks(1)
    assert not extra & set(off)
    synth.use_extra_fonts(True)
    try:
        on = picks(1)
    finally:
        synth.use_extra_fonts(False)
    assert picks(1) == off
    if extra:
        assert 0.1 < sum(p in extra for p in on) / len(on) < 0.3
