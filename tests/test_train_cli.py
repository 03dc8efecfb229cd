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
