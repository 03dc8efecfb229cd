"""find_character_rows / segment_characters on synthetic plates (drawn with cv2.putText) and real crops."""
import csv
import math
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from fastplate import kernels

DATA = Path(os.environ.get("FASTPLATE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))

FONT = cv2.FONT_HERSHEY_SIMPLEX
PLATE, INK = 225, 25


def draw_plate(lines=("ABC1234",), scale=1.4, thickness=3, spacing=6, pad=28):
    """Dark characters on a light plate, drawn one by one.

    Returns the image and, per text line, the ink boxes (x0, y0, x1, y1), exclusive ends, of its characters.
    """
    advance = [[cv2.getTextSize(ch, FONT, scale, thickness)[0][0] + spacing for ch in text] for text in lines]
    line_height = cv2.getTextSize("A", FONT, scale, thickness)[0][1]
    width = max(sum(a) for a in advance) + 2 * pad
    height = len(lines) * line_height * 2 + 2 * pad
    image = np.full((height, width), PLATE, np.uint8)
    boxes = []
    for row, text in enumerate(lines):
        x = pad + (width - 2 * pad - sum(advance[row])) // 2
        baseline = pad + line_height + row * 2 * line_height
        row_boxes = []
        for ch, step in zip(text, advance[row]):
            mask = np.zeros_like(image)
            cv2.putText(mask, ch, (x, baseline), FONT, scale, 255, thickness, cv2.LINE_8)
            ys, xs = np.nonzero(mask)
            row_boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
            image[mask > 0] = INK
            x += step
        boxes.append(row_boxes)
    return image, boxes


def rotate(image, degrees):
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=PLATE)


def components(image, dark_characters=True):
    mode = cv2.THRESH_BINARY_INV if dark_characters else cv2.THRESH_BINARY
    binary = cv2.threshold(image, 128, 255, mode)[1]
    _, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)
    return labels, stats


def label_at_boxes(labels, boxes):
    """The component label that covers most ink of each (x0, y0, x1, y1) box."""
    out = []
    for x0, y0, x1, y1 in boxes:
        patch = labels[y0:y1, x0:x1]
        out.append(np.bincount(patch[patch > 0]).argmax())
    return out


def find_rows(stats, **kwargs):
    kwargs.setdefault("min_height", 10)
    kwargs.setdefault("max_height", 80)
    return kernels.find_character_rows(stats, **kwargs)


# ------------------------------------------------------------------------------------- synthetic plates
def test_one_row_finds_every_character_and_its_lines(backend):
    image, (boxes,) = draw_plate()
    labels, stats = components(image)
    rows = find_rows(stats)
    assert len(rows) == 1
    row = rows[0]
    assert list(row.indices) == label_at_boxes(labels, boxes)  # all seven, left to right
    np.testing.assert_array_equal(row.boxes, stats[row.indices, :4])
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    assert abs(row.top[0]) < 0.02 and abs(row.bottom[0]) < 0.02
    assert abs(row.top[1] - top) <= 1.5 and abs(row.bottom[1] - bottom) <= 1.5
    for bad in (float("nan"), -0.5):  # NaN once gave a quad of NaNs
        with pytest.raises(ValueError, match="pad_x"):
            row.quad(pad_x=bad)


def test_two_row_plate_gives_two_rows(backend):
    image, (upper, lower) = draw_plate(("ABC", "1234"))
    labels, stats = components(image)
    rows = find_rows(stats)
    assert [len(r.indices) for r in rows] == [4, 3]  # longest first
    assert list(rows[0].indices) == label_at_boxes(labels, lower)
    assert list(rows[1].indices) == label_at_boxes(labels, upper)
    x = image.shape[1] / 2
    assert rows[1].bottom[0] * x + rows[1].bottom[1] < rows[0].top[0] * x + rows[0].top[1]


