"""``nabla.utils``: data loading (``utils.data``) and safetensors files
(``utils.safetensors``)."""

from . import data, safetensors

__all__ = ["data", "safetensors"]
