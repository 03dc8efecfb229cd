"""Widening a trained recognizer (Net2WiderNet) and rebuilding one from its ONNX export."""
import shutil
from pathlib import Path

import numpy as np
import pytest

import fastplate

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
widen = pytest.importorskip("fastplate.train.widen")
model = pytest.importorskip("fastplate.train.model")
export = pytest.importorskip("fastplate.train.export")


def _trained_like(seed, **config):
    """A PlateNet with random weights and BatchNorm statistics, as after training."""
    torch.manual_seed(seed)
    net = model.PlateNet(**config)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return net.eval()


def _inputs(n=6, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((n, 1, 32, 128), dtype=np.float32))


@pytest.mark.parametrize("width", [0.5, 0.75, 1.0])
def test_widened_network_computes_the_same(width):
    net = _trained_like(1, width=0.5, hidden=32)
    wide = widen.widen(net, width, np.random.default_rng(0))
    assert wide.config["width"] == width and wide.config["hidden"] == 32
    assert sum(p.numel() for p in wide.parameters()) >= sum(p.numel() for p in net.parameters())
    x = _inputs()
    with torch.no_grad():
        assert torch.allclose(wide(x), net(x), atol=1e-4)


def test_copies_get_different_gradients():
    """The copied channels' outgoing weights are split by random shares, so training pulls them apart."""
    net = _trained_like(2, width=0.5, hidden=32)
    wide = widen.widen(net, 1.0, np.random.default_rng(0)).train()
    wide(_inputs(16)).sum().backward()
    grad = wide.features[0][0].weight.grad.flatten(1)  # first conv: 16 channels, 8 of them copies
    assert torch.unique(grad.round(decimals=8), dim=0).shape[0] == grad.shape[0]


def test_refuses_narrowing():
    with pytest.raises(ValueError, match="narrower"):
        widen.widen(_trained_like(3, width=1.0, hidden=32), 0.5, np.random.default_rng(0))


def test_rebuilt_from_onnx_computes_the_file(tmp_path):
    """BatchNorm is folded into the exported convolutions; the rebuilt network computes the file's output."""
    ort = pytest.importorskip("onnxruntime")
    net = _trained_like(4, width=0.5, hidden=32, dilations=(1, 2, 4, 8))
    path = str(tmp_path / "recognizer.onnx")
    export.export_onnx(net, path)
    calibration = [np.random.default_rng(s).random((16, 1, 32, 128), dtype=np.float32) for s in range(3)]
    rebuilt = widen.from_onnx(path, calibration)
    assert rebuilt.config == net.config
    x = _inputs(seed=7).numpy()
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    with torch.no_grad():
        got = torch.softmax(rebuilt(torch.from_numpy(x)), -1).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_command_line(tmp_path, capsys):
    net = _trained_like(5, width=0.5, hidden=32)
    torch.save({"ema": net.state_dict(), "model_config": net.config, "step": 9}, tmp_path / "a.pt")
    widen.main([str(tmp_path / "a.pt"), "--width", "0.75", "--out", str(tmp_path / "w.pt")])
    wide, ck = export.load_checkpoint(str(tmp_path / "w.pt"))
    assert wide.config["width"] == 0.75 and ck["step"] == 9
    assert "largest output change" in capsys.readouterr().out
    for argv, message in ((["--width", "0.25"], "narrower"), (["--width", "0"], "width"),
                          (["--width", "1", "--out", str(tmp_path)], "folder")):
        argv = [str(tmp_path / "a.pt"), "--out", str(tmp_path / "x.pt"), *argv]
        with pytest.raises(SystemExit):
            widen.main(argv)
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        widen.main([str(tmp_path / "missing.onnx"), "--width", "1", "--out", str(tmp_path / "x.pt")])
    assert "not found" in capsys.readouterr().err


def test_command_line_refuses_files_that_are_not_recognizers(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export, "calibration_batches", lambda: [np.zeros((2, 1, 32, 128), np.float32)])
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(SystemExit):
        widen.main([str(tmp_path / "junk.onnx"), "--width", "1", "--out", str(tmp_path / "x.pt")])
    assert "not a PlateNet recognizer" in capsys.readouterr().err
    gate = tmp_path / "gate.onnx"  # an ONNX model of ours, but not the recognizer
    shutil.copy(Path(fastplate.__file__).parent / "models" / "gate.onnx", gate)
    with pytest.raises(SystemExit):
        widen.main([str(gate), "--width", "1", "--out", str(tmp_path / "x.pt")])
    assert "not a PlateNet recognizer" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()
