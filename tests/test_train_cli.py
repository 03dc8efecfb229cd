"""The training commands refuse bad arguments at once, with argparse's usage error (exit 2), before any
work: a missing --init checkpoint once stopped a run with a traceback after creating its --out folder."""
import pytest

pytest.importorskip("torch")


def _error(main, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_train_checks_init_until_and_data(tmp_path, capsys, monkeypatch):
    from fastplate.train import data, train

    out = tmp_path / "run"
    assert "--init checkpoint not found" in _error(train.main, ["--init", str(tmp_path / "no.pt"), "--out", str(out)],
                                                   capsys)
    assert "--until must be HH:MM" in _error(train.main, ["--until", "16", "--out", str(out)], capsys)
    monkeypatch.setattr(data, "DATA_DIR", str(tmp_path / "nowhere"))
    assert "FASTPLATE_DATA" in _error(train.main, ["--out", str(out)], capsys)
    assert not out.exists()


def test_export_soup_evaluate_and_gate_check_their_arguments(tmp_path, capsys, monkeypatch):
    from fastplate.train import data, evaluate, export, gate, soup

    missing = str(tmp_path / "no.pt")
    assert "checkpoint not found" in _error(export.main, [missing, "--out", str(tmp_path)], capsys)
    assert "checkpoint not found" in _error(soup.main, [missing, missing + "2", "--out", str(tmp_path / "s.pt")], capsys)
    assert "invalid choice" in _error(evaluate.main, ["--sets", "nosuchset"], capsys)
    assert "unknown source" in _error(gate.main, ["--exclude", "foo", "--out", str(tmp_path)], capsys)
    monkeypatch.setattr(data, "DATA_DIR", str(tmp_path / "nowhere"))
    assert "FASTPLATE_DATA" in _error(evaluate.main, ["--no-peer"], capsys)


@pytest.mark.parametrize("argv, message", [
    (["--minutes", "0"], "--minutes: must be > 0"),  # was read as "not given": a 90-minute run
    (["--minutes", "-1"], "--minutes: must be > 0"),
    (["--minutes", "inf"], "--minutes: must be > 0"),  # passed, then failed after making --out
    (["--until", ""], "--until must be HH:MM"),
    (["--lr", "0"], "--lr: must be > 0"),
    (["--batch-size", "0"], "--batch-size: must be >= 1"),
    (["--real-fraction", "2"], "--real-fraction: must be >= 0 and <= 1"),
    (["--width", "0"], "--width: must be > 0"),
    (["--hidden", "0"], "--hidden: must be >= 1"),
    (["--threads", "0"], "--threads: must be >= 1"),
    (["--workers", "-1"], "--workers: must be >= 0"),
    (["--checkpoint-minutes", "-1"], "--checkpoint-minutes: must be > 0"),
    (["--splice", "nan"], "--splice: must be"),
    (["--real-lighting", "1.5"], "--real-lighting: must be >= 0 and <= 1"),
    (["--resume"], "does not exist (the run made no checkpoint yet)"),  # was: a fresh 90-minute run
])
def test_train_refuses_bad_values_before_any_work(tmp_path, capsys, argv, message):
    from fastplate.train import train

    out = tmp_path / "run"
    assert message in _error(train.main, argv + ["--out", str(out)], capsys)
    assert not out.exists()


def test_bad_checkpoint_files_are_named_not_tracebacks(tmp_path, capsys):
    import torch

    from fastplate.train import export, soup, train
    from fastplate.train.model import PlateNet

    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    good = tmp_path / "good.pt"
    net = PlateNet(0.5, 16)
    torch.save({"ema": net.state_dict(), "model": net.state_dict(), "model_config": net.config, "step": 1}, good)
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    wide = tmp_path / "wide.pt"
    net = PlateNet(0.75, 16)
    torch.save({"ema": net.state_dict(), "model_config": net.config, "step": 1}, wide)

    out = tmp_path / "run"
    assert "--init checkpoint" in _error(train.main, ["--init", str(text), "--out", str(out)], capsys)
    run = tmp_path / "resumable"
    run.mkdir()
    (run / "last.pt").write_bytes(truncated.read_bytes())
    assert "not a fastplate training checkpoint" in _error(train.main, ["--resume", "--out", str(run)], capsys)
    (run / "last.pt").write_bytes(good.read_bytes())  # a soup-like file: no optimizer state to resume
    assert "use it with --init" in _error(train.main, ["--resume", "--out", str(run)], capsys)
    assert not out.exists()

    for bad in (text, truncated, tmp_path):
        assert "checkpoint" in _error(export.main, [str(bad), "--out", str(tmp_path / "exp")], capsys)
    assert "is a file" in _error(export.main, [str(good), "--out", str(text)], capsys)

    s = str(tmp_path / "soup.pt")
    assert "at least two" in _error(soup.main, [str(good), "--out", s], capsys)
    assert "named twice" in _error(soup.main, [str(good), str(good), "--out", s], capsys)
    assert "another architecture" in _error(soup.main, [str(good), str(wide), "--out", s], capsys)
    assert "not a fastplate training checkpoint" in _error(soup.main, [str(good), str(truncated), "--out", s],
                                                            capsys)
    assert "is a folder" in _error(soup.main, [str(good), str(wide), "--out", str(tmp_path)], capsys)


def test_evaluate_and_gate_name_bad_model_and_data_files(tmp_path, capsys):
    from fastplate.train import evaluate, gate

    assert "--model: model file not found" in _error(evaluate.main, ["--model", str(tmp_path / "no.onnx")], capsys)
    assert "--epochs: must be >= 1" in _error(gate.main, ["--epochs", "0", "--out", str(tmp_path)], capsys)
    assert "must name a .npz file" in _error(gate.main, ["--data", str(tmp_path / "cands"), "--out", str(tmp_path)],
                                              capsys)
    bad = tmp_path / "cands.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert "is not collected gate data" in _error(gate.main, ["--data", str(bad), "--out", str(tmp_path)], capsys)


def test_outputs_that_cannot_be_written_are_refused_at_once(tmp_path, capsys):
    # They once stopped a command with a traceback when it came to write: for recipe, after hours of training.
    from fastplate.train import recipe, soup, train, widen

    a_file = tmp_path / "afile.txt"
    a_file.write_text("x")
    inside = str(a_file / "sub")
    assert "is a file, not a folder" in _error(train.main, ["--out", inside, "--minutes", "1"], capsys)
    assert "is a file, not a folder" in _error(soup.main, ["a.pt", "b.pt", "--out", inside + "/s.pt"], capsys)
    assert "is a file, not a folder" in _error(widen.main, ["m.onnx", "--width", "1", "--out", inside], capsys)
    assert "--models" in _error(recipe.main, ["--models", str(a_file), "--runs", str(tmp_path / "runs")], capsys)
    assert "--runs" in _error(recipe.main, ["--runs", str(a_file)], capsys)
    assert "is empty" in _error(soup.main, ["a.pt", "b.pt", "--out", ""], capsys)
    assert "is a file" in _error(soup.main, ["a.pt", "b.pt", "--out", str(a_file) + "/../s.pt"], capsys)
    from fastplate.train import evaluate

    assert "--json" in _error(evaluate.main, ["--no-peer", "--sets", "scenes-eu", "--json", str(tmp_path)], capsys)


def test_train_does_not_overwrite_a_run_without_resume(tmp_path, capsys):
    from fastplate.train import train

    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "last.pt").write_bytes(b"a run")
    assert "--resume" in _error(train.main, ["--out", str(tmp_path / "run"), "--minutes", "1"], capsys)
    assert (tmp_path / "run" / "last.pt").read_bytes() == b"a run"


