#!/usr/bin/env python3
"""Load a safetensors file with PyTorch and print every tensor.

Usage:

    /work/venv/bin/python tools/pytorch_reference/check_nabla_safetensors.py FILE

Used to verify that files written by nabla load in PyTorch. Prints the
metadata, then for each tensor (sorted by name): name, dtype, shape, values.
Exits non-zero if the file cannot be loaded.
"""

import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} FILE.safetensors")
    path = sys.argv[1]
    with safe_open(path, framework="pt") as f:
        print(f"metadata: {f.metadata()}")
    tensors = load_file(path)
    torch.set_printoptions(precision=17)
    for name in sorted(tensors):
        t = tensors[name]
        print(f"{name}: dtype={t.dtype} shape={list(t.shape)}")
        print(f"  values={t.flatten().tolist()}")


if __name__ == "__main__":
    main()
