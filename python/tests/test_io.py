"""safetensors files: nabla's and the ``safetensors`` package's read each other's, a state dict
saved by ``safetensors.torch`` loads into the same nabla model and gives PyTorch's output, and
broken files raise exceptions that name them."""

import json
import pathlib

import numpy as np
import pytest
from safetensors.numpy import load_file as np_load_file
from safetensors.numpy import save_file as np_save_file

import nabla
from nabla import nn

HERE = pathlib.Path(__file__).parent
PINNED = json.loads((HERE / "nn_reference.json").read_text())["cases"]


def test_nabla_file_reads_in_safetensors(tmp_path):
    path = tmp_path / "w.safetensors"
    tensors = {"w": nabla.tensor([[1.0, 2.0], [3.0, 4.0]]),
               "d": nabla.tensor([0.5], dtype=nabla.float64),
               "i": nabla.tensor([7, -3])}
    nabla.save_file(tensors, str(path), metadata={"epoch": "3"})
    loaded = np_load_file(str(path))
    assert loaded["w"].dtype == np.float32 and loaded["w"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert loaded["d"].dtype == np.float64 and loaded["i"].tolist() == [7, -3]
    assert nabla.utils.safetensors.load_metadata(str(path)) == {"epoch": "3"}


def test_safetensors_file_reads_in_nabla(tmp_path):
    path = tmp_path / "n.safetensors"
    np_save_file({"a": np.arange(6, dtype=np.float32).reshape(2, 3),
                  "b": np.array([1, 2], dtype=np.int64)}, str(path))
    loaded = nabla.load_file(str(path))
    assert list(loaded) == ["a", "b"]
    assert loaded["a"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert loaded["b"].dtype == nabla.int64


def test_torch_state_dict_loads_into_the_same_model():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = nabla.load_file(str(HERE / "torch_model.safetensors"))
    model.load_state_dict(state)
    out = model.eval()(nabla.linspace(-1, 1, 6).reshape(2, 3))
    want = PINNED["torch_model_output"]["tensor"]["values"]
    assert out.reshape(-1).tolist() == pytest.approx(want, rel=1e-5, abs=1e-6)


def test_bytes_round_trip():
    data = nabla.utils.safetensors.save({"x": nabla.tensor([1.5, -2.0])})
    assert nabla.utils.safetensors.load(data)["x"].tolist() == [1.5, -2.0]


def test_bad_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        nabla.load_file(str(tmp_path / "missing.safetensors"))
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(b"\x08\x00\x00\x00")
    with pytest.raises(ValueError, match="cut.safetensors: not a valid safetensors file"):
        nabla.load_file(str(cut))
    with pytest.raises(TypeError, match="must be a Tensor"):
        nabla.save_file({"x": [1.0]}, str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="CPU only"):
        nabla.load_file(str(cut), device="cuda")
