"""The weight average ("soup") of recognizer checkpoints that the shipped model is made with."""
import pytest

torch = pytest.importorskip("torch")
soup = pytest.importorskip("fastplate.train.soup")
model = pytest.importorskip("fastplate.train.model")


def _checkpoint(path, seed, **config):
    torch.manual_seed(seed)
    net = model.PlateNet(**config)
    for p in net.parameters():
        p.data.normal_()
    torch.save({"ema": net.state_dict(), "model_config": net.config, "step": seed}, path)
    return net.state_dict()


def test_average_is_the_mean_of_the_weights(tmp_path):
    a = _checkpoint(tmp_path / "a.pt", 1, width=0.5, hidden=32)
    b = _checkpoint(tmp_path / "b.pt", 2, width=0.5, hidden=32)
    ck = soup.average([tmp_path / "a.pt", tmp_path / "b.pt"])
    assert ck["step"] == [1, 2]
    for key, value in ck["ema"].items():
        if value.is_floating_point():
            assert torch.allclose(value, (a[key] + b[key]) / 2, atol=1e-6)
        else:
            assert torch.equal(value, a[key])
    net = model.PlateNet(**ck["model_config"])
    net.load_state_dict(ck["ema"])  # export.load_checkpoint reads it like a training checkpoint


def test_average_refuses_mixed_architectures_and_single_checkpoints(tmp_path):
    _checkpoint(tmp_path / "a.pt", 1, width=0.5, hidden=32)
    _checkpoint(tmp_path / "b.pt", 2, width=0.75, hidden=32)
    with pytest.raises(ValueError, match="another architecture"):
        soup.average([tmp_path / "a.pt", tmp_path / "b.pt"])
    with pytest.raises(ValueError, match="at least two"):
        soup.average([tmp_path / "a.pt"])
