#!/usr/bin/env python3
"""Load a model trained by `nabla train` into PyTorch and evaluate it on the MNIST test set.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/load_nabla_model.py RUN_FOLDER [MNIST_FOLDER]

RUN_FOLDER holds nabla's config.json, model.safetensors and metrics.jsonl; MNIST_FOLDER defaults
to data/mnist. The network is rebuilt as torch.nn.Sequential(Linear, activation, ..., Linear)
with the layer sizes read from the file and the activation from config.json (for the default
run: Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10)), filled with
load_state_dict(safetensors.torch.load_file(...)), and run on the 10,000 test images normalised
as nabla does: (x / 255 - mean) / std with the mean and the population standard deviation of
the training pixels (0.1307 and 0.3081 to four digits, torchvision's MNIST constants). Prints
PyTorch's test loss and accuracy next to the last epoch nabla recorded, and exits non-zero if
the accuracies differ.
"""

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file


def read_idx(path):
    """The array in an IDX file (gzip or raw) of unsigned bytes."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    assert data[0] == 0 and data[1] == 0 and data[2] == 0x08, f"{path}: not a ubyte IDX file"
    ndims = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def find(folder, name):
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    sys.exit(f"{folder}: neither {name} nor {name}.gz")


# nabla's hidden activations (config.json "activation") as PyTorch modules.
ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "leaky-relu": lambda: torch.nn.LeakyReLU(0.01),
    "sigmoid": torch.nn.Sigmoid,
    "tanh": torch.nn.Tanh,
    "gelu": torch.nn.GELU,
}


def build(state, activation):
    """Sequential(Linear, activation, ..., Linear) matching the layer indices 0, 2, 4, ... in `state`."""
    indices = sorted({int(name.split(".")[0]) for name in state})
    assert indices == list(range(0, 2 * len(indices), 2)), f"unexpected layers {indices}"
    layers = []
    for i in indices:
        out_features, in_features = state[f"{i}.weight"].shape
        if layers:
            layers.append(ACTIVATIONS[activation]())
        layers.append(torch.nn.Linear(in_features, out_features))
    return torch.nn.Sequential(*layers)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(f"usage: {sys.argv[0]} RUN_FOLDER [MNIST_FOLDER]")
    run = Path(sys.argv[1])
    mnist = Path(sys.argv[2] if len(sys.argv) == 3 else "data/mnist")

    config = json.loads((run / "config.json").read_text())
    if config["batch_norm"] or config["dropout"] > 0:
        sys.exit("only runs without --batch-norm and --dropout have this layer layout")
    state = load_file(run / "model.safetensors")
    net = build(state, config["activation"])
    net.load_state_dict(state)
    net.eval()
    print(net)

    # The training pixels' statistics from their histogram, summed in float64 over the float32
    # values x / 255, as nabla fits them.
    counts = np.bincount(read_idx(find(mnist, "train-images-idx3-ubyte")).ravel(), minlength=256)
    levels = (np.arange(256, dtype=np.float32) / np.float32(255.0)).astype(np.float64)
    mean = (counts * levels).sum() / counts.sum()
    std = np.sqrt(max((counts * levels**2).sum() / counts.sum() - mean**2, 0.0))
    mean, std = np.float32(mean), np.float32(std)

    images = read_idx(find(mnist, "t10k-images-idx3-ubyte"))
    labels = read_idx(find(mnist, "t10k-labels-idx1-ubyte")).astype(np.int64)
    x = torch.from_numpy(
        ((images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0) - mean) / std)
        .astype(np.float32)
    )
    t = torch.from_numpy(labels)
    with torch.no_grad():
        logits = net(x)
        loss = torch.nn.functional.cross_entropy(logits, t).item()
        correct = int((logits.argmax(1) == t).sum())
    print(f"pytorch: test loss {loss:.6f}, accuracy {100 * correct / len(t):.2f}% ({correct}/{len(t)})")

    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    nabla_correct = round(last["test_acc"] * len(t))
    print(
        f"nabla:   test loss {last['test_loss']:.6f}, accuracy {100 * last['test_acc']:.2f}% "
        f"({nabla_correct}/{len(t)}) after epoch {last['epoch']}"
    )
    if nabla_correct != correct:
        sys.exit(f"the accuracies differ by {correct - nabla_correct} images")


if __name__ == "__main__":
    main()
