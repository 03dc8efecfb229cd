"""Reader API tests with a fake recognizer that knows the synthetic scenes' ground truth (no model needed)."""
import dataclasses
import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from fake_recognizer import FakeRecognizer, recognition

import fastplate
from fastplate import Char, ImageDecodeError, Plate, Reader
from fastplate.images import image_size_from_header
from fastplate.localize import Localizer, box_iou, quad_box
from fastplate.samples import synthetic_scene

SEEDS = range(6)


@pytest.fixture(scope="module")
def scenes():
    return [synthetic_scene(s) for s in SEEDS]


def _reader(truths, **kw):
    return Reader(recognizer=FakeRecognizer(truths), **kw)


def test_public_names():
    assert fastplate.Reader is Reader
    assert fastplate.Plate is Plate and fastplate.Char is Char
    assert callable(fastplate.draw)
    for name in fastplate.__all__:
        if name != "Recognizer":  # lazy: imports onnxruntime
            assert hasattr(fastplate, name)


def test_localizer_finds_the_plate_in_synthetic_scenes(scenes):
    loc = Localizer()
    for image, truth in scenes:
        cands = loc(image)
        assert 0 < len([c for c in cands if not c.widened]) <= 2 * loc.max_candidates
        best = max(box_iou(c.box, quad_box(truth[0][1])) for c in cands)
        assert best > 0.5


def test_localizer_keeps_clean_rows_beyond_max_candidates():
    # A frame of many character rows: the best max_candidates, then only clean rows, at most twice as many.
    img = np.full((400, 900), 200, np.uint8)
    for k in range(12):
        x, y = 20 + 440 * (k % 2), 40 + 60 * (k // 2)
        cv2.putText(img, "AB%04d" % (1000 + 37 * k), (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    every = [c for c in Localizer(max_candidates=100)(img) if not c.widened]
    assert len(every) >= 12
    for cap in (2, 7):  # 2: four rows, all clean; 7: the twelve clean rows, not the 13th (a worse row)
        rows = [c for c in Localizer(max_candidates=cap)(img) if not c.widened]
        assert [c.score for c in rows] == [c.score for c in every[:len(rows)]]  # best first, none skipped
        assert cap <= len(rows) <= 2 * cap
        assert all(c.score >= 0.8 for c in rows[cap:])
        assert len(rows) == min(2 * cap, sum(1 for i, c in enumerate(every) if i < cap or c.score >= 0.8))
    strict = [c for c in Localizer(max_candidates=3, extra_score=99)(img) if not c.widened]
    assert len(strict) == 3


def test_localizer_split_contrast_separates_touching_characters():
    # Six dark characters (gray 40, 10x24 px, 3 px apart) on a plate of 190, each joined to the next by a
    # 4-px bridge of gray 60, as blur joins small characters: within 16 gray levels of the 7x7 window's
    # mean there, so contrast 8 keeps the bridges (one blob, no row) and contrast 16 drops them.
    img = np.full((100, 300), 190, np.uint8)
    for k in range(6):
        x = 40 + 13 * k
        img[38:62, x:x + 10] = 40
        if k < 5:
            img[48:52, x + 10:x + 13] = 60
    # Full resolution only (min_level_side): at half resolution the bridges average away on their own.
    plain = Localizer(split_contrast=None, min_level_side=96)(img)
    split = Localizer(split_contrast=16, min_level_side=96)(img)
    assert not any(len(c.char_boxes) >= 6 for c in plain)
    assert any(len(c.char_boxes) == 6 for c in split)
    # Off when not stricter than the base contrast: the same candidates as None.
    same = Localizer(contrast=20, split_contrast=16)(img)
    base = Localizer(contrast=20, split_contrast=None)(img)
    assert [c.score for c in same] == [c.score for c in base]


def test_localizer_threads_give_the_same_candidates(scenes):
    loc = Localizer()
    for image, _ in scenes:
        one, two = loc(image), loc(image, threads=2)
        assert len(one) == len(two) > 0
        for a, b in zip(one, two):
            assert np.array_equal(a.quad, b.quad) and np.array_equal(a.char_boxes, b.char_boxes)
            assert (a.score, a.rows, a.widened, a.source) == (b.score, b.rows, b.widened, b.source)


@pytest.mark.parametrize("seed", SEEDS)
def test_read_finds_plate(scenes, seed):
    image, truth = scenes[seed]
    text, quad = truth[0]
    plates = _reader(truth).read(image)
    assert [p.text for p in plates] == [text]
    p = plates[0]
    assert isinstance(p, Plate)
    assert 0 < p.confidence <= 1
    assert box_iou(p.box, quad_box(quad)) > 0.5
    assert len(p.quad) == 4 and all(len(pt) == 2 for pt in p.quad)
    # clockwise from top-left: TL above BL, TR right of TL
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = p.quad
    assert trx > tlx and bly > tly and brx > blx and bry > try_
    assert p.candidates[0][0] == text
    assert [c.text for c in p.chars] == list(text)
    x, y, w, h = p.box
    for c in p.chars:
        cx, cy, cw, ch = c.box
        assert x - 2 <= cx and cx + cw <= x + w + 2 and y - 2 <= cy and cy + ch <= y + h + 2
    # the character boxes run left to right
    assert [c.box[0] for c in p.chars] == sorted(c.box[0] for c in p.chars)


def test_plate_is_frozen(scenes):
    image, truth = scenes[0]
    p = _reader(truth).read(image)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.text = "X"


def _fake(scenes, **kw):
    return FakeRecognizer([t for _, t in scenes], images=[im for im, _ in scenes], **kw)


@pytest.mark.parametrize("threads, calls", [(1, 1), (2, 2), (4, 4), (8, 6)])
def test_read_batch_makes_one_recognizer_call_per_thread(scenes, threads, calls):
    # On the CPU each thread reads a run of consecutive images, with one call for the whole run.
    fake = _fake(scenes, confidence=0.97)  # sure readings: no refinement call
    results = Reader(recognizer=fake, threads=threads).read_batch([im for im, _ in scenes])
    assert fake.calls == calls
    assert [[p.text for p in ps] for ps in results] == [[t[0][0]] for _, t in scenes]


def test_read_batch_on_a_gpu_makes_one_recognizer_call(scenes):
    fake = _fake(scenes, confidence=0.97)
    fake.providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    results = Reader(recognizer=fake, threads=2).read_batch([im for im, _ in scenes])
    assert fake.calls == 1
    assert [[p.text for p in ps] for ps in results] == [[t[0][0]] for _, t in scenes]


def test_read_batch_refines_unsure_readings_in_one_more_call(scenes):
    # 0.93 per character is plausible but unsure: all images' refinement crops go in one second call
    fake = _fake(scenes, confidence=0.93)
    results = Reader(recognizer=fake, threads=1, refine_range=(0.5, 0.95)).read_batch([im for im, _ in scenes])
    assert fake.calls == 2
    assert [[p.text for p in ps] for ps in results] == [[t[0][0]] for _, t in scenes]


def test_default_threads_follow_the_cores_this_process_may_use(monkeypatch):
    # os.cpu_count() counted the machine: under taskset or a container's CPU set, threads only took turns.
    from fastplate import kernels
    from fastplate.recognizer import Recognizer

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    assert kernels.cpu_cores() == 1
    assert Reader(recognizer=FakeRecognizer([]), gate=False).threads == 1
    assert Recognizer().workers == 1
    monkeypatch.delattr(os, "sched_getaffinity")  # other platforms: the machine's count
    assert kernels.cpu_cores() == 64


def test_read_batch_threads_do_not_change_results(scenes):
    images = [im for im, _ in scenes]
    one = Reader(recognizer=_fake(scenes), threads=1).read_batch(images)
    for threads in (2, 3, 16):
        assert Reader(recognizer=_fake(scenes), threads=threads).read_batch(images) == one
    assert [[p.text for p in ps] for ps in one] == [[t[0][0]] for _, t in scenes]


def test_read_batch_empty_and_generator(scenes):
    reader = _reader([])
    assert reader.read_batch([]) == []
    image, truth = scenes[1]
    assert [p.text for p in _reader([truth]).read_batch(im for im in [image])[0]] == [truth[0][0]]


def test_image_kinds_agree(scenes, tmp_path):
    image, truth = scenes[2]
    reader = _reader(truth)
    ok, png = cv2.imencode(".png", image)
    path = tmp_path / "scene.png"
    path.write_bytes(png.tobytes())
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    expected = [p.text for p in reader.read(image)]
    assert expected == [truth[0][0]]
    for kind in (gray, bgra, gray[:, :, None], str(path), path, png.tobytes(), bytearray(png.tobytes())):
        assert [p.text for p in reader.read(kind)] == expected
    assert [p.text for p in reader.read_file(path)] == expected
    # a strided view reads the same
    wide = np.zeros((image.shape[0], image.shape[1] * 2, 3), np.uint8)
    wide[:, ::2] = image
    assert [p.text for p in reader.read(wide[:, ::2])] == expected


def test_low_confidence_is_dropped(scenes):
    image, truth = scenes[0]
    reader = Reader(recognizer=FakeRecognizer(truth, confidence=0.3), min_confidence=0.5)
    assert reader.read(image) == []
    reader = Reader(recognizer=FakeRecognizer(truth, confidence=0.3), min_confidence=0.2)
    assert len(reader.read(image)) == 1


def test_implausible_length_is_dropped(scenes):
    image, truth = scenes[0]
    long_truth = [("ABCDEFGHIJKL", truth[0][1])]
    assert Reader(recognizer=FakeRecognizer(long_truth)).read(image) == []


def test_country_formats_fix_the_reading(scenes):
    image, truth = scenes[0]
    quad = truth[0][1]
    # the recognizer reads 8 for B; Brazil's pattern demands a letter there
    plates = Reader("br", recognizer=FakeRecognizer([("A8C1234", quad)])).read(image)
    assert [p.text for p in plates] == ["ABC1234"]
    assert plates[0].matches_template and plates[0].region == "br"
    plates = Reader(None, recognizer=FakeRecognizer([("A8C1234", quad)], confidence=0.97)).read(image)
    assert [p.text for p in plates] == ["A8C1234"] and not plates[0].matches_template


class _EverythingReader:
    """Reads every candidate as the same confident text: NMS must keep one plate per place."""

    def recognize_quads_batch(self, jobs):
        return [[recognition("ABC1234", 0.9) for _ in quads] for _, quads in jobs]


def test_nms_keeps_one_plate_per_place(scenes):
    image, _ = scenes[3]
    plates = Reader(recognizer=_EverythingReader()).read(image)
    assert len(plates) >= 1
    for i, a in enumerate(plates):
        for b in plates[i + 1:]:
            assert box_iou(a.box, b.box) <= 0.3
    assert len({p.text for p in plates}) == len(plates)  # the same text is reported once


def test_recognizer_without_batch_method(scenes):
    image, truth = scenes[4]

    class Single:
        def __init__(self):
            self.fake = FakeRecognizer(truth)

        def recognize_quads(self, img, quads):
            return self.fake.recognize_quads_batch([(img, quads)])[0]

    assert [p.text for p in Reader(recognizer=Single()).read(image)] == [truth[0][0]]


# ------------------------------------------------------------------------------------------ bad input
def _png_header(width, height):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", bytes(range(256)) * 4, _png_header(64, 64), b"\xff\xd8\xff\xe0" + b"\x00" * 50,
     b"II*\x00", b"MM\x00*\x00\x01"],
    ids=["empty", "text", "noise", "truncated-png", "truncated-jpeg", "truncated-tiff-le", "truncated-tiff-be"],
)
def test_bad_bytes_raise_decode_error(data):
    with pytest.raises(ImageDecodeError):
        _reader([]).read(data)


def test_huge_declared_size_is_refused_before_decoding():
    with pytest.raises(ImageDecodeError, match="too large"):
        _reader([]).read(_png_header(100_000, 100_000) + b"\x00" * 100)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tiff"])
def test_header_sizes_of_every_format(ext):
    ok, buf = cv2.imencode(ext, np.zeros((37, 53, 3), np.uint8))
    assert ok and image_size_from_header(buf.tobytes()) == (53, 37)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp", ".tiff"])
def test_truncated_headers_give_a_size_or_none(ext):
    ok, buf = cv2.imencode(ext, np.zeros((37, 53, 3), np.uint8))
    data = buf.tobytes()
    for n in range(min(len(data), 300)):  # no struct.error or IndexError on any prefix
        assert image_size_from_header(data[:n]) in (None, (53, 37))


def _bmp_header(width, height):
    return b"BM" + struct.pack("<IHHIIiiHH", 0, 0, 0, 54, 40, width, height, 1, 8) + b"\x00" * 24


def _tiff_header(width, height):  # little-endian, one directory with ImageWidth and ImageLength (LONG)
    entries = struct.pack("<HHII", 256, 4, 1, width) + struct.pack("<HHII", 257, 4, 1, height)
    return b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + entries + struct.pack("<I", 0)


@pytest.mark.parametrize("header", [_bmp_header(40_000, -40_000), _tiff_header(100_000, 100_000)], ids=["bmp", "tiff"])
def test_huge_declared_size_of_other_formats_is_refused(header):
    assert image_size_from_header(header)[0] * image_size_from_header(header)[1] > 1 << 28
    with pytest.raises(ImageDecodeError, match="too large"):
        _reader([]).read(header + b"\x00" * 100)


def test_stray_bytes_before_a_jpeg_marker_do_not_hide_its_size():
    ok, buf = cv2.imencode(".jpg", np.zeros((37, 53), np.uint8))
    data = buf.tobytes()
    i = data.find(b"\xff\xc0")
    assert image_size_from_header(data[:i] + b"\x00" + data[i:]) == (53, 37)


def test_decoded_size_is_checked_when_the_header_is_unclear(monkeypatch):
    import fastplate.images as images

    monkeypatch.setattr(images, "image_size_from_header", lambda data: None)
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    ok, buf = cv2.imencode(".png", np.zeros((20, 20), np.uint8))
    with pytest.raises(ImageDecodeError, match="too large: 20x20"):
        images.load_gray(buf.tobytes())


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"min_level_side": 0}, ValueError, "min_level_side"),
    ({"max_side": 0}, ValueError, "max_side"),
    ({"max_side": -10}, ValueError, "max_side"),
    ({"min_char_height": 0}, ValueError, "min_char_height"),
    ({"max_char_height": 4}, ValueError, "max_char_height"),
    ({"contrast": float("nan")}, ValueError, "contrast"),
    ({"block_size": (1, 7)}, ValueError, "block_size"),
    ({"max_angle": 95}, ValueError, "max_angle"),
    ({"max_candidates": 0}, ValueError, "max_candidates"),
    ({"pad_x": -1}, ValueError, "pad_x"),
    ({"max_chars": "9"}, TypeError, "max_chars"),
    ({"block_size": (11,)}, ValueError, "block_size"),
    ({"contrast": -2}, ValueError, "contrast"),
    ({"split_contrast": -2}, ValueError, "split_contrast"),
    ({"widen_by": -5}, ValueError, "widen_by"),
])
def test_bad_localizer_options_name_the_option(kwargs, exc, match):
    # Once a cv2.error, a ZeroDivisionError, a silent empty result, or an error naming an inner argument.
    with pytest.raises(exc, match=match):
        Localizer(**kwargs)


