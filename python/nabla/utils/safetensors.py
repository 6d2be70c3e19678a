"""safetensors files with the API of ``safetensors.torch``: ``save_file``, ``load_file``,
``save`` and ``load``. Files written here load with ``safetensors.torch.load_file`` and the
other way round (float32, float64 and int64 tensors); ``save_file`` replaces a file
atomically."""

from .._C import _io

load, load_file, load_metadata = _io.load, _io.load_file, _io.load_metadata
save, save_file = _io.save, _io.save_file

__all__ = ["load", "load_file", "load_metadata", "save", "save_file"]
