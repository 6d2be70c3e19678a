#!/usr/bin/env python3
"""Load a model trained by `nabla train` into PyTorch and evaluate it on the MNIST test set.

Usage (from the repository root):

    /work/venv/bin/python tools/pytorch_reference/load_nabla_model.py RUN_FOLDER [MNIST_FOLDER]

RUN_FOLDER holds nabla's model.safetensors and metrics.jsonl; MNIST_FOLDER defaults to
data/mnist. The network is rebuilt as a torch.nn.Sequential from the layer spec in the file's
"layers" metadata (for the default run "flatten, linear 256, relu, linear 128, relu, linear":
Flatten, Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10); convolutions, pools
and the normalisations of image models alike), with the sizes read from the weights, filled
with load_state_dict(safetensors.torch.load_file(...)), and run in evaluation mode on the
10,000 test images as [N, 1, 28, 28], normalised as nabla does: (x / 255 - mean) / std with the
mean and std of the file's "schema" metadata (fitted on the training pixels: 0.1307 and 0.3081
to four digits, torchvision's MNIST constants). Prints PyTorch's test loss and accuracy next to
the last epoch nabla recorded, and exits non-zero if the accuracies differ.
"""

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
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


def sizes(text):
    """A size of nabla's canonical spec text, "3" or "3x5", as PyTorch's int or tuple."""
    parts = [int(p) for p in text.split("x")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def options(args):
    """The key=value options of a layer's canonical text, as PyTorch's keyword arguments."""
    out = {}
    for arg in args:
        key, value = arg.split("=")
        if value in ("true", "false"):
            out[key] = value == "true"
        elif value == "same":
            out[key] = value
        else:
            out[key] = sizes(value)
    return out


def layer(text, index, state):
    """The PyTorch module of one layer of a nabla spec (residual blocks are not rebuilt here)."""
    name, *args = text.split()
    if name == "flatten":
        return torch.nn.Flatten()
    if name in ("conv2d", "conv1d"):
        out_channels, in_per_group = state[f"{index}.weight"].shape[:2]
        kwargs = options(args[2:])
        conv = torch.nn.Conv2d if name == "conv2d" else torch.nn.Conv1d
        return conv(in_per_group * kwargs["groups"], out_channels, sizes(args[1]), **kwargs)
    if name == "convtranspose2d":
        in_channels, out_per_group = state[f"{index}.weight"].shape[:2]
        kwargs = options(args[2:])
        return torch.nn.ConvTranspose2d(
            in_channels, out_per_group * kwargs["groups"], sizes(args[1]), **kwargs
        )
    if name in ("maxpool2d", "avgpool2d"):
        pool = torch.nn.MaxPool2d if name == "maxpool2d" else torch.nn.AvgPool2d
        return pool(sizes(args[0]), **options(args[1:]))
    if name == "adaptiveavgpool2d":
        return torch.nn.AdaptiveAvgPool2d(sizes(args[0]))
    if name == "batchnorm2d":
        return torch.nn.BatchNorm2d(state[f"{index}.weight"].shape[0])
    if name == "groupnorm":
        return torch.nn.GroupNorm(int(args[0]), state[f"{index}.weight"].shape[0])
    if name == "linear":
        out_features, in_features = state[f"{index}.weight"].shape
        return torch.nn.Linear(in_features, out_features)
    if name == "batchnorm":
        return torch.nn.BatchNorm1d(state[f"{index}.weight"].shape[0])
    if name == "layernorm":
        return torch.nn.LayerNorm(state[f"{index}.weight"].shape[0])
    simple = {
        "relu": torch.nn.ReLU,
        "sigmoid": torch.nn.Sigmoid,
        "tanh": torch.nn.Tanh,
        "gelu": torch.nn.GELU,
        "leakyrelu": lambda: torch.nn.LeakyReLU(float(args[0])),
        "dropout": lambda: torch.nn.Dropout(float(args[0])),
        "dropout2d": lambda: torch.nn.Dropout2d(float(args[0])),
        "softmax": lambda: torch.nn.Softmax(int(args[0])),
    }
    if name not in simple:
        sys.exit(f"layer {index} `{text}`: not rebuilt by this script")
    return simple[name]()


def build(spec, state):
    """torch.nn.Sequential of the canonical spec `spec` (as nabla saves it), sized from `state`."""
    return torch.nn.Sequential(*(layer(t.strip(), i, state) for i, t in enumerate(spec.split(","))))


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(f"usage: {sys.argv[0]} RUN_FOLDER [MNIST_FOLDER]")
    run = Path(sys.argv[1])
    mnist = Path(sys.argv[2] if len(sys.argv) == 3 else "data/mnist")

    with safe_open(run / "model.safetensors", "pt") as f:
        spec = f.metadata()["layers"]
        schema = json.loads(f.metadata()["schema"])
    state = load_file(run / "model.safetensors")
    net = build(spec, state)
    net.load_state_dict(state)
    net.eval()
    print(net)

    # The statistics nabla fitted on the training pixels, as float32.
    mean = np.float32(schema["preprocess"]["mean"][0])
    std = np.float32(schema["preprocess"]["std"][0])

    images = read_idx(find(mnist, "t10k-images-idx3-ubyte"))
    labels = read_idx(find(mnist, "t10k-labels-idx1-ubyte")).astype(np.int64)
    x = torch.from_numpy(
        ((images.reshape(len(images), 1, 28, 28).astype(np.float32) / np.float32(255.0) - mean) / std)
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