def test_corrupt_file(tmp_path):
    path = tmp_path / "broken.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"garbage" * 100)
    with pytest.raises(ImageDecodeError, match="broken.jpg"):
        _reader([]).read(str(path))
    with pytest.raises(FileNotFoundError):
        _reader([]).read(str(tmp_path / "missing.jpg"))
    with pytest.raises(IsADirectoryError):
        _reader([]).read(tmp_path)


def test_a_fifo_is_not_read(tmp_path):
    # os.path.isfile is False for a FIFO: it was reported as "not found"; opening it could block forever.
    path = tmp_path / "camera.jpg"
    os.mkfifo(path)
    with pytest.raises(ImageDecodeError, match="not a regular file"):
        _reader([]).read(str(path))


@pytest.mark.parametrize("shape", [(0, 0), (0, 10, 3), (10, 0)])
def test_empty_arrays(shape):
    with pytest.raises(ValueError, match="empty"):
        _reader([]).read(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 500), (500, 1, 3), (3, 3)])
def test_tiny_images_have_no_plates(shape):
    assert _reader([]).read(np.full(shape, 128, np.uint8)) == []


def test_huge_array_is_refused_without_copying():
    huge = np.broadcast_to(np.uint8(0), (20000, 20000))  # 400M pixels, no memory behind it
    with pytest.raises(ValueError, match="too large"):
        _reader([]).read(huge)


@pytest.mark.parametrize(
    "image, exc, match",
    [
        (np.zeros((10, 10), np.float32), TypeError, "uint8"),
        (np.zeros((10, 10, 2), np.uint8), ValueError, "channels"),
        (np.zeros((2, 10, 10, 3), np.uint8), ValueError, "shape"),
        (12, TypeError, "image"),
        (None, TypeError, "image"),
        ([[0, 1], [1, 0]], TypeError, "image"),
    ],
)
def test_wrong_types(image, exc, match):
    with pytest.raises(exc, match=match):
        _reader([]).read(image)


def test_read_batch_wants_a_sequence():
    with pytest.raises(TypeError, match="sequence"):
        _reader([]).read_batch("car.jpg")
    with pytest.raises(TypeError, match="sequence"):
        _reader([]).read_batch(np.zeros((10, 10), np.uint8))


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"refine_heights": 5}, TypeError, "refine_heights"), ({"refine_range": 5}, TypeError, "refine_range"),
    ({"refine_heights": "ab"}, TypeError, "refine_heights"), ({"extend_margin": "x"}, TypeError, "extend_margin"),
    ({"extend_margin": float("nan")}, ValueError, "extend_margin"), ({"min_length": True}, TypeError, "min_length"),
    ({"min_length": 5, "max_length": 4}, ValueError, "max_length"), ({"stretch_short": -1}, ValueError, "stretch_short"),
])
def test_bad_reader_options_name_the_option(kwargs, exc, match):
    # Once "'int' object is not iterable", a float() error, or a NaN accepted silently.
    with pytest.raises(exc, match=match):
        Reader(recognizer=FakeRecognizer([]), **kwargs)