@pytest.mark.parametrize("degrees", [-15, -10, 10, 15])
def test_tilted_row_is_one_row_with_tilted_lines(backend, degrees):
    image, _ = draw_plate(pad=60)
    image = rotate(image, degrees)
    labels, stats = components(image)
    rows = find_rows(stats)
    assert len(rows) == 1 and len(rows[0].indices) == 7
    slope = -math.tan(math.radians(degrees))  # image y points down, cv2 rotates counter-clockwise
    assert abs(rows[0].top[0] - slope) < 0.05 and abs(rows[0].bottom[0] - slope) < 0.05


def test_light_characters_on_dark_plate(backend):
    image, (boxes,) = draw_plate()
    inverted = 255 - image
    labels, stats = components(inverted, dark_characters=False)
    rows = find_rows(stats)
    assert len(rows) == 1 and list(rows[0].indices) == label_at_boxes(labels, boxes)
    # The other polarity (the plate's background and the characters' holes) holds no row of characters.
    _, stats_wrong = components(inverted, dark_characters=True)
    assert find_rows(stats_wrong) == []


def test_broken_character_pieces_join_the_row(backend):
    image, (boxes,) = draw_plate(("AB0CD12",))
    x0, y0, x1, y1 = boxes[2]  # cut the "0" across its middle: two stacked arcs
    mid = (y0 + y1) // 2
    image[mid - 1 : mid + 2, x0:x1] = PLATE
    labels, stats = components(image)
    top_piece = labels[y0:mid - 1, x0:x1].max()
    bottom_piece = labels[mid + 2 : y1, x0:x1].max()
    assert top_piece != bottom_piece and top_piece > 0 and bottom_piece > 0
    rows = find_rows(stats)
    assert len(rows) == 1
    others = label_at_boxes(labels, boxes[:2] + boxes[3:])
    assert set(rows[0].indices) == set(others) | {top_piece, bottom_piece}
    assert abs(rows[0].top[1] - min(b[1] for b in boxes)) <= 1.5  # the pieces do not bend the lines


def test_touching_characters_stay_in_the_row(backend):
    image, (boxes,) = draw_plate(("AB8C123",))
    # Fuse "8" and "C" with a bar at mid height: one component about twice as wide as tall.
    (_, ay0, ax1, ay1), (bx0, _, _, _) = boxes[2], boxes[3]
    mid = (ay0 + ay1) // 2
    image[mid - 2 : mid + 2, ax1 - 3 : bx0 + 3] = INK
    labels, stats = components(image)
    fused, fused_too = label_at_boxes(labels, boxes[2:4])
    assert fused == fused_too and 1.5 < stats[fused, 2] / stats[fused, 3] < 2.5
    rows = find_rows(stats)
    assert len(rows) == 1
    assert list(rows[0].indices) == label_at_boxes(labels, boxes[:2] + [boxes[2]] + boxes[4:])
    assert fused in rows[0].indices


def test_touching_pair_between_normal_characters_does_not_split_the_row(backend):
    image, (boxes,) = draw_plate(("AB8C12",))
    (ax0, ay0, ax1, ay1), (bx0, _, _, _) = boxes[1], boxes[2]
    mid = (ay0 + ay1) // 2
    image[mid - 2 : mid + 2, ax1 - 3 : bx0 + 3] = INK  # fuse "B" and "8"
    labels, stats = components(image)
    rows = find_rows(stats)
    assert len(rows) == 1 and len(rows[0].indices) == 5


def test_plate_clutter_is_rejected(backend):
    image, (boxes,) = draw_plate(pad=60)
    h, w = image.shape
    cv2.rectangle(image, (20, 20), (w - 21, h - 21), INK, 3)  # plate border
    for x in (40, w - 40):
        cv2.circle(image, (x, 35), 6, INK, -1)  # bolts
    cv2.line(image, (70, h - 45), (w - 70, h - 45), INK, 4)  # a rule under the text
    rng = np.random.default_rng(7)
    for _ in range(40):  # specks
        x, y = rng.integers(25, w - 25), rng.integers(25, h - 25)
        image[y : y + 2, x : x + 2] = INK
    labels, stats = components(image)
    rows = find_rows(stats)
    assert len(rows) == 1 and list(rows[0].indices) == label_at_boxes(labels, boxes)


