"""The fastplate command: read (text and JSON), eval, bench, errors and exit statuses."""
import io
import os
import json
import sys
from importlib import resources

import cv2
import numpy as np
import pytest
from fake_recognizer import FakeRecognizer

from fastplate import cli
from fastplate.reader import Reader
from fastplate.samples import sample_path, sample_truth, synthetic_scene


@pytest.fixture
def scenes(tmp_path):
    """Three synthetic scenes as JPEG files, plus OpenALPR benchmark labels."""
    truths = []
    for i in range(3):
        image, truth = synthetic_scene(20 + i)
        path = tmp_path / f"car{i}.jpg"
        cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        (text, quad), = truth
        x0, y0 = quad.min(axis=0)
        x1, y1 = quad.max(axis=0)
        (tmp_path / f"car{i}.txt").write_text(
            f"car{i}.jpg\t{int(x0)}\t{int(y0)}\t{int(x1 - x0)}\t{int(y1 - y0)}\t{text}\n")
        truths.append(truth)
    return tmp_path, [t for tr in truths for t in tr]


@pytest.fixture
def fake_reader(monkeypatch):
    """Make the CLI build Readers around a fake recognizer that knows ``truth``."""
    state = {}

    def install(truth):
        def make(args, threads=None, recognizer_threads=None):
            return Reader(args.country, recognizer=FakeRecognizer(truth), top_n=args.top_n, threads=threads)

        monkeypatch.setattr(cli, "_make_reader", make)
        state["truth"] = truth

    return install