def test_top_n_shows_more_or_fewer_candidates_but_reads_the_same():
    # The plate patterns choose among the recognizer's alternatives, so a Reader's own recognizer lists at
    # least 10 whatever top_n is (top_n=1 once lost the patterns' choice), and follows a later top_n.
    from fastplate.samples import sample_path

    one, many = Reader("eu", top_n=1), Reader("eu", top_n=3)
    assert one.recognizer.top_n >= 10
    a, b = one.read(sample_path()), many.read(sample_path())
    assert [p.text for p in a] == [p.text for p in b]
    assert len(a[0].candidates) == 1 and len(b[0].candidates) == 3
    many.top_n = 16
    assert many.recognizer.top_n == 16 and len(many.read(sample_path())[0].candidates) > 10
    with pytest.raises(ValueError, match="top_n"):
        many.top_n = 0
    fake = FakeRecognizer([])
    fake.top_n = 3
    Reader(recognizer=fake, top_n=1).top_n = 20  # a recognizer passed in is the caller's: left as it is
    assert fake.top_n == 3


def test_top_n_lists_the_best_of_the_shown_order():
    # The alternatives are shown surest first per character; top_n cuts that list, so a shorter list is the
    # start of a longer one (the cut once came first, in the recognizer's whole-string order).
    from fastplate.samples import sample_path

    full = Reader(None, top_n=10).read(sample_path())[0].candidates
    assert len(full) == 10
    assert [c for _, c in full[1:]] == sorted((c for _, c in full[1:]), reverse=True)
    for n in (2, 3, 5):
        assert Reader(None, top_n=n).read(sample_path())[0].candidates == full[:n]


def test_numpy_scalars_are_accepted_as_options():
    reader = Reader(recognizer=FakeRecognizer([]), threads=np.int64(2), min_length=np.int32(3), top_n=np.int64(4),
                    min_confidence=np.float32(0.8), stretch_short=np.int64(3))
    assert (reader.threads, reader.min_length, reader.top_n, reader.stretch_short) == (2, 3, 4, 3)


def test_read_iter_reads_any_iterable_in_chunks(scenes):
    images = [im for im, _ in scenes]
    truth = [t for _, ts in scenes for t in ts]
    reader = Reader(recognizer=FakeRecognizer(truth), threads=2)
    whole = reader.read_batch(images)
    chunks = []
    real = reader.read_arrays
    reader.read_arrays = lambda grays: chunks.append(len(grays)) or real(grays)
    assert list(reader.read_iter((im for im in images), chunk_size=2)) == whole  # a generator, 2 at a time
    assert chunks == [2] * (len(images) // 2) + ([len(images) % 2] if len(images) % 2 else [])
    with pytest.raises(ValueError, match="chunk_size"):
        reader.read_iter(images, chunk_size=0)
    with pytest.raises(TypeError, match="images must be a sequence"):
        reader.read_iter("one.jpg")  # checked when called, not when iterated


def test_read_iter_can_yield_errors_and_go_on(scenes, tmp_path):
    images = [im for im, _ in scenes][:3]
    truth = [t for _, ts in scenes for t in ts]
    reader = Reader(recognizer=FakeRecognizer(truth), threads=2)
    whole = reader.read_batch(images)
    bad = [tmp_path / "missing.jpg", b"not an image", np.zeros((4, 4), np.float32)]
    mixed = [bad[0], images[0], bad[1], images[1], images[2], bad[2]]
    out = list(reader.read_iter(iter(mixed), chunk_size=4, errors="yield"))
    assert len(out) == len(mixed)
    assert isinstance(out[0], FileNotFoundError) and isinstance(out[2], ImageDecodeError)
    assert isinstance(out[5], TypeError)
    assert [out[1], out[3], out[4]] == whole
    with pytest.raises(FileNotFoundError):  # the default: the first error ends the iteration
        list(reader.read_iter(mixed))
    with pytest.raises(ValueError, match="errors"):
        reader.read_iter(images, errors="skip")


@pytest.mark.parametrize("one", ["/some/car.jpg", b"bytes", np.zeros((8, 8), np.uint8)], ids=["path", "bytes", "array"])
def test_read_batch_and_read_arrays_want_a_sequence(one):
    reader = Reader(recognizer=FakeRecognizer([]))
    for call, name in ((reader.read_batch, "images"), (reader.read_arrays, "grays")):
        with pytest.raises(TypeError, match=f"{name} must be a sequence of images"):
            call(one)


def test_bad_reader_options():
    fake = FakeRecognizer([])
    with pytest.raises(ValueError, match="country"):
        Reader("xx", recognizer=fake)
    with pytest.raises(TypeError, match="country"):
        Reader(5, recognizer=fake)
    with pytest.raises(ValueError, match="top_n"):
        Reader(recognizer=fake, top_n=0)
    with pytest.raises(ValueError, match="min_confidence"):
        Reader(recognizer=fake, min_confidence=2)
    with pytest.raises(ValueError, match="min_confidence must be finite"):  # once an OverflowError
        Reader(recognizer=fake, min_confidence=10**400)
    with pytest.raises(ValueError, match="threads"):
        Reader(recognizer=fake, threads=0)
    with pytest.raises(ValueError, match="region"):
        Reader("eu", recognizer=fake, region="atlantis")


def test_draw_returns_annotated_copy(scenes):
    image, truth = scenes[0]
    plates = _reader(truth).read(image)
    before = image.copy()
    out = fastplate.draw(image, plates, chars=True)
    assert np.array_equal(image, before)
    assert out.shape == image.shape and not np.array_equal(out, image)
    x, y, w, h = plates[0].box
    # the outline is drawn in the default green
    ring = out[y:y + h + 1, x:x + w + 1]
    assert (np.all(ring == (0, 255, 0), axis=-1)).any()
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert fastplate.draw(gray, plates).shape == image.shape
    with pytest.raises(TypeError):
        fastplate.draw(image.astype(np.float32), plates)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"thickness": -1}, ValueError, "thickness"), ({"thickness": 10**6}, ValueError, "thickness"),
    ({"color": "red"}, TypeError, "color"), ({"color": (1, 2)}, ValueError, "color"),
    ({"color": (0, 0, 300)}, ValueError, "color"),
])
def test_draw_bad_options(kwargs, exc, match):
    # Once a cv2.error or an int() error.
    with pytest.raises(exc, match=match):
        fastplate.draw(np.zeros((40, 60), np.uint8), [], **kwargs)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 5, 1), (0, 5, 3), (5, 0, 4)])
def test_draw_empty_image(shape):
    # Gray ones once reached cv2.cvtColor, which raised a cv2.error.
    with pytest.raises(ValueError, match="must not be empty"):
        fastplate.draw(np.zeros(shape, np.uint8), [])


def test_brazil_requires_a_plate_pattern(scenes):
    image, truth = scenes[0]
    quad = truth[0][1]
    assert Reader("br", recognizer=FakeRecognizer([("HELLOXY", quad)])).read(image) == []
    plates = Reader("eu", recognizer=FakeRecognizer([("HELLOXY", quad)], confidence=0.97)).read(image)
    assert [p.text for p in plates] == ["HELLOXY"] and not plates[0].matches_template


def test_text_that_fits_no_pattern_needs_more_confidence(scenes):
    image, truth = scenes[0]
    quad = truth[0][1]
    # 0.93 per character passes min_confidence (0.85) but not min_confidence_unmatched (0.95)
    assert Reader("eu", recognizer=FakeRecognizer([("CITROEN", quad)], confidence=0.93)).read(image) == []
    kept = Reader("eu", recognizer=FakeRecognizer([("CITROEN", quad)], confidence=0.93),
                  min_confidence_unmatched=0.9).read(image)
    assert [p.text for p in kept] == ["CITROEN"]
    # a reading that fits a pattern only needs min_confidence
    fits = Reader("eu", recognizer=FakeRecognizer([("RK755AJ", quad)], confidence=0.9)).read(image)
    assert [p.text for p in fits] == ["RK755AJ"] and fits[0].matches_template
    with pytest.raises(ValueError, match="min_confidence_unmatched"):
        Reader("eu", recognizer=FakeRecognizer([]), min_confidence_unmatched=1.5)


class _CutOffReader:
    """Reads the plate with its first character cut off in the row's crop, and whole (less sure) in the
    widened crop, as happens when that character touches the plate border. ``squeezed``: the other way
    round, whole in the row's crop and without its first character in the widened one (``row``, ``wide``:
    their per-character confidences)."""

    def __init__(self, truth, squeezed=False, row=0.99, wide=0.93, added=None):
        self.truth, self.squeezed, self.row, self.wide, self.added = truth, squeezed, row, wide, added

    def recognize_quads_batch(self, jobs):
        out = []
        text = self.truth[0][0]
        row_text, wide_text = (text, text[1:]) if self.squeezed else (text[1:], text)
        for _, quads in jobs:
            box = quad_box(self.truth[0][1])
            on = [q for q in quads if box_iou(quad_box(q), box) > 0.3]
            narrowest = min((np.ptp(q[:, 0]) for q in on), default=0)
            row = []
            for q in quads:
                if box_iou(quad_box(q), box) <= 0.3:
                    row.append(recognition("X1", 0.1))
                elif np.ptp(q[:, 0]) > 1.1 * narrowest:
                    rec = recognition(wide_text, self.wide)
                    if self.added is not None:  # the first character's own confidence
                        conf = rec.char_confidences.copy()
                        conf[0] = self.added
                        score = float(np.prod(conf))
                        rec = dataclasses.replace(rec, confidence=score, char_confidences=conf,
                                                  candidates=((wide_text, score),))
                    row.append(rec)
                else:
                    row.append(recognition(row_text, self.row))
            out.append(row)
        return out