def test_lone_and_misaligned_blobs_make_no_row(backend):
    image = np.full((200, 400), PLATE, np.uint8)
    # Character-sized blobs, but each pair too far apart, too different in height, or stacked.
    cv2.rectangle(image, (20, 40), (35, 70), INK, -1)
    cv2.rectangle(image, (110, 40), (125, 70), INK, -1)  # gap 75 px > 1.2 heights
    cv2.rectangle(image, (200, 40), (215, 60), INK, -1)
    cv2.rectangle(image, (222, 20), (237, 80), INK, -1)  # 3x taller neighbour
    cv2.rectangle(image, (300, 20), (315, 50), INK, -1)
    cv2.rectangle(image, (300, 60), (315, 90), INK, -1)  # stacked under the previous one
    cv2.rectangle(image, (30, 120), (140, 150), INK, -1)  # a bar
    _, stats = components(image)
    assert find_rows(stats, min_chars=2) == []


def test_background_row_is_never_a_member(backend):
    # Row 0 looks like a character in line with the others; it is the background and must stay out.
    stats = np.array([[0, 10, 12, 20, 240]] + [[20 + 16 * i, 10, 12, 20, 200] for i in range(4)], np.int32)
    row_of, lines = kernels._kernels().find_character_rows(stats, 8, 100, 1.5, 1.2, 20.0)
    assert row_of[0] == -1 and list(row_of[1:]) == [0, 0, 0, 0] and lines.shape == (1, 4)
    rows = kernels.find_character_rows(stats)
    assert len(rows) == 1 and list(rows[0].indices) == [1, 2, 3, 4]


def test_height_limits_and_min_chars(backend):
    image, _ = draw_plate()
    _, stats = components(image)
    height = int(np.median(stats[1:, 3]))
    assert find_rows(stats, min_height=height + 5) == []
    assert find_rows(stats, max_height=height - 5, min_height=4) == []
    assert find_rows(stats, min_chars=8) == []
    assert len(find_rows(stats, min_chars=7)) == 1


# ------------------------------------------------------------------------------- properties, backends
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dx=st.integers(-500, 500), dy=st.integers(-500, 500), seed=st.integers(0, 2**16))
def test_translation_moves_lines_and_keeps_rows(backend, dx, dy, seed):
    rng = np.random.default_rng(seed)
    image, _ = draw_plate(("AB0CD12",) if seed % 2 else ("ABC", "1234"))
    image = rotate(image, float(rng.uniform(-12, 12)))
    _, stats = components(image)
    moved = stats.copy()
    moved[:, 0] += dx
    moved[:, 1] += dy
    row_of, lines = kernels._kernels().find_character_rows(stats, 10, 80, 1.5, 1.2, 20.0)
    row_of_moved, lines_moved = kernels._kernels().find_character_rows(moved, 10, 80, 1.5, 1.2, 20.0)
    np.testing.assert_array_equal(row_of, row_of_moved)
    np.testing.assert_allclose(lines_moved[:, [0, 2]], lines[:, [0, 2]], atol=1e-9)
    for s, i in ((0, 1), (2, 3)):  # y + dy = slope * (x + dx) + intercept'
        np.testing.assert_allclose(lines_moved[:, i], lines[:, i] + dy - lines[:, s] * dx, atol=1e-6)


def native_and_numba(func):
    previous = kernels.backend
    results = []
    try:
        for name in ("native", "numba"):
            try:
                kernels.use_backend(name)
            except ImportError as exc:
                pytest.skip(f"{name} backend unavailable: {exc}")
            results.append(func(kernels._impl))
    finally:
        kernels.use_backend(previous)
    return results


