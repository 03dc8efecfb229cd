import json

import pytest

from fastplate.formats import FormatMatch, PlateFormats, _expand, countries, fold_o0, load_formats, plate_text


def test_shipped_file_parses_and_has_the_three_countries():
    data = load_formats()
    assert set(countries()) >= {"us", "eu", "br"}
    for country, regions in data["countries"].items():
        for region, patterns in regions.items():
            for p in patterns:
                assert _expand(p), (country, region, p)
    # the confusion maps only map between letters and digits
    assert all(k.isdigit() and v.isalpha() for k, v in data["to_letter"].items())
    assert all(k.isalpha() and v.isdigit() for k, v in data["to_digit"].items())


@pytest.mark.parametrize(
    "read, fixed",
    [
        ("A8C1234", "ABC1234"),  # B/8 where a letter is due
        ("ABC12S4", "ABC1254"),  # S/5 where a digit is due
        ("0BC1234", "OBC1234"),  # O/0
        ("ABCI234", "ABC1234"),  # I/1
        ("ABC1Z34", "ABC1Z34"),  # Mercosur AAA9A99 fits as read: nothing to fix
        ("AB61234", "ABG1234"),  # G/6
        ("ABC1D34", "ABC1D34"),  # Mercosur again
        ("ABCD234", "ABC0234"),  # D/0
    ],
)
def test_br_fixes_confusions_where_the_pattern_demands(read, fixed):
    m = PlateFormats("br").apply(read)
    assert m.text == fixed
    assert m.matches_template
    assert m.region in ("br", "br-mercosur")
    assert m.fixes == sum(a != b for a, b in zip(read, fixed))


@pytest.mark.parametrize("word", ["RENAULT", "PEUGEOT", "KENAULT"])
def test_br_words_that_need_three_fixes_fit_no_pattern(word):
    # Car badges: every 7-letter word needs at least 3 letters made digits to fit AAA9A99 or AAA9999.
    m = PlateFormats("br").apply(word)
    assert m == FormatMatch(word, "", False, 0)


def test_max_fixes_from_the_format_file(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"to_letter": {"0": "O"}, "to_digit": {"O": "0", "I": "1"},
                                "countries": {"zz": {"zz": ["A999"]}}, "settings": {"zz": {"max_fixes": 1}}}))
    f = PlateFormats("zz", path=str(path))
    assert f.apply("AO99").text == "A099" and f.apply("AO99").fixes == 1
    assert not f.apply("AOI9").matches_template  # two fixes, one allowed
    assert PlateFormats("br").apply("ABCI2S4").text == "ABC1254"  # Brazil allows two


def test_br_regions():
    f = PlateFormats("br")
    assert f.apply("ABC1234").region == "br"
    assert f.apply("ABC1D23").region == "br-mercosur"


def test_no_match_keeps_text():
    m = PlateFormats("br").apply("AB12")
    assert m == FormatMatch("AB12", "", False, 0)


@pytest.mark.parametrize("text", [None, 1234, b"AB12"])
def test_apply_needs_a_str(text):
    with pytest.raises(TypeError, match="text must be a str"):  # None was once read as the plate 'NONE'
        PlateFormats("br").apply(text)


def test_eu_fixes_only_unsure_characters():
    f = PlateFormats("eu")
    # "RK7S5AJ": no EU pattern fits as read; S at position 3 should be 5 (AA999AA)
    sure = f.apply("RK7S5AJ", [0.99] * 7)
    assert sure.text == "RK7S5AJ" and not sure.matches_template
    unsure = f.apply("RK7S5AJ", [0.99, 0.99, 0.99, 0.4, 0.99, 0.99, 0.99])
    assert unsure.text == "RK755AJ" and unsure.matches_template


def test_no_country_never_changes_text_but_reports_region():
    f = PlateFormats(None)
    assert f.apply("A8C1234").text == "A8C1234"
    m = f.apply("ABC1234")
    assert m.matches_template and m.region


def test_region_preference():
    f = PlateFormats("eu", region="hr")
    m = f.apply("RK755AJ")
    assert m.region == "hr" and m.matches_template
    f.set_region(None)
    assert f.region is None
    with pytest.raises(ValueError, match="region"):
        f.set_region("atlantis")