def test_a_data_folder_without_the_sets_is_refused(tmp_path, capsys, monkeypatch):
    from fastplate.train import data, evaluate, train

    (tmp_path / "data" / "scenes-eu").mkdir(parents=True)
    monkeypatch.setattr(data, "DATA_DIR", str(tmp_path / "data"))
    assert "has no us-crops, br-crops, scenes-br" in _error(train.main, ["--out", str(tmp_path / "r")], capsys)
    assert not (tmp_path / "r").exists()
    assert data.data_error(sets=("scenes-eu",)) is None
    assert "has no us-crops" in _error(evaluate.main, ["--no-peer", "--sets", "us-crops"], capsys)


def test_spans_names_bad_models_and_configs(tmp_path, capsys):
    import json
    from importlib import resources

    from fastplate.train import spans

    shipped = str(resources.files("fastplate.models") / "recognizer.onnx")
    config = tmp_path / "c.json"
    config.write_text("[1, 2]")
    assert "not a JSON object" in _error(spans.main, [shipped, "--config", str(config)], capsys)
    config.write_text("{not json")
    assert "cannot be read as JSON" in _error(spans.main, [shipped, "--config", str(config)], capsys)
    config.write_text(json.dumps({"name": "x"}))
    not_a_model = tmp_path / "m.onnx"
    not_a_model.write_bytes(b"not a model")
    assert "m.onnx" in _error(spans.main, [str(not_a_model), "--config", str(config)], capsys)
    assert json.loads(config.read_text()) == {"name": "x"}  # left as it was