def test_native_equals_numba_on_random_boxes():
    rng = np.random.default_rng(3)
    cases = []
    for _ in range(300):
        n = int(rng.integers(1, 80))
        stats = np.empty((n, 5), np.int32)
        stats[:, 0] = rng.integers(-100, 400, n)
        stats[:, 1] = rng.integers(-50, 120, n)
        stats[:, 2] = rng.integers(0, 40, n)
        stats[:, 3] = rng.integers(0, 40, n)
        stats[:, 4] = 1
        params = (int(rng.integers(1, 10)), int(rng.integers(10, 60)), float(rng.uniform(1, 2)),
                  float(rng.uniform(0, 2)), float(rng.uniform(0, 40)))
        cases.append((stats, params))
    native, numba = native_and_numba(lambda impl: [impl.find_character_rows(s, *p) for s, p in cases])
    for (row_of_a, lines_a), (row_of_b, lines_b) in zip(native, numba):
        np.testing.assert_array_equal(row_of_a, row_of_b)
        np.testing.assert_array_equal(lines_a, lines_b)  # same operations in the same order: bit-equal


def test_native_equals_numba_on_photos(photos):
    stats_list = []
    for photo in photos:
        for mode in (cv2.THRESH_BINARY, cv2.THRESH_BINARY_INV):
            binary = cv2.adaptiveThreshold(photo, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 15, 5)
            stats_list.append(cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)[2])
    native, numba = native_and_numba(
        lambda impl: [impl.find_character_rows(s, 9, 36, 1.5, 1.2, 20.0) for s in stats_list])
    assert sum(len(lines) for _, lines in native) > 0  # photos do hold character-like rows
    for (row_of_a, lines_a), (row_of_b, lines_b) in zip(native, numba):
        np.testing.assert_array_equal(row_of_a, row_of_b)
        np.testing.assert_array_equal(lines_a, lines_b)


def test_row_table_is_find_character_rows_as_arrays(photos):
    """character_row_table (the localizer's form) lists the same rows, members and lines, in the same order."""
    for photo in photos:
        for mode in (cv2.THRESH_BINARY, cv2.THRESH_BINARY_INV):
            binary = cv2.adaptiveThreshold(photo, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 15, 5)
            stats = cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)[2]
            for min_chars in (1, 3, 6):
                rows = kernels.find_character_rows(stats, min_height=9, max_height=36, min_chars=min_chars)
                table = kernels.character_row_table(stats, min_height=9, max_height=36, min_chars=min_chars)
                assert table.counts.tolist() == [len(r.indices) for r in rows]
                assert (table.counts >= min_chars).all()
                np.testing.assert_array_equal(table.members, np.concatenate([r.indices for r in rows] or [[]]))
                np.testing.assert_array_equal(table.lines,
                                              np.array([(*r.top, *r.bottom) for r in rows]).reshape(-1, 4))
                for r, quad in zip(rows, table.quads):
                    np.testing.assert_allclose(quad, r.quad(), rtol=1e-12, atol=1e-9)


def _row_cases(photos):
    rng = np.random.default_rng(11)
    cases = []
    for photo in photos:
        for mode in (cv2.THRESH_BINARY, cv2.THRESH_BINARY_INV):
            binary = cv2.adaptiveThreshold(photo, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, 11, 8)
            cases.append(cv2.connectedComponentsWithStats(binary, connectivity=8, ltype=cv2.CV_32S)[2])
    for _ in range(100):  # random boxes, rows of every length, ties in x
        n = int(rng.integers(2, 60))
        stats = np.empty((n, 5), np.int32)
        stats[:, 0] = rng.integers(0, 200, n) // 4 * 4
        stats[:, 1] = rng.integers(0, 40, n)
        stats[:, 2] = rng.integers(4, 20, n)
        stats[:, 3] = rng.integers(10, 24, n)
        stats[:, 4] = rng.integers(1, 200, n)
        cases.append(stats)
    return cases


@pytest.mark.parametrize("limits", [(3, 12, 0.0, 0.0), (1, 4, 0.6, 0.45), (5, 8, 0.5, 0.3)])
def test_row_table_equals_numpy_reference(backend, photos, limits):
    """Both backends' row geometry (features, extents, padded quads) equals the NumPy reference bit for bit:
    the same operations in the same order."""
    min_chars, max_chars, pad_x, pad_y = limits
    found = 0
    for stats in _row_cases(photos):
        table = kernels.character_row_table(stats, min_height=9, max_height=36, min_chars=min_chars,
                                            max_chars=max_chars, pad_x=pad_x, pad_y=pad_y)
        row_of, lines = kernels._kernels().find_character_rows(np.ascontiguousarray(stats), 9, 36, 1.5, 1.2, 20.0)
        want = reference.character_row_table(stats, row_of, lines, min_chars, max_chars, pad_x, pad_y)
        for got, expected in zip(table, want):
            np.testing.assert_array_equal(got, expected)
        assert ((table.counts >= min_chars) & (table.counts <= max_chars)).all()
        found += len(table.counts)
    assert found > 0