def test_read_text_output(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    assert cli.main(["read", str(folder)]) == 0
    out = capsys.readouterr().out
    for text, _ in truth:
        assert text in out
    assert out.count("plate0:") == 3


def test_read_json_lines_schema(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    files = sorted(str(p) for p in folder.glob("*.jpg"))
    assert cli.main(["read", *files, "--json", "-n", "3", "--batch-size", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, files):
        rec = json.loads(line)
        assert rec["file"] == name
        assert {"version", "data_type", "epoch_time", "img_width", "img_height", "processing_time_ms",
                "regions_of_interest", "results"} <= set(rec)
        assert rec["img_width"] == 640 and rec["img_height"] == 480
        (r,) = rec["results"]
        assert r["requested_topn"] == 3 and len(r["coordinates"]) == 4
        assert r["plate"] in {t for t, _ in truth}


def test_format_openalpr_equals_json(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    cli.main(["read", str(folder / "car0.jpg"), "--format", "openalpr"])
    a = json.loads(capsys.readouterr().out)
    cli.main(["read", str(folder / "car0.jpg"), "--json"])
    b = json.loads(capsys.readouterr().out)
    for rec in (a, b):
        rec.pop("epoch_time"), rec.pop("processing_time_ms")
        for r in rec["results"]:
            r.pop("processing_time_ms")
    assert a == b


def test_bad_file_reports_and_continues(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xffnot really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    status = cli.main(["read", str(folder), str(folder / "missing.jpg"), "--json"])
    assert status == 1
    captured = capsys.readouterr()
    records = [json.loads(line) for line in captured.out.strip().splitlines()]
    errors = {r["file"] for r in records if "error" in r}
    assert {str(folder / "broken.jpg"), str(folder / "empty.png"), str(folder / "missing.jpg")} == errors
    assert sum(1 for r in records if "error" not in r) == 3  # the good files were still read
    assert "broken.jpg" in captured.err and "missing.jpg" in captured.err
    # An error line has OpenALPR's keys with no plates (code reading record["results"] goes on).
    for r in records:
        if "error" in r:
            assert r["results"] == [] and r["img_width"] == 0 and r["data_type"] == "alpr_results"


def test_json_lines_follow_the_order_given_errors_included(scenes, fake_reader, capsys):
    # An error line came out before the results of the files given earlier in its batch.
    folder, truth = scenes
    fake_reader(truth)
    files = [str(folder / "car0.jpg"), str(folder / "nope.jpg"), str(folder / "car1.jpg"), str(folder / "car2.jpg")]
    assert cli.main(["read", *files, "--json", "--batch-size", "3"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["file"] for r in records] == files
    assert ["error" in r for r in records] == [False, True, False, False]


def test_read_sample(fake_reader, capsys):
    truth = [(t["plate"], np.array(t["quad"])) for t in sample_truth()]
    fake_reader(truth)
    assert cli.main(["read", "--sample"]) == 0
    out = capsys.readouterr().out
    assert sample_truth()[0]["plate"] in out
    assert str(sample_path()) in out


def test_read_without_images(capsys):
    assert cli.main(["read"]) == 2
    assert "no images" in capsys.readouterr().err


def test_eval_scores_a_benchmark_folder(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    assert cli.main(["eval", str(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["images"] == 3 and summary["plates"] == 3
    assert summary["detection"] == 1.0 and summary["top1"] == 1.0 and summary["top1_folded"] == 1.0
    assert summary["top10"] == 1.0
    assert summary["false_per_image"] == 0.0
    assert summary["median_ms"] > 0 and summary["p90_ms"] >= summary["median_ms"]
    assert cli.main(["eval", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "top-1" in text and "100.0 %" in text


def test_eval_counts_misreads_and_false_results(scenes, fake_reader, capsys):
    folder, truth = scenes
    # wrong text for the first plate; the label file of the second names a place with no plate
    wrong = [(truth[0][0][:-1] + ("A" if truth[0][0][-1] != "A" else "B"), truth[0][1])] + truth[1:]
    fake_reader(wrong)
    line = (folder / "car1.txt").read_text().split("\t")
    (folder / "car1.txt").write_text("\t".join([line[0], "0", "0", "20", "10", line[5]]))
    assert cli.main(["eval", str(folder), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["detection"] == pytest.approx(2 / 3)
    assert s["top1"] == pytest.approx(1 / 3)
    assert s["false_per_image"] == pytest.approx(1 / 3)
    assert "errors" not in s
    assert cli.main(["eval", str(folder), "--json", "--show-errors"]) == 0
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert {"file": "car0.jpg", "expected": truth[0][0], "got": wrong[0][0]} in errors
    assert any(e["file"] == "car1.jpg" and e["expected"] is None for e in errors)  # a false result


def test_eval_missing_folder(tmp_path, capsys):
    assert cli.main(["eval", str(tmp_path / "nope")]) == 2
    assert cli.main(["eval", str(tmp_path)]) == 2  # no labels
    assert "no labelled images" in capsys.readouterr().err


def test_score_image_folds_o0():
    from fastplate.types import Plate

    plate = Plate("RK099AN", 0.9, ((0, 0), (100, 0), (100, 20), (0, 20)), (0, 0, 100, 20),
                  candidates=(("RK099AN", 0.9), ("RKO99AN", 0.05)))
    s = cli.score_image([plate], [((0, 0, 100, 20), "RKO99AN")], top_n=10)
    assert s["top1"] == 0 and s["top1_folded"] == 1 and s["topn"] == 1


def test_progress_bar_draws_on_request(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    bar = cli.Progress(4, enabled=True, width=8)
    bar.update(2)
    bar.close()
    assert "[####....] 2/4" in err.getvalue()
    err2 = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err2)
    quiet = cli.Progress(4)  # StringIO is not a terminal
    quiet.update()
    quiet.close()
    assert err2.getvalue() == ""


def test_results_on_a_terminal_never_share_the_progress_bars_line(scenes, fake_reader, monkeypatch):
    # stdout and stderr on one terminal: each result and error line starts on a line the bar left clean.
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    folder, truth = scenes
    fake_reader(truth)
    screen = Terminal()
    monkeypatch.setattr(sys, "stdout", screen)
    monkeypatch.setattr(sys, "stderr", screen)
    files = [str(folder / name) for name in ("car0.jpg", "car1.jpg", "nope.jpg", "car2.jpg")]
    assert cli.main(["read", *files]) == 1
    shown = screen.getvalue()
    assert "img/s" in shown  # the bar was drawn
    for line in shown.split("\n"):
        visible = line.split("\r")[-1]  # what a carriage return leaves on the line
        if ".jpg" in line:  # a result's first line names its file, as does an error
            assert visible.startswith("\033[K") or "img/s" not in line, repr(line)


@pytest.mark.parametrize("argv, message", [
    (["read", "x.jpg", "-n", "0"], "fastplate read: error: argument -n/--top-n: must be >= 1"),
    (["read", "x.jpg", "--batch-size", "0"], "fastplate read: error: argument --batch-size: must be >= 1"),
    (["read", "x.jpg", "--threads", "two"], "must be a whole number"),
    (["read", "x.jpg", "-c", "usa"], "argument -c/--country: must be one of br, eu, us or none, or an OpenALPR"),
    (["bench", "-c", "usa"], "fastplate bench: error: argument -c/--country"),
    (["bench", "--images", "0"], "fastplate bench: error: argument --images: must be >= 1"),
    (["bench", "--seconds", "-1"], "fastplate bench: error: argument --seconds: must be > 0"),
    (["bench", "--seconds", "inf"], "fastplate bench: error: argument --seconds"),
    (["read", "x.jpg", "--json", "--format", "text"], "--json and --format text"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_format_and_json_mean_the_same(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    outs = []
    for flags in (["--json"], ["--format", "json"], ["--format", "openalpr"], ["--json", "--format", "openalpr"]):
        assert cli.main(["read", str(folder / "car0.jpg"), *flags]) == 0
        rec = json.loads(capsys.readouterr().out)
        outs.append([r["plate"] for r in rec["results"]])
    assert outs[0] == outs[1] == outs[2] == outs[3] == [truth[0][0]]


def test_read_from_standard_input(scenes, fake_reader, capsys, monkeypatch):
    folder, truth = scenes
    fake_reader(truth)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((folder / "car1.jpg").read_bytes())))
    assert cli.main(["read", "-", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["file"] == "-" and [r["plate"] for r in rec["results"]] == [truth[1][0]]


def test_a_bad_backend_setting_is_one_line_and_help_still_works(tmp_path):
    # FASTPLATE_BACKEND was read when fastplate was imported, so every command (even --help) showed a
    # traceback; it is read where a kernel is first needed.
    import os
    import subprocess

    env = dict(os.environ, FASTPLATE_BACKEND="bogus")
    run = [sys.executable, "-c", "import sys; from fastplate.cli import main; sys.exit(main(sys.argv[1:]))"]
    helped = subprocess.run(run + ["read", "--help"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert helped.returncode == 0 and "IMAGE_OR_DIR" in helped.stdout
    failed = subprocess.run(run + ["read", "--sample"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "FASTPLATE_BACKEND must be one of" in failed.stderr


def test_bench_runs_on_shipped_samples(fake_reader, capsys):
    fake_reader([(t["plate"], np.array(t["quad"])) for t in sample_truth()])
    assert cli.main(["bench", "--seconds", "0.05", "--images", "2"]) == 0
    out = capsys.readouterr().out
    assert "images/s" in out and "plates/s" in out


def test_sample_is_shipped():
    assert sample_path().exists()
    assert resources.files("fastplate.data").joinpath("sample.json").is_file()
    image = cv2.imread(str(sample_path()))
    assert image is not None and image.shape == (720, 1280, 3)


def _model_available():
    try:
        from fastplate.recognizer import Recognizer  # noqa: F401
    except Exception:  # noqa: BLE001
        return False
    return resources.files("fastplate.models").joinpath("recognizer.onnx").is_file()


@pytest.mark.skipif(not _model_available(), reason="the trained recognizer (fastplate/models/recognizer.onnx) is not built yet")
def test_quickstart_reads_the_sample_with_the_shipped_model(capsys):
    assert cli.main(["read", "--sample"]) == 0
    assert sample_truth()[0]["plate"] in capsys.readouterr().out


def test_eval_split_keeps_only_that_split(scenes, fake_reader, capsys, monkeypatch):
    from fastplate.train.split import is_val

    # The split needs none of the training dependencies (it failed with "No module named 'PIL'"): Pillow
    # and the training modules that draw with it are made unimportable here.
    monkeypatch.setitem(sys.modules, "PIL", None)
    for name in ("fastplate.train.data", "fastplate.train.synth"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    folder, truth = scenes
    fake_reader(truth)
    n_val = sum(is_val(t) for t, _ in truth)
    for split, expected in (("val", n_val), ("train", len(truth) - n_val)):
        status = cli.main(["eval", str(folder), "--json", "--split", split])
        out = capsys.readouterr().out
        if expected == 0:
            assert status == 2
        else:
            assert status == 0 and json.loads(out)["images"] == expected


def test_eval_reports_what_it_skips_and_reads_plate_free_images(scenes, fake_reader, capsys):
    # Malformed label files were skipped without a word; an empty one (a plate-free image) was dropped, so
    # false results could not be measured on plate-free frames.
    folder, truth = scenes
    fake_reader(truth)
    image = cv2.imread(str(folder / "car0.jpg"))
    for name in ("bad_fields", "bad_number", "bad_box", "no_labels", "empty"):
        cv2.imwrite(str(folder / f"{name}.jpg"), image)
    (folder / "bad_fields.txt").write_text("bad_fields.jpg\t1\t2\t3\n")
    (folder / "bad_number.txt").write_text("bad_number.jpg\t1\tx\t30\t10\tAB123\n")
    (folder / "bad_box.txt").write_text("bad_box.jpg\t1\t2\tnan\t10\tAB123\n")
    (folder / "lost.txt").write_text("lost.jpg\t1\t2\t30\t10\tAB123\n")
    (folder / "empty.txt").write_text("")
    assert cli.main(["eval", str(folder), "--json"]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out)
    for name in ("bad_fields.txt", "bad_number.txt", "bad_box.txt", "lost.jpg is missing", "no_labels.jpg"):
        assert name in err
    # the 3 labelled scenes and the plate-free copy of car0, whose plate is then a false result
    assert summary["images"] == 4 and summary["plates"] == 3 and summary["skipped"] >= 5
    assert summary["false_per_image"] == pytest.approx(1 / 4)


def test_eval_labels_are_compared_without_spaces_and_dashes(scenes, fake_reader, capsys):
    folder, truth = scenes
    fake_reader(truth)
    line = (folder / "car0.txt").read_text().rstrip("\n").split("\t")
    text = line[5]
    (folder / "car0.txt").write_text("\t".join(line[:5] + [f"{text[:2].lower()}-{text[2:4]} {text[4:]}"]) + "\n")
    assert cli.main(["eval", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] == 1.0


def test_eval_says_when_no_image_is_in_the_split(scenes, fake_reader, capsys):
    pytest.importorskip("PIL")
    from fastplate.train.data import is_val

    folder, truth = scenes
    fake_reader(truth)
    split = "train" if all(is_val(t) for t, _ in truth) else "val" if not any(is_val(t) for t, _ in truth) else None
    if split is None:  # mixed: keep only the plates of one split
        for i, (t, _) in enumerate(truth):
            if is_val(t):
                (folder / f"car{i}.txt").unlink()
                (folder / f"car{i}.jpg").unlink()
        split = "val"
    assert cli.main(["eval", str(folder), "--split", split]) == 2
    assert f"is in the {split} split" in capsys.readouterr().err


def test_a_file_name_that_is_not_utf8_is_escaped_on_a_strict_stdout(tmp_path):
    # PYTHONIOENCODING=utf-8 makes stdout strict: the undecodable byte of one name (a surrogate in Python)
    # raised UnicodeEncodeError, which ended the run with status 2 before the files after it.
    import os
    import subprocess
    from pathlib import Path

    if sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
        pytest.skip("file names are not decoded as UTF-8 here")
    image, truth = synthetic_scene(20)
    data = cv2.imencode(".jpg", image)[1].tobytes()
    names = ["a.jpg", os.fsdecode(b"bad\xffname.jpg"), "z \u00fc.jpg"]
    try:
        for name in names:
            (tmp_path / name).write_bytes(data)
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses names that are not UTF-8")
    script = ("import sys; sys.path.insert(0, sys.argv.pop(1))\n"
              "from fake_recognizer import FakeRecognizer\n"
              "from fastplate import cli\n"
              "from fastplate.reader import Reader\n"
              "from fastplate.samples import synthetic_scene\n"
              "truth = synthetic_scene(20)[1]\n"
              "cli._make_reader = lambda args, threads=None, recognizer_threads=None: Reader(\n"
              "    args.country, recognizer=FakeRecognizer(truth), top_n=args.top_n, threads=threads)\n"
              "sys.exit(cli.main(sys.argv[1:]))\n")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    run = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent), "read", str(tmp_path), "-n", "1"],
                         env=env, capture_output=True, encoding="utf-8", errors="surrogateescape")
    assert run.returncode == 0, run.stderr
    shown = [line for line in run.stdout.splitlines() if not line.startswith(" ")]
    assert shown == [str(tmp_path / "a.jpg"), str(tmp_path / "bad\\udcffname.jpg"), str(tmp_path / "z \u00fc.jpg")]
    assert run.stdout.count(truth[0][0]) == 3  # every file was read


def test_eval_skips_label_entries_it_cannot_read(scenes, fake_reader, capsys):
    # A folder named x.txt or a broken link gave a traceback (IsADirectoryError, FileNotFoundError).
    folder, truth = scenes
    fake_reader(truth)
    # A FIFO named x.txt hung the run (reading it blocks); one too large to be labels is not read either.
    (folder / "dir.txt").mkdir()
    (folder / "zlink.txt").symlink_to(folder / "gone.txt")
    os.mkfifo(folder / "fifo.txt")
    with open(folder / "huge.txt", "wb") as f:
        f.truncate(cli.MAX_LABEL_BYTES + 1)
    assert cli.main(["eval", str(folder), "--json"]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["images"] == 3 and summary["top1"] == 1.0 and summary["skipped"] == 4
    assert "dir.txt: skipped (not a regular file)" in err and "fifo.txt: skipped (not a regular file)" in err
    assert "huge.txt: skipped (larger than 16 MB: not a label file)" in err
    assert "zlink.txt: skipped (cannot be read: No such file or directory)" in err
    assert "Traceback" not in err


def test_eval_reads_labels_with_a_byte_order_mark(scenes, fake_reader, capsys):
    # Notepad's UTF-8 byte-order mark became part of the first file name ("its image \ufeffcar0.jpg is missing").
    folder, truth = scenes
    fake_reader(truth)
    label = folder / "car0.txt"
    label.write_bytes(b"\xef\xbb\xbf" + label.read_bytes())
    assert cli.main(["eval", str(folder), "--json"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["images"] == 3 and summary["top1"] == 1.0 and summary["skipped"] == 0
    assert err == ""


def test_eval_scores_an_image_named_by_two_label_files_once(scenes, fake_reader, capsys):
    # A second label file naming car0.jpg made eval score car0.jpg twice ("4 images").
    folder, truth = scenes
    fake_reader(truth)
    (folder / "other.txt").write_bytes((folder / "car0.txt").read_bytes())
    assert cli.main(["eval", str(folder), "--json"]) == 1
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert summary["images"] == 3 and summary["plates"] == 3 and summary["skipped"] == 1
    assert "other.txt: skipped (its image car0.jpg is labelled by car0.txt too)" in err


def test_standard_input_is_capped_as_files_are(scenes, fake_reader, capsys, monkeypatch):
    # `fastplate read - < huge` read all of it into memory; files are capped at images.MAX_FILE_BYTES.
    from fastplate import images

    folder, truth = scenes
    fake_reader(truth)
    data = (folder / "car1.jpg").read_bytes()
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 1000)
    assert len(data) > 1001
    stdin = io.BytesIO(data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin))
    assert cli.main(["read", "-", str(folder / "car1.jpg"), "--json"]) == 1
    piped, filed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert piped["file"] == "-" and "too large (more than 1000 bytes)" in piped["error"]
    assert "too large" in filed["error"]  # the same cap
    assert stdin.tell() == 1001  # no more was read


def test_read_echoes_file_arguments_as_given(scenes, fake_reader, capsys, monkeypatch):
    # "./car0.jpg" came back as "car0.jpg" and "sub//car1.jpg" as "sub/car1.jpg": scripts could not match them.
    folder, truth = scenes
    fake_reader(truth)
    (folder / "sub").mkdir()
    (folder / "sub" / "car1.jpg").write_bytes((folder / "car1.jpg").read_bytes())
    monkeypatch.chdir(folder)
    given = ["./car0.jpg", "sub//car1.jpg", "./nope.jpg", "./sub/", "sub"]
    assert cli.main(["read", *given, "--json"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["file"] for r in records] == ["./car0.jpg", "sub//car1.jpg", "./nope.jpg", "./sub/car1.jpg",
                                            "sub/car1.jpg"]
    assert cli.main(["read", "./car0.jpg", "sub//car1.jpg"]) == 0
    shown = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert shown == ["./car0.jpg", "sub//car1.jpg"]


def test_a_broken_link_in_a_folder_is_reported_not_skipped(scenes, fake_reader, capsys):
    # A dangling link inside a folder used to vanish from the run (exit 0), while named directly it is an error.
    folder, truth = scenes
    fake_reader(truth)
    (folder / "a_gone.jpg").symlink_to(folder / "deleted.jpg")
    (folder / "linked_dir.jpg").symlink_to(folder, target_is_directory=True)  # a folder is still not an image
    assert cli.main(["read", str(folder), "--json"]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["file"].rsplit("/", 1)[-1] for r in lines] == ["a_gone.jpg", "car0.jpg", "car1.jpg", "car2.jpg"]
    assert "error" in lines[0] and "a_gone.jpg" in captured.err


@pytest.mark.parametrize("command", ["read", "eval", "bench"])
def test_no_second_look_reaches_the_reader(command, tmp_path):
    extra = {"read": ["x.jpg"], "eval": [str(tmp_path)], "bench": []}[command]
    for flags, want in (([], True), (["--no-second-look"], False)):
        args = cli.build_parser().parse_args([command, *extra, *flags])
        assert cli._make_reader(args, threads=1).second_look is want


def test_ignore_boxes_reach_the_reader(capsys):
    args = cli.build_parser().parse_args(["read", "x.jpg", "--ignore", "0,0,400,40", "--ignore", "10.5,600,50,20"])
    np.testing.assert_array_equal(cli._make_reader(args, threads=1).ignore, [[0, 0, 400, 40], [10.5, 600, 50, 20]])
    assert len(cli._make_reader(cli.build_parser().parse_args(["read", "x.jpg"]), threads=1).ignore) == 0
    for bad in ("1,2,3", "a,b,c,d", "0,0,-1,5", "0,0,nan,5", ""):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["read", "x.jpg", "--ignore", bad])
        assert "X,Y,W,H" in capsys.readouterr().err


def test_an_empty_name_is_a_missing_file_not_the_current_folder(tmp_path, monkeypatch, capsys):
    # Path("") is ".": `fastplate read "$IMG"` with IMG unset read every image of the current folder.
    cv2.imwrite(str(tmp_path / "a.jpg"), np.full((40, 60, 3), 128, np.uint8))
    (tmp_path / "a.txt").write_text("a.jpg\t1\t1\t5\t5\tAB123\n")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["read", ""]) == 1
    captured = capsys.readouterr()
    assert "not found" in captured.err and "a.jpg" not in captured.out
    assert cli.main(["eval", ""]) == 2
    assert "'' is not a folder" in capsys.readouterr().err


def test_openalpr_country_codes_and_dash_j(monkeypatch, capsys):
    # alpr -c gb -j: OpenALPR's country codes are read as its drop-in reads them, and -j is --json.
    made = []
    real = cli._make_reader

    def spy(args, **kwargs):
        reader = real(args, **kwargs)
        made.append((reader.country, reader.formats.region))
        return reader

    monkeypatch.setattr(cli, "_make_reader", spy)
    sample = str(resources.files("fastplate.data") / "sample.jpg")
    for code, want in (("gb", ("eu", "gb")), ("br2", ("br", None)), ("au", (None, None)), ("EU", ("eu", None))):
        assert cli.main(["read", sample, "-c", code, "-j"]) == 0
        assert made[-1] == want
        record = json.loads(capsys.readouterr().out)
        assert record["file"] == sample and "results" in record


def test_bench_rows_and_early_option_errors(fake_reader, capsys, monkeypatch):
    from fastplate import kernels

    fake_reader([(t["plate"], np.array(t["quad"])) for t in sample_truth()])
    monkeypatch.setattr(kernels, "cpu_cores", lambda: 1)
    assert cli.main(["bench", "--seconds", "0.05", "--images", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("images/s") == 1 and "1 thread" in out  # one core: no second row measuring the same
    monkeypatch.setattr(kernels, "cpu_cores", lambda: 2)
    assert cli.main(["bench", "--seconds", "0.05", "--images", "2"]) == 0
    out = capsys.readouterr().out
    assert "one at a time" in out and "2 threads" in out and "all at once" in out


def test_bench_reports_a_bad_option_before_making_images(capsys):
    assert cli.main(["bench", "--min-confidence", "2"]) == 2
    captured = capsys.readouterr()
    assert "min_confidence" in captured.err and "images of 1280x720" not in captured.out