def test_matches_is_strict():
    f = PlateFormats("br")
    assert f.matches("ABC1234")
    assert not f.matches("A8C1234")


def test_matches_agrees_with_apply_when_a_region_is_preferred():
    # apply falls back to every region of the country; matches once looked at the preferred region only, so
    # Alpr("gb") marked a plate as fitting and an alternative of the same shape as not.
    f = PlateFormats("eu", region="gb")
    assert not f._best("KL482TJ", ["gb"], None, False)
    assert f.apply("KL482TJ").matches_template and f.matches("KL482TJ")


def test_bad_country():
    with pytest.raises(ValueError, match="country"):
        PlateFormats("xx")
    with pytest.raises(ValueError, match="country"):
        PlateFormats(3)


def test_pattern_expansion():
    assert [len(s) for s in _expand("A{1,3}9")] == [2, 3, 4]
    seq = _expand("[EH]9")[0]
    assert seq[0] == frozenset("EH") and "5" in seq[1]
    with pytest.raises(ValueError, match="pattern"):
        _expand("A?9")
    with pytest.raises(ValueError, match="pattern"):
        _expand("")


def test_rerank_prefers_template_within_ratio():
    f = PlateFormats("br")
    # the best reading fits no pattern; the second fits and is close enough -> it wins
    ranked = f.rerank([("ABC12345", 0.5), ("ABC1234", 0.4)])
    assert ranked[0][0] == "ABC1234"
    assert ranked[0][2].matches_template
    # duplicates after fixing collapse to one entry
    ranked = f.rerank([("ABC1234", 0.9), ("A8C1234", 0.05)])
    assert [t for t, _, _ in ranked] == ["ABC1234"]


def test_rerank_keeps_confident_non_template_reading_for_eu():
    f = PlateFormats("eu")
    ranked = f.rerank([("GWAGEN", 0.95), ("GWAGEN1", 0.01)])
    assert ranked[0][0] == "GWAGEN"


def test_custom_format_file(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"to_letter": {"0": "O"}, "to_digit": {"O": "0"},
                                "countries": {"zz": {"zz": ["A99"]}}}))
    f = PlateFormats("zz", path=str(path))
    assert f.apply("A0O").text == "A00"


def test_fold_o0():
    assert fold_o0("RKO99AN") == "RK099AN"


def test_remembered_readings_follow_region_and_confidences():
    """apply() remembers outcomes; other character confidences or another region still change them."""
    f = PlateFormats("eu")
    for _ in range(2):  # the second round is answered from memory
        assert f.apply("RK7S5AJ", [0.99] * 7) == FormatMatch("RK7S5AJ", "", False, 0)  # sure 'S': not fixed
        assert f.apply("RK7S5AJ", [0.5] * 7) == FormatMatch("RK755AJ", "pl", True, 1)
        assert f.apply("AB123CD").region == "pl"
    f.set_region("it")
    assert f.apply("AB123CD").region == "it"
    f.set_region(None)
    assert f.apply("AB123CD").region == "pl"


def test_a_region_changed_mid_apply_is_not_remembered_under_the_wrong_region():
    # Another thread's set_region between apply() making its memory key and matching stored the other
    # region's outcome under this one's key (Alpr.set_default_region while reading), for good.
    f = PlateFormats("eu")

    class Memo(dict):
        def get(self, key, default=None):
            f.set_region("it")  # as another thread would, right after the key was made
            return super().get(key, default)

    f._memo = Memo()
    f.apply("AB123CD")
    f._memo = dict(f._memo)
    f.set_region(None)
    assert f.apply("AB123CD") == PlateFormats("eu").apply("AB123CD")  # region "pl", not "it"


