#!/usr/bin/env python3
"""Write a safetensors file with PyTorch, for nabla-nn's loading tests.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/safetensors_fixture.py

Writes crates/nabla-nn/tests/data/torch_written.safetensors containing
  "layer.weight": float32 [2, 3] = arange(6) / 10
  "layer.bias":   float32 [2]    = [0.5, -1.25]
  "scale":        float64 [2, 2] = [[1.0, 2.5], [3.0, -4.0]]
with metadata {"format": "pt"}.
"""

from pathlib import Path

import torch
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "crates" / "nabla-nn" / "tests" / "data" / "torch_written.safetensors"


def main():
    tensors = {
        "layer.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 10,
        "layer.bias": torch.tensor([0.5, -1.25], dtype=torch.float32),
        "scale": torch.tensor([[1.0, 2.5], [3.0, -4.0]], dtype=torch.float64),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(OUT), metadata={"format": "pt"})
    print(f"wrote {OUT.relative_to(REPO)} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
