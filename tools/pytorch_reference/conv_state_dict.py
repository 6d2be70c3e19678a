#!/usr/bin/env python3
"""State dicts of convolutional networks between nabla and PyTorch, both ways.

Usage (from the repository root):

    # PyTorch -> nabla: write the fixture nabla-nn's tests load
    /work/venv/bin/python tools/pytorch_reference/conv_state_dict.py write
    #   -> crates/nabla-nn/tests/data/torch_conv_bn.safetensors

    # nabla -> PyTorch: load the model nabla-nn's tests wrote into torch.nn and compare outputs
    /work/venv/bin/python tools/pytorch_reference/conv_state_dict.py check
    #   reads crates/nabla-nn/tests/data/nabla_cnn.safetensors (model, spec in its metadata)
    #   and crates/nabla-nn/tests/data/nabla_cnn_io.safetensors (input, nabla's output)

`write`: torch.nn.Sequential(Conv2d(2, 3, 3, padding=1), BatchNorm2d(3)) in float64 from
torch.manual_seed(0) (batch norm weight det([3], 9) * 0.5 + 1, bias det([3], 10) * 0.2), three training steps on det([4, 2, 5, 5], k) for k = 1, 2, 3 (so the
running statistics and num_batches_tracked are not their initial values), then its state dict
with "0."/"1." names, plus "input" = det([2, 2, 5, 5], 7) and the outputs on it in evaluation
("output_eval") and in training mode ("output_train", from a copy, so the saved statistics are
the ones before it).

`check`: rebuilds the network from the "layers" metadata with load_nabla_model.build (the same
torch modules nabla's layers mirror), loads nabla's state dict with strict names, runs it in
evaluation mode on nabla's input and exits non-zero unless every output is within 1e-12 of
nabla's.
"""

import copy
import math
import sys
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from load_nabla_model import build

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "crates" / "nabla-nn" / "tests" / "data"


def det(shape, k):
    n = math.prod(shape)
    return torch.tensor([math.sin(0.37 * i + k) for i in range(n)], dtype=torch.float64).reshape(shape)


def write():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3)).double()
    with torch.no_grad():
        net[1].weight.copy_(det([3], 9.0) * 0.5 + 1)
        net[1].bias.copy_(det([3], 10.0) * 0.2)
    net.train()
    with torch.no_grad():
        for k in (1.0, 2.0, 3.0):
            net(det([4, 2, 5, 5], k))
    x = det([2, 2, 5, 5], 7.0)
    with torch.no_grad():
        output_train = copy.deepcopy(net)(x)
        net.eval()
        output_eval = net(x)
    tensors = {name: t.contiguous() for name, t in net.state_dict().items()}
    tensors.update(input=x, output_eval=output_eval, output_train=output_train)
    out = DATA / "torch_conv_bn.safetensors"
    save_file(tensors, str(out), metadata={"format": "pt"})
    print(f"wrote {out.relative_to(REPO)} with torch {torch.__version__}")


def check():
    model = DATA / "nabla_cnn.safetensors"
    with safe_open(model, "pt") as f:
        spec = f.metadata()["layers"]
    state = load_file(model)
    net = build(spec, state).double()
    net.load_state_dict(state, strict=True)
    net.eval()
    print(net)
    io = load_file(DATA / "nabla_cnn_io.safetensors")
    with torch.no_grad():
        got = net(io["input"])
    diff = (got - io["output"]).abs().max().item()
    print(f"largest difference from nabla's output: {diff:.3g}")
    if not diff <= 1e-12:
        sys.exit("the outputs differ")


def main():
    commands = {"write": write, "check": check}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} write|check")
    commands[sys.argv[1]]()


if __name__ == "__main__":
    main()