def test_widened_candidate_recovers_a_cut_off_character(scenes):
    image, truth = scenes[2]
    assert [p.text for p in Reader(recognizer=_CutOffReader(truth)).read(image)] == [truth[0][0]]
    cut = Reader(recognizer=_CutOffReader(truth), prefer_extended=False).read(image)
    assert [p.text for p in cut] == [truth[0][0][1:]]
    # the added character itself is unsure: the frame or a bolt at the row's end, not a character
    unsure = Reader(recognizer=_CutOffReader(truth, wide=0.99, added=0.8), refine_heights=(), grow_extended=False)
    assert [p.text for p in unsure.read(image)] == [truth[0][0][1:]]


@pytest.mark.parametrize("row, wide, kept", [(0.99, 0.995, "row"), (0.97, 0.995, "widened")])
def test_widened_reading_that_lost_an_end_character_loses_to_its_row(scenes, row, wide, kept):
    """A widened crop squeezes the characters; when it reads the row's text less its first character, the
    row's reading is kept unless the widened one is more than SQUEEZE_MARGIN surer per character."""
    image, truth = scenes[2]
    reader = Reader(recognizer=_CutOffReader(truth, squeezed=True, row=row, wide=wide),
                    refine_heights=(), grow_extended=False)
    text = truth[0][0]
    assert [p.text for p in reader.read(image)] == [text if kept == "row" else text[1:]]


class _TallerCrops(FakeRecognizer):
    """Reads the plate at ``base`` per character in a crop; in one 1.2x as tall, ``taller(text)`` at ``sure``
    per character (default: unsure, 0.7, in a crop and sure, 0.97, of the same text in a taller one)."""

    def __init__(self, truths, base=0.7, sure=0.97, taller=lambda text: text):
        super().__init__(truths)
        self.base, self.sure, self.taller, self.heights = base, sure, taller, []

    def _read(self, quad, truth):
        rec = super()._read(quad, truth)
        if rec.text == "X1":
            return rec
        height = np.ptp(quad[:, 1])
        self.heights.append(height)
        if height > 1.1 * min(self.heights):
            return recognition(self.taller(rec.text), self.sure)
        return recognition(rec.text, self.base)


def test_unsure_reading_is_refined_in_a_taller_crop(scenes):
    image, truth = scenes[0]
    fake = _TallerCrops(truth)
    plates = Reader(recognizer=fake, refine_heights=(0.8, 1.2)).read(image)
    assert [p.text for p in plates] == [truth[0][0]] and plates[0].confidence == pytest.approx(0.97)
    assert fake.calls == 2
    # the plate's quad is the crop that was read: 1.2x as tall as a candidate's
    assert np.ptp(np.array(plates[0].quad)[:, 1]) > 1.1 * min(fake.heights)
    fake = _TallerCrops(truth)
    assert Reader(recognizer=fake, refine_heights=(), second_look=False).read(image) == []  # 0.7 < min_confidence
    assert fake.calls == 1


@pytest.mark.parametrize("text, refined", [("ABC1234", True), ("SALVADOR", False)])
def test_brazil_refines_only_readings_that_may_fit_a_pattern(scenes, text, refined):
    # Every Brazilian plate fits a pattern: an unsure reading none of whose alternatives fits one (a plate's
    # city line) is not read again at other heights; one that fits is, and gets sure there.
    image, truth = scenes[0]
    truth = [(text, truth[0][1])]
    fake = _TallerCrops(truth)
    plates = Reader("br", recognizer=fake, refine_heights=(0.8, 1.2), stretch_short=0, second_look=False).read(image)
    assert fake.calls == (2 if refined else 1)
    assert [p.text for p in plates] == ([text] if refined else [])
    fake = _TallerCrops(truth)  # other countries report text that fits no pattern: refined all the same
    Reader("eu", recognizer=fake, refine_heights=(0.8, 1.2), stretch_short=0, second_look=False).read(image)
    assert fake.calls == 2


@pytest.mark.parametrize("taller, sure, kept", [
    (lambda t: t[1:], 0.905, "full"),  # lost its first character, hardly surer: the full reading stays
    (lambda t: t[:2] + t[3:], 0.905, "full"),  # lost a middle character (a doubled letter's twin), the same
    (lambda t: t[1:], 0.93, "taller"),  # much surer without it: the shorter reading wins
    (lambda t: "Q" + t[1:], 0.905, "taller"),  # another character, as long: surer wins, no margin
])
def test_refined_reading_that_dropped_a_character_needs_a_margin(scenes, taller, sure, kept):
    image, truth = scenes[0]
    fake = _TallerCrops(truth, base=0.9, sure=sure, taller=taller)
    plates = Reader(recognizer=fake, refine_heights=(1.2,)).read(image)
    full = truth[0][0]
    assert [p.text for p in plates] == [full if kept == "full" else taller(full)]


def test_scale_height_keeps_the_middle_line():
    from fastplate.reader import _scale_height

    quad = np.array([[0, 0], [10, 1], [10, 5], [0, 4]], np.float64)
    np.testing.assert_allclose(_scale_height(quad, 1.5), [[0, -1], [10, 0], [10, 6], [0, 5]])
    np.testing.assert_allclose(_scale_height(quad, 1.0), quad)
    with pytest.raises(ValueError, match="refine_heights"):
        Reader(recognizer=FakeRecognizer([]), refine_heights=(0.0,))
    with pytest.raises(ValueError, match="refine_range"):
        Reader(recognizer=FakeRecognizer([]), refine_range=(0.9, 0.5))


def test_unmatched_confidence_comes_from_the_country_setting():
    from fastplate.formats import load_formats

    settings = load_formats()["settings"]
    us = Reader("us", recognizer=FakeRecognizer([]))
    assert us.min_confidence_unmatched == settings["us"]["min_confidence_unmatched"] < 0.95
    assert Reader("eu", recognizer=FakeRecognizer([])).min_confidence_unmatched == 0.95
    assert Reader(None, recognizer=FakeRecognizer([])).min_confidence_unmatched == 0.95
    assert Reader("us", recognizer=FakeRecognizer([]), min_confidence_unmatched=0.97).min_confidence_unmatched == 0.97


class _CentresRecognizer:
    """Reads the characters of "ABC1234" (20 px apart, centres at x = 110..230) whose centre x lies inside a
    quad's box: a crop that cuts the plate reads only part of it."""

    def recognize_quads_batch(self, jobs):
        out = []
        for _, quads in jobs:
            reads = []
            for q in quads:
                x0, _, w, _ = quad_box(q)
                text = "".join(ch for i, ch in enumerate("ABC1234") if x0 <= 110 + 20 * i <= x0 + w)
                reads.append(recognition(text, 0.97))
            out.append(reads)
        return out


@pytest.mark.parametrize("grow", [True, False])
def test_widened_reading_that_grew_is_grown_once_more(grow):
    from fastplate.localize import Candidate

    loc = Localizer(widen_by=1.0)
    boxes = np.array([[140 + 20 * i, 90, 14, 20] for i in range(4)], np.float64)  # the row saw "C123"
    row = Candidate(np.array([[135.0, 85], [215, 85], [215, 115], [135, 115]]), boxes, 1.0)
    cands = [row, loc.widen(row, 0)]
    reader = Reader("us", recognizer=_CentresRecognizer(), localizer=loc, grow_extended=grow, refine_heights=())
    gray = np.zeros((200, 400), np.uint8)
    reads = reader._recognize([gray], [[c.quad for c in cands]])
    assert [r.text for r in reads[0]] == ["C123", "BC1234"]
    cands, reads = [cands], [reads[0]]
    reader._refine([gray], cands, reads)
    if grow:
        assert reads[0][1].text == "ABC1234"  # read again in a crop grown by one more character height
        assert quad_box(cands[0][1].quad)[2] > quad_box(loc.widen(row, 0).quad)[2]
    else:
        assert reads[0][1].text == "BC1234"
    assert reads[0][0].text == "C123"  # the row's own reading is left alone


class _OneRow:
    """A localizer that finds one short row: the left group of a plate whose groups stand apart."""

    def __call__(self, gray):
        from fastplate.localize import Candidate

        quad = np.array([[100.0, 80.0], [160.0, 80.0], [160.0, 120.0], [100.0, 120.0]])
        return [Candidate(quad, np.array([[105.0, 88, 14, 24], [123, 88, 14, 24], [141, 88, 14, 24]]), 1.0)]


class _ReadsByWidth:
    """Reads the whole plate in crops at least 130 px wide, only its first group in narrower ones."""

    def __init__(self):
        self.widths = []

    def recognize_quads_batch(self, jobs):
        out = []
        for _, quads in jobs:
            widths = [float(q[1][0] - q[0][0]) for q in quads]
            self.widths.append(widths)
            out.append([recognition("ABC1234" if w >= 130 else "ABC", 0.97) for w in widths])
        return out