def test_a_run_resumes_only_with_the_options_it_was_started_with(tmp_path, capsys):
    # --lr sets every step's learning rate and --seed the data stream: resuming with others made a run of
    # neither recipe, silently. The budget, threads and checkpoint interval may change.
    import torch

    from fastplate.train import train
    from fastplate.train.model import PlateNet

    net = PlateNet()
    out = tmp_path / "run"
    out.mkdir()
    started = {"init": "runs/soup.pt", "lr": 5e-4, "seed": 6, "small_plates": True, "reader_crops": 0.5,
               "batch_size": 64, "real_fraction": 0.5, "width": 1.0, "hidden": 128, "splice": 0.0,
               "real_lighting": 0.0, "threads": 1}
    opt = torch.optim.AdamW(net.parameters())
    torch.save({"model": net.state_dict(), "ema": net.state_dict(), "opt": opt.state_dict(), "model_config": net.config,
                "step": 10, "best": 0.0, "start": 0.0, "end": 1.0, "saved": 0.5, "args": started}, out / "last.pt")
    err = _error(train.main, ["--out", str(out), "--resume", "--lr", "1e-3", "--seed", "6", "--small-plates",
                              "--reader-crops", "0.5"], capsys)
    assert "started with other options (--lr 0.0005 -> 0.001)" in err and "--seed 6" not in err
    err = _error(train.main, ["--out", str(out), "--resume"], capsys)  # the defaults are other options too
    assert "--lr 0.0005 -> 0.002" in err and "--seed 6 -> 0" in err and "--small-plates True -> False" in err
    assert "--init" not in err.split("error:")[1]  # a resumed run does not start from --init again
    assert "must be >= 0" in _error(train.main, ["--out", str(tmp_path / "n"), "--seed", "-3"], capsys)
    assert not (tmp_path / "n").exists()


def test_backgrounds_are_needed_to_train_not_to_evaluate(tmp_path, monkeypatch):
    from fastplate.train import data

    for name in data.SETS:
        (tmp_path / name).mkdir()
        if name.endswith("-crops"):
            (tmp_path / name / "labels.csv").write_text("file,region,plate\n")
    assert data.data_error(str(tmp_path)) is None  # evaluate's check
    assert "backgrounds" in data.data_error(str(tmp_path), backgrounds=True)
    (tmp_path / "backgrounds").mkdir()
    (tmp_path / "backgrounds" / "a.jpg").write_bytes(b"")
    assert data.data_error(str(tmp_path), backgrounds=True) is None