@pytest.mark.parametrize("settings, message", [
    ({"max_fixes": "two"}, "max_fixes must be a whole number"),
    ({"max_fixes": -1}, "max_fixes must be a whole number"),
    ({"fix_below": "x"}, "fix_below must be a number"),
    ({"require_template": "false"}, "require_template must be true or false"),  # bool("false") is True
    ({"min_confidence_unmatched": [0.9]}, "min_confidence_unmatched must be a number"),
    ({"max_fix": 2}, "unknown setting 'max_fix'"),  # a typo would otherwise change nothing, silently
    ({"min_confidence_unmatched": 1.5}, r"min_confidence_unmatched must be a number in \[0, 1\]"),
    ({"o_as_zero": 1}, "o_as_zero must be true or false"),
])
def test_bad_settings_in_a_format_file_name_the_setting(tmp_path, settings, message):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"countries": {"zz": {"zz": ["A99"]}, "yy": {"yy": ["A9"]}},
                                "settings": {"yy": settings}}))
    for country in ("zz", "yy", None):  # every country's entry is checked, whichever is read
        with pytest.raises(ValueError, match=message):
            PlateFormats(country, path=str(path))


def test_settings_for_a_country_the_file_does_not_have_are_refused(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"countries": {"br": {"br": ["AAA9999"]}}, "settings": {"bra": {"max_fixes": 1}}}))
    with pytest.raises(ValueError, match="'bra': no such country"):
        PlateFormats("br", path=str(path))


def _write(tmp_path, countries, **extra):
    import json

    path = tmp_path / "formats.json"
    path.write_text(json.dumps({"countries": countries, **extra}))
    return str(path)


@pytest.mark.parametrize("countries, match", [
    ({"xx": {"r": "AAA999"}}, "list of pattern strings"),  # a string was once split into 1-char patterns
    ({"xx": {"r": ["9{0}"]}}, "1 <= m <= n"),  # made "" a plate
    ({"xx": {"r": ["A{0,2}"]}}, "1 <= m <= n"),
    ({"xx": {"r": ["A{5,2}"]}}, "1 <= m <= n"),  # silently no patterns
    ({"xx": {"r": ["A{1,1000}"]}}, "too open"),  # took 22 s to expand
    ({"xx": {"r": ["A{1,10}9{1,10}A{1,10}9{1,10}"]}}, "too open"),
    ({"XX": {"r": ["AAA999"]}}, "lowercase"),
    ({"xx": ["AAA999"]}, "lowercase name mapped"),
    ({}, "countries"),
])
def test_format_files_with_bad_structure_are_named(tmp_path, countries, match):
    with pytest.raises(ValueError, match=match) as info:
        PlateFormats("xx", path=_write(tmp_path, countries))
    assert "format file" in str(info.value)


def test_format_files_that_are_not_json_are_named(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="broken.json is not valid JSON"):
        PlateFormats(None, path=str(path))


def test_only_ascii_letters_are_uppercased():
    # "ı".upper() is "I" and "ß".upper() is "SS" (a character more): such readings are not plates.
    f = PlateFormats("br")
    assert f.matches("abc1234") and not f.matches("ıBC1234")
    assert not f.apply("ıBC1234").matches_template
    assert plate_text("abß-12") == "ABß12"


def test_rerank_checks_top_n():
    with pytest.raises(ValueError, match="top_n"):
        PlateFormats("br").rerank([("ABC1234", 0.9)], top_n=-1)


def test_o_as_zero_writes_the_letter_o_as_the_digit_after_matching(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"countries": {"zz": {"zz": ["AAA999"]}}, "settings": {"zz": {"o_as_zero": True}}}))
    f = PlateFormats("zz", path=str(path))
    m = f.apply("OCA069")
    # The pattern still saw the letter (it fits as read); what is returned spells it 0.
    assert (m.text, m.matches_template, m.fixes) == ("0CA069", True, 0)
    assert f.apply("O0O").text == "000"
    # Candidates that differ only by O/0 become one.
    assert [t for t, _, _ in f.rerank([("OCA069", 0.6), ("0CA069", 0.3)])] == ["0CA069"]
    # What is returned still matches (OpenALPR's output marks candidates by matches()).
    assert f.matches("0CB069") and not f.matches("0CB0690")
    # Off by default (the shipped file sets it for no country: HISTORY, seventeenth session).
    plain = tmp_path / "plain.json"  # another path: a file is read once per process
    plain.write_text(json.dumps({"countries": {"zz": {"zz": ["AAA999"]}}}))
    assert PlateFormats("zz", path=str(plain)).apply("OCA069").text == "OCA069"
    assert not PlateFormats("zz", path=str(plain)).matches("0CB069")  # off: a 0 is a digit
    assert not any(PlateFormats(country).o_as_zero for country in countries())