def test_short_rows_are_read_again_stretched_to_a_plate():
    image = np.zeros((200, 400), np.uint8)
    rec = _ReadsByWidth()
    plates = Reader("br", recognizer=rec, localizer=_OneRow(), threads=1).read(image)
    assert [p.text for p in plates] == ["ABC1234"]
    # Stretched along the row to Brazil's plate aspect (3.08, 15% loose) times the 40 px height: both ends.
    assert rec.widths[0] == [60.0]
    assert rec.widths[1] == pytest.approx([1.15 * 3.08 * 40] * 2)
    assert plates[0].box[2] == pytest.approx(1.15 * 3.08 * 40, abs=1)
    # Off, the row's own reading does not fit a Brazilian pattern: nothing is reported.
    assert Reader("br", recognizer=_ReadsByWidth(), localizer=_OneRow(), threads=1, stretch_short=0).read(image) == []
    with pytest.raises(ValueError, match="stretch_short"):
        Reader("br", recognizer=rec, stretch_short=-1)
    # Default: 5 characters; in Brazil, where every plate has 7, anything shorter.
    assert Reader("us", recognizer=rec).stretch_short == Reader(None, recognizer=rec).stretch_short == 5
    assert Reader("br", recognizer=rec).stretch_short == 6


def test_candidates_list_the_reading_then_alternatives_surest_first(scenes):
    """Alternatives come from the recognizer by whole-string probability (which favours short strings);
    a Plate lists them by per-character confidence, as OpenALPR does, after the reading itself."""
    image, truth = scenes[0]
    text, quad = truth[0]

    class Alternatives(FakeRecognizer):
        def _read(self, q, t):
            rec = super()._read(q, t)
            if rec.text != text:
                return rec
            # whole-string order: text[:-1] (0.6 ** (n-1)) before text + text[-1] (0.68 ** (n+1))
            return recognition(text, 0.99, alternatives=((text[:-1], 0.6), (text + text[-1], 0.68)))

    plate, = Reader(recognizer=Alternatives(truth), refine_heights=(), stretch_short=0).read(image)
    assert plate.text == text and plate.candidates[0] == (text, plate.confidence)
    assert [t for t, _ in plate.candidates[1:]] == [text + text[-1], text[:-1]]
    confs = [c for _, c in plate.candidates[1:]]
    assert confs == sorted(confs, reverse=True)


def test_localizer_keeps_small_plates_of_4k_frames():
    # A 1280x720 scene with a small plate (characters ~12 px high), placed in a 3840x2160 frame: at the
    # default max_side the frame is searched whole and the plate found; halving it (1920) halves the
    # characters below min_char_height, and the plate is lost.
    image, truth = synthetic_scene(3, size=(720, 1280))
    quad = truth[0][1]
    height = np.ptp(quad[:, 1])
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    scale = 24.0 / height  # plate ~24 px high: characters ~12-16 px
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((2160, 3840), 90, np.uint8)
    frame[1000:1000 + small.shape[0], 2000:2000 + small.shape[1]] = small
    where = quad * scale + [2000, 1000]

    def found(loc):
        return max((box_iou(c.box, quad_box(where)) for c in loc(frame)), default=0.0) > 0.5

    assert found(Localizer())
    assert not found(Localizer(max_side=1920))


def test_pyramid_levels_are_means_of_2x2_pixels():
    # Each level halves the one above: every pixel the mean of 2x2 (an odd last row or column left out), so a
    # level pixel i sits at image pixel (i + 0.5) * factor - 0.5 with the factor doubling per level.
    gray = np.random.default_rng(5).integers(0, 256, (322, 451), dtype=np.uint8)
    levels = Localizer(min_level_side=32).pyramid(gray)
    assert [f for _, f in levels] == [1.0, 2.0, 4.0, 8.0]
    assert [lv.shape for lv, _ in levels] == [(322, 451), (161, 225), (80, 112), (40, 56)]
    for (upper, _), (lower, _) in zip(levels, levels[1:]):
        h, w = lower.shape
        means = upper[:2 * h, :2 * w].reshape(h, 2, w, 2).astype(np.float64).mean(axis=(1, 3))
        assert np.abs(lower - means).max() <= 0.5 + 1e-9  # rounded


