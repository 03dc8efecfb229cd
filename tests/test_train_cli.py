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
    assert "checkpoint not found" in _error(soup.main, [missing, "--out", str(tmp_path / "s.pt")], capsys)
    assert "invalid choice" in _error(evaluate.main, ["--sets", "nosuchset"], capsys)
    assert "unknown source" in _error(gate.main, ["--exclude", "foo", "--out", str(tmp_path)], capsys)
    monkeypatch.setattr(data, "DATA_DIR", str(tmp_path / "nowhere"))
    assert "FASTPLATE_DATA" in _error(evaluate.main, ["--no-peer"], capsys)