def test_row_table_of_no_components_is_empty():
    table = kernels.character_row_table(np.zeros((1, 5), np.int32))
    assert table.members.shape == (0,) and table.counts.shape == (0,) and table.lines.shape == (0, 4)
    assert table.features.shape == (0, 4) and table.extents.shape == (0, 5) and table.quads.shape == (0, 4, 2)


def test_row_table_bad_limits():
    stats = np.zeros((3, 5), np.int32)
    with pytest.raises(ValueError, match="max_chars must be >= 3"):
        kernels.character_row_table(stats, min_chars=3, max_chars=2)
    with pytest.raises(TypeError, match="pad_x"):
        kernels.character_row_table(stats, pad_x="wide")


# -------------------------------------------------------------------------------------------- bad input
def test_stats_dtype_is_a_type_error(backend):
    with pytest.raises(TypeError, match="stats must have dtype int32"):
        kernels.find_character_rows(np.zeros((3, 5), np.int64))


def test_stats_not_array_is_a_type_error(backend):
    with pytest.raises(TypeError, match="stats must be a numpy.ndarray"):
        kernels.find_character_rows([[0, 0, 1, 1, 1]])


def test_stats_shape_is_a_value_error(backend):
    with pytest.raises(ValueError, match=r"stats must have shape \(n, 5\)"):
        kernels.find_character_rows(np.zeros((3, 4), np.int32))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(min_height=0), "min_height must be >= 1"),
        (dict(min_height=10, max_height=5), "max_height must be >= 10"),
        (dict(max_height_ratio=0.5), "max_height_ratio must be >= 1"),
        (dict(max_gap=float("nan")), "max_gap must be finite"),
        (dict(max_angle=90), r"max_angle must be in \[0, 90\)"),
        (dict(min_chars=0), "min_chars must be >= 1"),
    ],
)
def test_bad_parameters_are_value_errors(backend, kwargs, match):
    stats = np.zeros((3, 5), np.int32)
    with pytest.raises(ValueError, match=match):
        kernels.find_character_rows(stats, **kwargs)


# ------------------------------------------------------------------------------------------ real crops
US_CROPS = DATA / "us-crops"


def us_crops(count=40):
    with open(US_CROPS / "labels.csv", newline="") as f:
        entries = list(csv.DictReader(f))
    step = max(1, len(entries) // count)  # spread over the states (the file is sorted by state)
    return entries[::step][:count]


@pytest.mark.skipif(not (US_CROPS / "labels.csv").exists(), reason="../shared/data/us-crops is absent")
def test_segment_characters_finds_most_characters_of_real_crops(backend):
    recalls = []
    for entry in us_crops():
        image = cv2.imread(str(US_CROPS / "images" / entry["file"]))
        rows = kernels.segment_characters(image)
        found = sum(len(r.indices) for r in rows)
        recalls.append(min(found, len(entry["plate"])) / len(entry["plate"]))
    recalls = np.array(recalls)
    assert recalls.mean() >= 0.8, recalls
    assert (recalls >= 0.5).mean() >= 0.85, recalls


@pytest.mark.parametrize("height", [2, 3])
def test_segment_characters_of_too_short_crops_find_nothing(backend, height):
    # Once a ValueError about max_height, an argument the caller never passed.
    assert kernels.segment_characters(np.full((height, 50), 128, np.uint8)) == []


def test_segment_characters_either_polarity(backend):
    image, (boxes,) = draw_plate()
    for plate in (image, 255 - image):
        rows = kernels.segment_characters(plate)
        assert len(rows) == 1 and len(rows[0].indices) == 7