def test_localizer_finds_a_plate_that_fills_a_small_image():
    # A close-up: the plate of a synthetic scene cut out and scaled so it fills a 320x160 image (characters
    # about half its height). Only pyramid levels down to ~40 px bring such characters into range.
    image, truth = synthetic_scene(4)
    x, y, w, h = (int(round(v)) for v in quad_box(truth[0][1]))
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray = gray[max(0, y - h // 4):y + h + h // 4, max(0, x - w // 10):x + w + w // 10]
    close = cv2.resize(gray, (320, 160), interpolation=cv2.INTER_CUBIC)

    def found(loc):
        return any(box_iou(c.box, (0, 0, 320, 160)) > 0.4 for c in loc(close))

    assert found(Localizer())
    assert not found(Localizer(min_level_side=96))


def test_boxes_of_a_plate_at_the_frames_edge_stay_in_the_image():
    # A plate cut by the frame's edge has a quad reaching past it; its box (and its characters' boxes) are
    # cut to the image, so that image[y:y + h, x:x + w] never wraps around with a negative x.
    from fastplate.localize import Candidate

    reader = Reader("br", recognizer=FakeRecognizer([]))
    quad = np.array([[-12.0, 100.0], [118.0, 100.0], [118.0, 140.0], [-12.0, 140.0]])
    text = "ABC1234"
    rec = recognition(text, 0.99)
    for chars in (np.zeros((0, 4)), np.array([[-10.0 + 18 * i, 105, 15, 30] for i in range(7)])):
        cand = Candidate(quad, chars, 1.0)
        ranked = [(t, c, reader.formats.apply(t)) for t, c in rec.candidates]
        p = reader._plate(cand, rec, ranked, (130, 110))  # an image 110 px wide, 130 high
        assert min(x for x, _ in p.quad) < 0  # the quad itself is not cut
        assert p.box == (0, 100, 110, 30)
        for x, y, bw, bh in [c.box for c in p.chars]:
            assert 0 <= x and 0 <= y and x + bw <= 110 and y + bh <= 130 and bw >= 0 and bh >= 0


def test_textured_frames_keep_only_the_best_rows(monkeypatch):
    # Pairing rows and merging candidates cost the square of their number: a blurred-noise 4K frame once took
    # 7 s and 6.5 GB. Above the caps only the best scored rows are kept, in the table's order.
    from fastplate import localize
    from fastplate.localize import Localizer, row_score

    rng = np.random.default_rng(0)
    level = cv2.GaussianBlur(rng.integers(0, 256, (300, 400), dtype=np.uint8), (0, 0), 0.7)
    loc = Localizer()
    boxes, counts, lines, feats, ext, quads = loc._polarity_rows(level, False, loc.contrast)
    assert len(counts) > 20 and len(boxes) == counts.sum()
    monkeypatch.setattr(localize, "MAX_ROWS", 20)
    b2, c2, l2, f2, e2, q2 = loc._polarity_rows(level, False, loc.contrast)
    assert len(c2) == 20 and len(b2) == c2.sum() and len(l2) == len(f2) == len(e2) == len(q2) == 20
    best = np.sort(np.argsort(-row_score(feats), kind="stable")[:20])
    np.testing.assert_array_equal(f2, feats[best])
    np.testing.assert_array_equal(q2, quads[best])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    np.testing.assert_array_equal(b2, np.concatenate([boxes[starts[r]:starts[r] + counts[r]] for r in best]))
    monkeypatch.setattr(localize, "MAX_MERGED", 15)
    cands = loc(level)
    assert 0 < len(cands) <= 2 * loc.max_candidates + 2 * loc.widen_top


def test_candidates_compare_by_identity():
    from fastplate.localize import Candidate

    a = Candidate(np.zeros((4, 2)), np.zeros((0, 4)), 1.0, 1)
    b = Candidate(np.zeros((4, 2)), np.zeros((0, 4)), 1.0, 1)
    assert a == a and a != b and len({a, b}) == 2  # == once raised (arrays), hash() a TypeError


def test_synthetic_scene_and_write_sample_check_their_arguments(tmp_path):
    from fastplate.samples import synthetic_scene, write_sample

    for size in [(1, 1), (0, 10), 640, (120, 640), (300, 2000)]:  # the last two put the car below the frame
        with pytest.raises(ValueError, match="size"):
            synthetic_scene(1, size=size)
    assert synthetic_scene(1, size=(120, 120))[0].shape == (120, 120, 3)
    (tmp_path / "sample.jpg").mkdir()  # cv2.imwrite cannot write over a folder
    with pytest.raises(OSError, match="could not write"):
        write_sample(tmp_path)
    assert not (tmp_path / "sample.json").exists()


def test_draw_skips_empty_character_boxes():
    # A character cut off at the frame's edge has a box of width 0; it was drawn on the last column.
    image = np.zeros((40, 100), np.uint8)
    plate = Plate(text="AB", confidence=0.9, quad=((60.0, 10.0), (99.0, 10.0), (99.0, 30.0), (60.0, 30.0)),
                  box=(60, 10, 40, 20), chars=(Char("A", 0.9, (70, 12, 10, 16)), Char("B", 0.9, (100, 12, 0, 16))),
                  candidates=(("AB", 0.9),), region="", matches_template=False)
    out = fastplate.draw(image, [plate], chars=True, text=False)
    ref = fastplate.draw(image, [dataclasses.replace(plate, chars=plate.chars[:1])], chars=True, text=False)
    np.testing.assert_array_equal(out, ref)


def test_stretch_levels():
    from fastplate.images import stretch_levels

    rng = np.random.default_rng(0)
    dim = rng.integers(30, 80, (40, 50)).astype(np.uint8)  # about 50 levels: a gain of about 5
    out = stretch_levels(dim)
    sample = dim[::4, ::4]
    lo, hi = int(sample.min()), int(sample.max())
    assert out[::4, ::4].min() == 0 and out[::4, ::4].max() == 255
    # Monotonic: the order of the levels is kept, only the spacing grows.
    assert (np.diff(out.ravel()[np.argsort(dim, axis=None)].astype(int)) >= 0).all()
    assert np.allclose(out.astype(float), np.clip((dim.astype(float) - lo) * 255 / (hi - lo), 0, 255), atol=0.5)
    wide = dim.copy()
    wide[0, 0], wide[4, 4] = 0, 255
    assert stretch_levels(wide) is wide  # spans the range: the same array, no copy
    assert stretch_levels(dim, 0) is dim
    flat = np.full((9, 9), 100, np.uint8)  # no levels to stretch: the gain is capped, nothing breaks
    assert (stretch_levels(flat) == 0).all()
    assert stretch_levels(np.full((8, 8), 10, np.uint8), 160, max_gain=2.0).max() == 0
    for bad, error in (((dim, -1), ValueError), ((dim, 300), ValueError), ((dim, 1.5), TypeError),
                       ((dim.astype(np.float32),), TypeError), ((dim[:, :, None],), ValueError)):
        with pytest.raises(error):
            stretch_levels(*bad)
    with pytest.raises(ValueError, match="max_gain"):
        stretch_levels(dim, 160, max_gain=0.5)


def test_a_blurred_frame_gets_a_second_look():
    # The sample scene under a 4.5 px blur: its characters run together until the frame is sharpened.
    import cv2

    from fastplate.samples import sample_path, sample_truth

    gray = fastplate.images.load_gray(str(sample_path()))
    blurred = cv2.GaussianBlur(gray, (0, 0), 4.5)
    text, = [p["plate"] for p in sample_truth()]
    assert Reader("eu", second_look=False).read(blurred) == []
    looked = Reader("eu", second_look=True)
    assert [p.text for p in looked.read(blurred)] == [text]
    # In a batch, only the frames with nothing found are looked at again; the others read as alone.
    blank = np.full((200, 300), 128, np.uint8)
    batch = looked.read_batch([gray, blurred, blank, blurred])
    assert [[p.text for p in ps] for ps in batch] == [[text], [text], [], [text]]
    assert batch[0] == looked.read(gray) and batch[1] == looked.read(blurred)


def test_the_second_look_localizes_only_frames_without_plates():
    from fastplate.samples import sample_path

    gray = fastplate.images.load_gray(str(sample_path()))
    blank = np.full((200, 300), 128, np.uint8)
    for second_look, want in ((True, [1, 2]), (False, [1, 1])):
        reader = Reader("eu", second_look=second_look)
        seen = []
        localize = reader.localizer
        reader.localizer = lambda image, threads=1: (seen.append(image.shape), localize(image))[1]
        counts = []
        for image in (gray, blank):
            seen.clear()
            reader.read(image)
            counts.append(len(seen))
        assert counts == want
    assert Reader("eu").second_look is True


def test_ignored_areas_report_no_plate(scenes):
    image, truth = scenes[0]
    fake = FakeRecognizer(truth)
    plates = Reader(recognizer=fake).read(image)
    assert [p.text for p in plates] == [t for t, _ in truth][:len(plates)] and plates
    (x0, y0), (x1, y1) = np.min(truth[0][1], axis=0), np.max(truth[0][1], axis=0)
    around = (x0 - 5, y0 - 5, x1 - x0 + 10, y1 - y0 + 10)
    hidden = Reader(recognizer=FakeRecognizer(truth), ignore=[around], second_look=False).read(image)
    assert truth[0][0] not in [p.text for p in hidden]
    elsewhere = Reader(recognizer=FakeRecognizer(truth), ignore=[(0, 0, 5, 5), np.array([1, 1, 2, 2])]).read(image)
    assert [p.text for p in elsewhere] == [p.text for p in plates]
    # The centre decides: a box over the plate's left half only leaves it reported.
    half = (x0 - 5, y0 - 5, (x1 - x0) * 0.4, y1 - y0 + 10)
    assert truth[0][0] in [p.text for p in Reader(recognizer=FakeRecognizer(truth), ignore=[half]).read(image)]
    # Settable later, checked the same way; None: nothing ignored.
    later = Reader(recognizer=FakeRecognizer(truth), second_look=False)
    later.ignore = [around]
    assert truth[0][0] not in [p.text for p in later.read(image)]
    later.ignore = None
    assert later.ignore.shape == (0, 4) and truth[0][0] in [p.text for p in later.read(image)]
    with pytest.raises(ValueError, match="4 numbers"):
        later.ignore = [(1, 2)]
    with pytest.raises(TypeError, match=r"one box is \[\(x, y, w, h\)\]"):
        Reader(recognizer=fake, ignore=(10, 20, 30, 40))
    for bad, error, match in (("0,0,5,5", TypeError, "sequence of"), (7, TypeError, "sequence of"),
                              ([(0, 0, 5)], ValueError, "4 numbers"), ([(0, 0, 5, 0)], ValueError, "positive"),
                              ([(0, 0, 5, float("inf"))], ValueError, "finite"), ([("a", 0, 5, 5)], TypeError, "real number")):
        with pytest.raises(error, match=match):
            Reader(recognizer=fake, ignore=bad)


def test_sharpen():
    import cv2

    from fastplate.images import sharpen

    rng = np.random.default_rng(1)
    gray = cv2.GaussianBlur(rng.integers(0, 256, (30, 41)).astype(np.uint8), (0, 0), 2)
    out = sharpen(gray, 1.5, 2.0)
    blurred = cv2.GaussianBlur(gray.astype(np.float64), (0, 0), 1.5, borderType=cv2.BORDER_REFLECT_101)
    want = np.clip(gray + 2.0 * (gray - blurred), 0, 255)
    assert out.dtype == np.uint8 and out.shape == gray.shape
    assert np.abs(out - want).max() <= 1.5  # the blur is rounded to uint8 (x amount), then the result
    assert out.std() > gray.std()  # contrast grows
    copy = sharpen(gray, 1.5, 0.0)
    np.testing.assert_array_equal(copy, gray)
    assert copy is not gray
    assert (sharpen(np.full((5, 5), 77, np.uint8)) == 77).all()  # nothing to sharpen in a flat image
    assert sharpen(np.zeros((1, 1), np.uint8)).shape == (1, 1)
    for bad, error in (((gray, 0.0), ValueError), ((gray, -1.0), ValueError), ((gray, 1.5, -1.0), ValueError),
                       ((gray, 1.5, float("nan")), ValueError), ((gray, "1"), TypeError),
                       ((gray.astype(np.float32),), TypeError), ((np.zeros((4, 4, 3), np.uint8),), ValueError),
                       ((np.zeros((0, 4), np.uint8),), ValueError)):
        with pytest.raises(error):
            sharpen(*bad)


def test_a_dark_frame_is_stretched_before_it_is_read():
    # The sample scene at 1/20 of its brightness: its plate's characters differ from the plate by fewer gray
    # levels than the localizer's thresholds ask for, until the frame's levels are stretched.
    from fastplate.samples import sample_path, sample_truth

    gray = fastplate.images.load_gray(str(sample_path()))
    dark = np.round(gray * 0.05).astype(np.uint8)
    text, = [p["plate"] for p in sample_truth()]
    assert [p.text for p in Reader("eu").read(dark)] == [text]
    assert Reader("eu", min_gray_range=0, second_look=False).read(dark) == []
    assert [p.text for p in Reader("eu").read(gray)] == [text]
    with pytest.raises(ValueError, match="min_gray_range"):
        Reader("eu", min_gray_range=-1)


def test_localizer_options_as_a_dict_keep_the_default_localizers_gate_and_padding():
    from fastplate.gate import CandidateGate
    from fastplate.localize import Localizer

    default = Reader("us", recognizer=FakeRecognizer({}), threads=1).localizer
    changed = Reader("us", recognizer=FakeRecognizer({}), threads=1, localizer={"max_side": 1920}).localizer
    assert isinstance(changed, Localizer) and changed.max_side == 1920 and default.max_side == 4096
    assert isinstance(changed.gate, CandidateGate)
    assert (changed.pad_x, changed.pad_y) == (default.pad_x, default.pad_y)
    # The dict may set the padding or the gate too; gate=False is the Reader's own switch.
    assert Reader("us", recognizer=FakeRecognizer({}), localizer={"pad_x": 0.2}).localizer.pad_x == 0.2
    assert Reader("us", recognizer=FakeRecognizer({}), localizer={}, gate=False).localizer.gate is None
    with pytest.raises(TypeError, match="max_sid"):
        Reader("us", recognizer=FakeRecognizer({}), localizer={"max_sid": 1920})
    with pytest.raises(TypeError, match="localizer must be a Localizer"):
        Reader("us", recognizer=FakeRecognizer({}), localizer=1920)


def test_sharpen_with_a_wider_mask_along_x():
    import cv2

    from fastplate.images import sharpen

    rng = np.random.default_rng(2)
    gray = cv2.GaussianBlur(rng.integers(0, 256, (30, 41)).astype(np.uint8), (0, 0), 2)
    out = sharpen(gray, (2.5, 0.8), 3.0)
    blurred = cv2.GaussianBlur(gray, (0, 0), sigmaX=2.5, sigmaY=0.8, borderType=cv2.BORDER_REFLECT_101)
    want = np.clip(gray.astype(np.float64) + 3.0 * (gray.astype(np.float64) - blurred), 0, 255)
    assert np.abs(out - want).max() <= 1.0
    np.testing.assert_array_equal(sharpen(gray, (1.5, 1.5), 2.0), sharpen(gray, 1.5, 2.0))
    for bad in ((1.0, 2.0, 3.0), (), (1.0, 0.0), (float("nan"), 1.0), np.array([[1.0, 1.0]])):
        with pytest.raises(ValueError, match="sigma"):
            sharpen(gray, bad)
    with pytest.raises(TypeError):
        sharpen(gray, ("1", 1.0))


def test_edge_balance_tells_a_sideways_smear():
    import cv2

    from fastplate.images import edge_balance

    rng = np.random.default_rng(3)
    gray = cv2.GaussianBlur(rng.integers(0, 256, (120, 160)).astype(np.uint8), (0, 0), 1.0)  # no direction
    sharp = edge_balance(gray)
    smeared = edge_balance(cv2.filter2D(gray, -1, np.full((1, 7), 1 / 7)))  # 7 px of horizontal motion
    upright = edge_balance(cv2.filter2D(gray, -1, np.full((7, 1), 1 / 7)))
    assert smeared < 0.6 < sharp < upright
    assert edge_balance(np.full((20, 20), 9, np.uint8)) == 0.0  # nothing to measure
    assert edge_balance(np.zeros((1, 30), np.uint8)) == 0.0
    assert edge_balance(gray.T) == pytest.approx(1 / sharp, rel=0.25)
    for q in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="q must be"):
            edge_balance(gray, q)
    with pytest.raises(TypeError):
        edge_balance(gray.astype(np.float32))


def test_the_second_look_sharpens_a_sideways_smear_across_x(monkeypatch):
    import fastplate.reader as reader_module

    masks = []
    real = reader_module.sharpen
    monkeypatch.setattr(reader_module, "sharpen", lambda g, sigma, amount: masks.append(sigma) or real(g, sigma, amount))
    import cv2

    gray = np.ascontiguousarray(np.tile(np.repeat(np.array([40, 200], np.uint8), 5), (60, 8)))
    reader = Reader(recognizer=FakeRecognizer({}), threads=1)
    reader._prepare(gray, second_look=True)
    reader._prepare(cv2.filter2D(gray.T.copy(), -1, np.full((1, 9), 1 / 9)), second_look=True)
    reader._prepare(gray)  # the first look is not sharpened
    assert masks == [reader_module.SECOND_LOOK_SIGMA, reader_module.MOTION_SIGMA]


def test_draw_refuses_bad_quads_and_boxes_and_survives_absurd_ones():
    img = np.zeros((100, 100, 3), np.uint8)
    tall = Plate("ABC123", 0.9, ((0, 0), (50, 0), (50, 100000), (0, 100000)), (0, 0, 50, 100))
    out = fastplate.draw(img, [tall])  # once a crash in OpenCV's text sizing (font scale 2500)
    assert out.shape == img.shape and out.any()
    far = Char("A", 0.9, (0, 0, 1e12, 3))
    assert fastplate.draw(img, [dataclasses.replace(tall, chars=(far,))], chars=True).any()
    for quad, match in ((((0, 0), (1, 0)), "4 corner points|shape"), (((np.nan, 0), (1, 0), (1, 1), (0, 1)), "finite"),
                        (np.zeros((2, 4, 2)), "4 corner points")):
        with pytest.raises(ValueError, match=match):
            fastplate.draw(img, [Plate("A", 0.5, quad, (0, 0, 1, 1))])
    with pytest.raises(ValueError, match="finite numbers"):
        fastplate.draw(img, [dataclasses.replace(tall, chars=(Char("A", 0.9, (0, 0, float("nan"), 3)),))], chars=True)


def test_a_plates_box_is_its_quads_extent_in_whole_pixels():
    # The quad's extent as an area (what IoU with a label measures), not the box of every pixel its corners
    # touch: that one, tried in the seventeenth session, is 1 px wider and taller and moved small plates under
    # the IoU threshold.
    from fastplate.samples import sample_path

    gray = fastplate.images.load_gray(str(sample_path()))
    plate, = Reader("eu").read(gray)
    q = np.asarray(plate.quad)
    (x0, y0), (x1, y1) = q.min(axis=0), q.max(axis=0)
    assert plate.box == (round(x0), round(y0), round(x1 - x0), round(y1 - y0))
    x, y, w, h = plate.box
    assert abs(x - x0) <= 0.5 and abs(x + w - x1) <= 1 and abs(y + h - y1) <= 1


def test_bad_recognizer_refine_heights_and_flags_are_named():
    with pytest.raises(TypeError, match="recognizer must be a fastplate.Recognizer"):
        Reader(recognizer=5)  # once an AttributeError at the first read, and [] for a blank image
    # An array of heights is a sequence of heights (once numpy's "truth value ... is ambiguous").
    assert Reader(recognizer=FakeRecognizer({}), refine_heights=np.array([0.8, 1.2])).refine_heights == (0.8, 1.2)
    assert Reader(recognizer=FakeRecognizer({}), refine_heights=None).refine_heights == ()
    with pytest.raises(TypeError, match="refine_heights must be a sequence"):
        Reader(recognizer=FakeRecognizer({}), refine_heights=0)
    with pytest.raises(TypeError, match="invert must be True or False"):
        fastplate.kernels.adaptive_threshold(np.zeros((9, 9), np.uint8), 3, invert=np.array([True, False]))
    flat = np.zeros((9, 9), np.uint8)  # one flag in a 0-d array is a flag
    np.testing.assert_array_equal(fastplate.kernels.adaptive_threshold(flat, 3, invert=np.array(True)),
                                  fastplate.kernels.adaptive_threshold(flat, 3, invert=True))
    with pytest.raises(TypeError, match="name must be"):
        fastplate.kernels.use_backend(5)


def test_the_numba_backend_reads_the_same_plates_as_the_native_one(photos, scenes):
    # The Numba kernels are the fallback where the extension is missing: the whole pipeline (thresholds,
    # labelling, rows, warps, the real recognizer) must give the same plates, not only each kernel alike.
    pytest.importorskip("numba")
    previous = fastplate.kernels.backend
    images = list(photos) + [image for image, _ in scenes[:3]]
    reader = Reader("eu", threads=1)
    found = {}
    try:
        for name in ("native", "numba"):
            try:
                fastplate.kernels.use_backend(name)
            except ImportError as exc:
                pytest.skip(f"{name} backend unavailable: {exc}")
            found[name] = [[(p.text, round(p.confidence, 3), np.round(p.quad, 1).tolist()) for p in reader.read(im)]
                           for im in images]
    finally:
        fastplate.kernels.use_backend(previous)
    assert sum(len(plates) for plates in found["native"]) >= 3  # the check compares readings, not empty lists
    assert found["numba"] == found["native"]


def _two_groups(dy=0):
    # "RK" and "16174" on one line, 80 px (four character heights) apart: two rows, as a plate whose groups
    # an emblem separates, or one seen from above (shorter characters, the same gaps).
    img = np.full((140, 400), 200, np.uint8)
    cv2.putText(img, "RK", (40, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    cv2.putText(img, "16174", (120, 75 + dy), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2)
    return img


def test_localizer_joins_two_rows_on_one_line():
    cands = Localizer()(_two_groups())
    rows = [c for c in cands if not c.widened]
    assert len(rows) == 2
    joined = [c for c in cands if c.widened and len(c.char_boxes) == sum(len(r.char_boxes) for r in rows)]
    assert len(joined) == 1  # one for the pair, though both rows are widened
    (j,) = joined
    lo, hi = j.quad.min(axis=0), j.quad.max(axis=0)
    for r in rows:  # it spans both rows, and more (widened)
        assert (lo <= r.quad.min(axis=0)).all() and (hi >= r.quad.max(axis=0)).all()
    lo_rows = min(r.quad[:, 0].min() for r in rows)
    hi_rows = max(r.quad[:, 0].max() for r in rows)
    assert lo[0] < lo_rows - 5 and hi[0] > hi_rows + 5  # widened past both rows' ends
    assert 0 <= j.source < len(rows) and cands[j.source] is rows[j.source]
    assert np.all(np.diff(j.char_boxes[:, 0]) >= 0)  # left to right
    # No joining when it is off, when the rows are farther apart than join_gap heights, or on other lines.
    for loc, img in ((Localizer(join_gap=0), _two_groups()), (Localizer(join_gap=1.0), _two_groups()),
                     (Localizer(), _two_groups(dy=12))):
        cands = loc(img)
        assert len(cands) == 4 and all(len(c.char_boxes) < 8 for c in cands)


@pytest.mark.parametrize("bad", [-1, float("nan"), "2", None])
def test_localizer_rejects_a_bad_join_gap(bad):
    with pytest.raises((ValueError, TypeError), match="join_gap"):
        Localizer(join_gap=bad)


def _row(x0, n, y=50.0, h=20.0):
    from fastplate.localize import Candidate

    b = np.array([[x0 + 14 * k, y, 10, h] for k in range(n)], np.float64)
    x1 = b[-1, 0] + 10
    return Candidate(np.array([[x0 - 6, y - 6], [x1 + 6, y - 6], [x1 + 6, y + h + 6], [x0 - 6, y + h + 6]]), b, 1.0)


def test_join_keeps_to_max_chars_and_skips_bad_neighbours():
    loc = Localizer(max_chars=12)
    left, middle, right = _row(0, 8), _row(142, 4), _row(226, 8)  # 8 + 4 + 8 characters, gaps of 1.6-1.7 heights
    joined = loc.join(middle, 0, [left, middle, right])
    assert len(joined.char_boxes) == 12  # one side only: the nearer (the right one, 32 px against 34)
    assert joined.quad[:, 0].min() > left.quad[:, 0].max() - 20 and joined.quad[:, 0].max() > right.quad[:, 0].max()
    assert loc.join(middle, 0, [left, middle]) is not None and Localizer(max_chars=11).join(middle, 0, [left]) is None
    nan = _row(226, 8)
    nan.quad[:] = np.nan  # not on any line
    assert loc.join(middle, 0, [middle, nan]) is None
    inside = _row(142, 4)  # the same characters again (another level or polarity): nothing to add
    assert loc.join(middle, 0, [middle, inside]) is None
    assert Localizer(join_gap=0).join(middle, 0, [middle, right]) is None  # 0: never, also called directly


class _GroupsRecognizer:
    """Reads the characters of _two_groups() whose centres lie inside a quad's box."""

    CHARS = [("R", 50), ("K", 68), ("1", 129), ("6", 146), ("1", 165), ("7", 183), ("4", 199)]

    def recognize_quads_batch(self, jobs):
        out = []
        for _, quads in jobs:
            boxes = [quad_box(q) for q in quads]
            out.append([recognition("".join(ch for ch, cx in self.CHARS if x <= cx <= x + w), 0.97)
                        for x, _, w, _ in boxes])
        return out


def test_reader_keeps_the_joined_reading():
    img = _two_groups()
    texts = {}
    for gap in (2.5, 0):
        reader = Reader(None, recognizer=_GroupsRecognizer(), localizer={"join_gap": gap, "gate": None},
                        refine_heights=())
        texts[gap] = [p.text for p in reader.read(img)]
    assert texts[2.5] == ["RK16174"]  # the joined crop's longer reading replaces the row's "16174"
    assert "16174" in texts[0] and "RK16174" not in texts[0]


@pytest.mark.parametrize("name, value", [("min_char_height", 0), ("max_char_height", 3),
                                         ("max_chars", -1), ("pad_x", float("nan")), ("pad_y", -3.0),
                                         ("max_angle", 95.0), ("block_size", (0, 0)), ("contrast", float("nan")),
                                         ("join_gap", -1.0), ("gate", 5), ("max_side", 10)])
def test_localizer_options_are_checked_when_set_later(name, value):
    # The per-threshold kernels run unchecked (the options were checked once): a later bad setting must be
    # refused when it is made, not give garbage or a crash in the kernels.
    loc = Localizer()
    before = getattr(loc, name)
    with pytest.raises((ValueError, TypeError), match=name):
        setattr(loc, name, value)
    assert getattr(loc, name) is before
    loc.max_chars = 9  # a good setting still works
    assert loc.max_chars == 9


def test_localizer_heights_may_be_set_in_either_order_but_are_checked_as_a_pair():
    loc = Localizer()
    loc.min_char_height, loc.max_char_height = 40, 80  # raising both: the min first passes the old max
    loc.max_char_height, loc.min_char_height = 6, 4  # lowering both: the max first
    assert (loc.min_char_height, loc.max_char_height) == (4, 6)
    loc.min_char_height = 40
    with pytest.raises(ValueError, match=r"max_char_height must be >= min_char_height \(40\)"):
        loc(np.zeros((100, 100), np.uint8))


def test_localizer_subclass_levels_and_stats_are_checked():
    # The per-threshold kernels run unchecked: what a subclass's pyramid() or component_stats() gives is
    # checked before it reaches them (an F-ordered level once labelled uninitialised memory: no candidates).
    image, _ = synthetic_scene(2)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    base = Localizer(gate=None)(gray)
    assert base

    class Fortran(Localizer):
        def pyramid(self, g):
            return [(np.asfortranarray(level), f) for level, f in super().pyramid(g)]

    class Boolean(Localizer):
        def pyramid(self, g):
            return [(level > 100, f) for level, f in super().pyramid(g)]

    class Wide(Localizer):
        def component_stats(self, *args):
            return super().component_stats(*args).astype(np.int64)

    got = Fortran(gate=None)(gray)
    assert [c.quad.tolist() for c in got] == [c.quad.tolist() for c in base]
    with pytest.raises(TypeError, match="level must have dtype uint8"):
        Boolean(gate=None)(gray)
    with pytest.raises(TypeError, match="stats must have dtype int32"):
        Wide(gate=None)(gray)


def test_read_iter_copies_a_reused_frame_buffer(scenes):
    # A video loop refills one buffer for every frame; each frame must be read as it was when yielded.
    images = [image for image, _ in scenes[:4]]
    truths = [truth for _, truth in scenes[:4]]
    reader = Reader(recognizer=FakeRecognizer(truths, images=images), threads=1)
    buf = np.empty_like(images[0])

    def frames():
        for image in images:
            buf[...] = image
            yield buf

    got = [[p.text for p in plates] for plates in reader.read_iter(frames(), chunk_size=4)]
    assert got == [[t[0][0]] for t in truths] and len({g[0] for g in got}) == 4
    # The same with encoded frames in one refilled bytearray; a released memoryview is that image's error.
    encoded = [cv2.imencode(".png", image)[1].tobytes() for image in images]
    data, gone = bytearray(), memoryview(b"x")
    gone.release()

    def files():
        for k, png in enumerate(encoded):
            data[:] = png
            yield data
            if k == 1:
                yield gone

    reader = Reader(recognizer=FakeRecognizer(truths, images=encoded), threads=1)  # decoded as the reader does
    got = [r if isinstance(r, Exception) else [p.text for p in r]
           for r in reader.read_iter(files(), chunk_size=8, errors="yield")]
    assert [g for g in got if not isinstance(g, Exception)] == [[t[0][0]] for t in truths]
    assert isinstance(got[2], ValueError) and len(got) == 5


def test_read_iter_gives_the_plates_before_an_error(scenes, tmp_path):
    images = [image for image, _ in scenes[:3]]
    truths = [truth for _, truth in scenes[:3]]
    reader = Reader(recognizer=FakeRecognizer(truths, images=images), threads=1)
    out = []
    with pytest.raises(ImageDecodeError):
        for plates in reader.read_iter([images[0], images[1], b"junk", images[2]], chunk_size=8):
            out.append([p.text for p in plates])
    assert out == [[truths[0][0][0]], [truths[1][0][0]]]  # the two before the bad bytes, then the error

    def failing():
        yield images[0]
        yield images[1]
        raise OSError("camera gone")

    out = []
    with pytest.raises(OSError, match="camera gone"):
        for plates in reader.read_iter(failing(), chunk_size=8, errors="yield"):
            out.append([p.text for p in plates])
    assert out == [[truths[0][0][0]], [truths[1][0][0]]]


def test_draw_writes_the_label_inside_the_image_for_a_plate_as_tall_as_it():
    # A tight crop: no room above or below the quad. The label once went past the bottom edge, unseen.
    img = np.full((100, 200, 3), 128, np.uint8)
    tall = Plate("AB123", 0.9, ((10, 2), (190, 2), (190, 97), (10, 97)), (10, 2, 180, 95))
    labelled, bare = fastplate.draw(img, [tall]), fastplate.draw(img, [tall], text=False)
    assert (labelled != bare).any(axis=2)[5:60].any()  # written near the top, inside the quad
    with pytest.raises(TypeError, match=r"plates\[0\].confidence must be a finite number"):
        fastplate.draw(img, [dataclasses.replace(tall, confidence=None)])
    assert fastplate.draw(np.zeros((30, 40, 4), np.uint8), [tall]).shape == (30, 40, 3)  # BGRA: alpha dropped


def test_a_hand_built_plate_with_arrays_compares_and_hashes():
    quad = np.array([[0, 0], [10, 0], [10, 5], [0, 5]], float)
    a = Plate("AB1", 1.0, quad, np.array([0, 0, 10, 5]), chars=[Char("A", 0.9, np.array([0, 0, 3, 5]))],
              candidates=[["AB1", 1.0]])
    b = Plate("AB1", 1.0, quad.copy(), [0, 0, 10, 5], chars=(Char("A", 0.9, (0, 0, 3, 5)),),
              candidates=(("AB1", 1.0),))
    assert a == b and hash(a) == hash(b)
    mixed = Plate("AB1", 1.0, ((0.0, 0.0), np.array([10.0, 0.0]), (10.0, 5.0), (0.0, 5.0)), (0, 0, 10, 5),
                  chars=(Char("A", 0.9, (0, 0, 3, 5)),), candidates=(("AB1", 1.0), ["AB7", 0.5]))
    assert hash(mixed) == hash(dataclasses.replace(mixed)) and mixed.candidates[1] == ("AB7", 0.5)
    assert a.quad == ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0)) and a.box == (0, 0, 10, 5)
    assert a.chars[0].box == (0, 0, 3, 5) and a.candidates == (("AB1", 1.0),)
