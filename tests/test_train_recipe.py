"""The one-command recipe of the shipped recognizer: its stages run in order, chain their checkpoints,
resume after an interruption, and export what the last stage made."""
import os

import pytest

pytest.importorskip("torch")
recipe = pytest.importorskip("fastplate.train.recipe")


def _arg(argv, name):
    return argv[argv.index(name) + 1] if name in argv else None


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """Fake training, averaging and export: each records its call and writes the file it would make.

    The data folder is a stand-in (the stages are fakes), so the tests run where the shared data is absent.
    """
    from fastplate.train import data

    for name in data.SETS:  # what the data check looks for
        (tmp_path / "data" / name).mkdir(parents=True)
        if name.endswith("-crops"):
            (tmp_path / "data" / name / "labels.csv").write_text("file,region,plate\n")
    (tmp_path / "data" / "backgrounds").mkdir()
    (tmp_path / "data" / "backgrounds" / "scene.jpg").write_bytes(b"")
    monkeypatch.setattr(data, "DATA_DIR", str(tmp_path / "data"))
    from fastplate.train import synth

    monkeypatch.setattr(synth, "font_problem", lambda: None)  # the fonts are checked below
    # Without --models the recipe exports into the package's models folder: a stand-in here, never the real one.
    monkeypatch.setattr(recipe.export, "MODELS_DIR", str(tmp_path / "package-models"))
    log = []

    def train(argv):
        log.append(("train", list(argv)))
        out = _arg(argv, "--out")
        init = _arg(argv, "--init")
        assert init is None or os.path.exists(init), f"{out} starts from {init}, which no stage made"
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "last.pt"), "a") as f:  # each run's weights differ
            f.write(os.urandom(8).hex() + "\n")

    def soup(argv):
        log.append(("soup", list(argv)))
        inputs = argv[:argv.index("--out")]
        assert all(os.path.exists(p) for p in inputs)
        with open(_arg(argv, "--out"), "w") as f:  # an average of its inputs
            f.write("".join(open(p).read() for p in inputs))

    def export(argv):
        log.append(("export", list(argv)))
        out = _arg(argv, "--out")
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "recognizer.onnx"), "w") as f:
            f.write(open(argv[0]).read())

    monkeypatch.setattr(recipe.train, "main", train)
    monkeypatch.setattr(recipe.soup, "main", soup)
    def gate(argv):
        log.append(("gate", list(argv)))

    monkeypatch.setattr(recipe.export, "main", export)
    monkeypatch.setattr(recipe.gate, "main", gate)
    return log


def test_stages_chain_and_the_last_product_is_exported(tmp_path, calls):
    runs = str(tmp_path / "runs")
    recipe.main(["--runs", runs, "--models", str(tmp_path / "models")])
    trains = [argv for kind, argv in calls if kind == "train"]
    assert len(trains) >= 2
    assert _arg(trains[0], "--init") is None  # the base run starts from scratch
    made = []
    for kind, argv in calls:
        if kind == "train":
            made.append(os.path.join(_arg(argv, "--out"), "last.pt"))
        elif kind == "soup":
            made.append(_arg(argv, "--out"))
    kind, argv = calls[-2]
    assert kind == "export" and argv[0] == made[-1]  # what the last stage made is what ships
    assert _arg(argv, "--out") == str(tmp_path / "models" / ".staging")  # then moved into place
    assert (tmp_path / "models" / "recognizer.onnx").read_text() == open(made[-1]).read()
    assert not (tmp_path / "models" / ".staging").exists()
    kind, argv = calls[-1]  # then the gate, labelled by the recognizer just exported
    assert kind == "gate" and _arg(argv, "--out") == str(tmp_path / "models")
    assert _arg(argv, "--recognizer") == os.path.join(str(tmp_path / "models"), "recognizer.onnx")
    assert _arg(argv, "--data") == os.path.join(runs, "gate_data.npz")
    assert all("--resume" not in argv for argv in trains)
    assert all(os.path.exists(os.path.join(_arg(argv, "--out"), "done")) for argv in trains)


def test_a_second_run_resumes_unfinished_stages_and_skips_done_ones(tmp_path, calls):
    runs = str(tmp_path / "runs")
    recipe.main(["--runs", runs])
    first = [argv for kind, argv in calls if kind == "train"]
    # Interrupt the last training stage: its checkpoint is there, its "done" marker is not.
    os.remove(os.path.join(_arg(first[-1], "--out"), "done"))
    calls.clear()
    recipe.main(["--runs", runs])
    again = [argv for kind, argv in calls if kind == "train"]
    assert len(again) == 1 and _arg(again[0], "--out") == _arg(first[-1], "--out")
    assert "--resume" in again[0] and "--minutes" not in again[0]  # the run keeps its own schedule
    assert [kind for kind, _ in calls[-2:]] == ["export", "gate"]


def test_a_missing_data_folder_stops_before_any_stage(tmp_path, calls, monkeypatch, capsys):
    from fastplate.train import data

    monkeypatch.setattr(data, "DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SystemExit) as e:
        recipe.main(["--runs", str(tmp_path / "runs")])
    assert e.value.code == 2 and calls == []
    assert "FASTPLATE_DATA" in capsys.readouterr().err


def test_a_finished_recipe_run_again_redoes_nothing(tmp_path, calls):
    # The export and the gate were redone on every run, rewriting the shipped files.
    runs = str(tmp_path / "runs")
    recipe.main(["--runs", runs])
    calls.clear()
    recipe.main(["--runs", runs])
    assert [kind for kind, _ in calls] == ["soup", "soup"]  # averages are cheap and made again, equal


def test_a_finished_stage_whose_start_changed_stops_the_recipe(tmp_path, calls):
    # Retraining the base run left the fine-tuning runs "done" from the old one, and the averages mixed runs
    # that share no starting point.
    runs = tmp_path / "runs"
    recipe.main(["--runs", str(runs)])
    (runs / "rec" / "done").unlink()
    (runs / "rec" / "last.pt").unlink()  # the base run trained again from scratch
    calls.clear()
    with pytest.raises(SystemExit, match="ft was finished from other inputs"):
        recipe.main(["--runs", str(runs)])
    assert [kind for kind, _ in calls] == ["train"]


def test_missing_fonts_stop_the_recipe_before_any_stage(tmp_path, calls, monkeypatch, capsys):
    from fastplate.train import synth

    monkeypatch.setattr(synth, "font_problem", lambda: "fonts missing: dejavu (3 of 4); apt-get install ...")
    with pytest.raises(SystemExit):
        recipe.main(["--runs", str(tmp_path / "runs")])
    assert calls == [] and "fonts missing: dejavu" in capsys.readouterr().err


def test_the_same_runs_folder_spelled_another_way_is_the_same_recipe(tmp_path, calls, monkeypatch):
    # The stage records held paths as spelled: "./runs" after "runs" condemned finished training.
    monkeypatch.chdir(tmp_path)
    recipe.main(["--runs", "runs"])
    calls.clear()
    recipe.main(["--runs", "./runs"])
    assert [kind for kind, _ in calls] == ["soup", "soup"]  # nothing trained, exported or gated again
    # A marker cut short while being written counts as "finished" (the stage had finished) for training,
    # and as "not done" for the export and the gate.
    (tmp_path / "runs" / "rec" / "done").write_text('{"opti')
    (tmp_path / "runs" / "export.done").write_text("{")
    calls.clear()
    recipe.main(["--runs", "runs"])
    assert [kind for kind, _ in calls] == ["soup", "soup", "export"]
