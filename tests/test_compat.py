"""The OpenALPR drop-in: same methods, same result dictionaries."""
import cv2
import pytest
from fake_recognizer import FakeRecognizer

from fastplate.compat.openalpr import Alpr, to_openalpr
from fastplate.samples import synthetic_scene

TOP_KEYS = {"version", "data_type", "epoch_time", "img_width", "img_height", "processing_time_ms",
            "regions_of_interest", "results"}
RESULT_KEYS = {"plate", "confidence", "matches_template", "plate_index", "region", "region_confidence",
               "processing_time_ms", "requested_topn", "coordinates", "candidates"}


@pytest.fixture(scope="module")
def scene():
    return synthetic_scene(11, style="br")


def _check_schema(res, image):
    assert set(res) == TOP_KEYS
    assert res["version"] == 2 and res["data_type"] == "alpr_results"
    assert res["img_width"] == image.shape[1] and res["img_height"] == image.shape[0]
    assert isinstance(res["epoch_time"], int) and res["epoch_time"] > 1_600_000_000_000
    assert res["processing_time_ms"] >= 0
    # OpenALPR searches the whole frame when given no region of interest, and says so
    assert res["regions_of_interest"] == [{"x": 0, "y": 0, "width": image.shape[1], "height": image.shape[0]}]
    for i, r in enumerate(res["results"]):
        assert set(r) == RESULT_KEYS
        assert r["plate_index"] == i
        assert 0 <= r["confidence"] <= 100
        assert r["matches_template"] in (0, 1)
        assert len(r["coordinates"]) == 4
        assert all(set(pt) == {"x", "y"} and isinstance(pt["x"], int) for pt in r["coordinates"])
        assert len(r["candidates"]) <= r["requested_topn"]
        for c in r["candidates"]:
            assert set(c) == {"plate", "confidence", "matches_template"}
            assert 0 <= c["confidence"] <= 100 and c["matches_template"] in (0, 1)
        assert r["candidates"][0]["plate"] == r["plate"]
        assert isinstance(r["region_confidence"], int)


def test_recognize_ndarray_array_and_file(scene, tmp_path):
    image, truth = scene
    text = truth[0][0]
    with Alpr("br", "/etc/openalpr/openalpr.conf", "/usr/share/openalpr/runtime_data",
              recognizer=FakeRecognizer(truth)) as alpr:
        assert alpr.is_loaded()
        res = alpr.recognize_ndarray(image)
        _check_schema(res, image)
        assert [r["plate"] for r in res["results"]] == [text]
        assert res["results"][0]["matches_template"] == 1
        assert res["results"][0]["region"] == "br"
        ok, jpg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        res = alpr.recognize_array(jpg.tobytes())
        _check_schema(res, image)
        assert [r["plate"] for r in res["results"]] == [text]
        path = tmp_path / "car.jpg"
        path.write_bytes(jpg.tobytes())
        res = alpr.recognize_file(str(path))
        assert [r["plate"] for r in res["results"]] == [text]
        assert alpr.recognize_image(image)["results"][0]["plate"] == text
        assert alpr.recognize_image(img=image)["results"][0]["plate"] == text  # the old binding's argument name
    assert not alpr.is_loaded()
    with pytest.raises(RuntimeError, match="unloaded"):
        alpr.recognize_ndarray(image)


def test_top_n_and_regions(scene):
    image, truth = scene
    alpr = Alpr("us", recognizer=FakeRecognizer(truth))
    alpr.set_top_n(1)
    res = alpr.recognize_ndarray(image)
    assert res["results"][0]["requested_topn"] == 1
    assert len(res["results"][0]["candidates"]) == 1
    alpr.set_top_n(5)
    assert len(alpr.recognize_ndarray(image)["results"][0]["candidates"]) == 2  # the fake gives 2 readings
    with pytest.warns(UserWarning, match="md"):
        alpr.set_default_region("md")  # no pattern for it: ignored with a warning, as OpenALPR does
    alpr.set_default_region("ny")
    assert alpr.recognize_ndarray(image)["results"][0]["region_confidence"] == 0  # no region detection asked
    alpr.set_detect_region(True)
    res = alpr.recognize_ndarray(image)["results"][0]
    assert res["region"] and res["matches_template"] and 0 <= res["confidence"] - res["region_confidence"] < 1
    alpr.set_prewarp("")
    assert "fastplate" in alpr.get_version()
    alpr.unload()


def test_eu_country_codes_select_eu_with_region(scene):
    image, truth = scene
    alpr = Alpr("gb", recognizer=FakeRecognizer(truth))
    assert alpr._reader.country == "eu" and alpr._reader.formats.region == "gb"
    alpr = Alpr(b"br2", recognizer=FakeRecognizer(truth))
    assert alpr._reader.country == "br"
    alpr = Alpr("au", recognizer=FakeRecognizer(truth))  # no formats for it: reads without patterns
    assert alpr._reader.country is None and alpr.is_loaded()
    alpr = Alpr("brmt", recognizer=FakeRecognizer(truth))
    assert alpr._reader.country == "br"


def test_countries_without_patterns_report_no_region_or_template(scene):
    # Read with every country's patterns, they once reported a Brazilian (or Polish...) region for "au".
    image, truth = scene
    res = Alpr("au", recognizer=FakeRecognizer(truth)).recognize_ndarray(image)
    assert res["results"] and Alpr("br", recognizer=FakeRecognizer(truth)).recognize_ndarray(image)["results"]
    for r in res["results"]:
        assert r["region"] == "" and r["matches_template"] == 0 and r["region_confidence"] == 0
        assert all(c["matches_template"] == 0 for c in r["candidates"])
    alpr = Alpr("au", recognizer=FakeRecognizer(truth))
    alpr.set_detect_region(True)
    with pytest.warns(UserWarning):
        alpr.set_default_region("nsw")
    assert {r["region"] for r in alpr.recognize_ndarray(image)["results"]} == {"nsw"}


def test_country_lists_and_unknown_countries(scene):
    image, truth = scene
    alpr = Alpr("gb,fr", recognizer=FakeRecognizer(truth))  # OpenALPR reads comma-separated countries
    assert alpr._reader.country == "eu" and alpr._reader.formats.region is None
    alpr = Alpr("us, br", recognizer=FakeRecognizer(truth))
    assert alpr._reader.country is None and alpr.is_loaded()
    with pytest.warns(UserWarning, match="'xx'") as warned:
        alpr = Alpr("xx", recognizer=FakeRecognizer(truth), region="gb")
    assert warned[0].filename == __file__  # the user's line, not the constructor's
    assert not alpr.is_loaded()  # as OpenALPR, which has no configuration for it
    with pytest.raises(RuntimeError, match="no country 'xx'"):
        alpr.recognize_ndarray(image)
    alpr.set_top_n(2)  # kept for the reader a known country builds
    alpr.set_detect_region(True)
    alpr.set_country("eu")
    assert alpr.is_loaded() and alpr._reader.top_n == 2 and alpr._reader.formats.region == "gb"
    with pytest.warns(UserWarning, match="'gb'"):
        alpr.set_country("br")  # the default region has no Brazilian patterns: read without it
    assert alpr._reader.formats.region is None
    (res,) = alpr.recognize_ndarray(image)["results"]
    assert res["plate"] == truth[0][0] and res["region_confidence"] > 0 and len(res["candidates"]) <= 2


def test_default_top_n_is_openalprs():
    assert Alpr("us", recognizer=FakeRecognizer([]))._reader.top_n == 25  # alpr_impl.h DEFAULT_TOPN


def test_bad_arguments(scene):
    image, truth = scene
    alpr = Alpr("eu", recognizer=FakeRecognizer(truth))
    with pytest.raises(TypeError, match="byte_array"):
        alpr.recognize_array("not bytes")
    with pytest.raises(TypeError, match="ndarray"):
        alpr.recognize_ndarray([[1, 2]])
    with pytest.raises(TypeError, match="file_path"):
        alpr.recognize_file(3)
    with pytest.raises(ValueError, match="topn"):
        alpr.set_top_n(0)
    with pytest.raises(TypeError, match="country"):
        Alpr(5, recognizer=FakeRecognizer(truth))
    with pytest.raises(ValueError):
        alpr.recognize_array(b"definitely not a jpeg")
    with pytest.raises(FileNotFoundError):
        alpr.recognize_file("/nonexistent/car.jpg")


def test_top_n_reaches_its_own_recognizer():
    # The Alpr's own recognizer must list as many alternatives as set_top_n asks for (it listed 5 at most).
    from fastplate.samples import sample_path

    alpr = Alpr("eu")
    counts = {}
    for n in (1, 3, 12):
        alpr.set_top_n(n)
        counts[n] = len(alpr.recognize_file(str(sample_path()))["results"][0]["candidates"])
    assert counts[1] == 1 and counts[3] == 3 and counts[12] > 5
    alpr.set_top_n(1000)  # at most 16 listed (the module docstring says why); the request is echoed
    result = alpr.recognize_file(str(sample_path()))["results"][0]
    assert len(result["candidates"]) == 16 and result["requested_topn"] == 1000


def test_constructor_options_and_setters_after_unload(scene):
    image, truth = scene
    alpr = Alpr("eu", recognizer=FakeRecognizer(truth), top_n=3, region="gb")
    assert alpr._reader.top_n == 3 and alpr._reader.formats.region == "gb"
    with pytest.raises(TypeError, match="region"):
        alpr.set_default_region(5)
    alpr.unload()
    for call in (lambda: alpr.set_top_n(2), lambda: alpr.set_default_region("de"), lambda: alpr.set_country("us"),
                 lambda: alpr.set_detect_region(True)):
        with pytest.raises(RuntimeError, match="unloaded"):
            call()


def test_to_openalpr_without_plates():
    res = to_openalpr([], 640, 480, 3.5, 10, epoch_time=123)
    assert res == {"version": 2, "data_type": "alpr_results", "epoch_time": 123, "img_width": 640,
                   "img_height": 480, "processing_time_ms": 3.5,
                   "regions_of_interest": [{"x": 0, "y": 0, "width": 640, "height": 480}], "results": []}


def test_unload_from_another_thread_mid_read_does_not_break_that_read(scene):
    # unload() while another thread was inside recognize_*: AttributeError on the reader it had set to None.
    image, truth = scene
    alpr = Alpr("br", recognizer=FakeRecognizer(truth))
    reader = alpr._reader
    read_arrays = reader.read_arrays

    def unloading_read(grays):
        out = read_arrays(grays)
        alpr.unload()  # as another thread would, while this read runs
        return out

    reader.read_arrays = unloading_read
    res = alpr.recognize_ndarray(image)
    assert [r["plate"] for r in res["results"]] == [truth[0][0]]
    with pytest.raises(RuntimeError, match="unloaded"):
        alpr.recognize_ndarray(image)
