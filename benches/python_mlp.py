#!/usr/bin/env python3
"""One epoch of the 784-100-10 MNIST MLP written in plain Python, with nabla.nn, nabla.optim
and nabla.utils.data, against the same script with torch: SGD (lr 0.1) on mini-batches of 100,
shuffled by a DataLoader over a TensorDataset, cross-entropy loss, test accuracy after.

Each side runs in its own process (nabla and torch usually live in different virtual
environments); the sides alternate for several rounds in the same run and each round reports
the epoch's wall time. The target is nabla at most 0.6x PyTorch's time.

    python benches/python_mlp.py --torch-python /path/to/venv-with-torch/bin/python
    python benches/python_mlp.py --torch-python ... --rounds 3 --threads 1 --batches slices

PyTorch's DataLoader fetches a TensorDataset one sample at a time and stacks them, which
dominates its epoch; ``--batches slices`` leaves the loaders out (both sides step through
views of a training set shuffled once), so the ratio is of the training steps alone.
"""

import argparse
import os
import subprocess
import sys

CHILD = r"""
import gzip, os, struct, sys, time
side, root, threads, batches = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
import numpy as np
if side == "nabla":
    import nabla as torch
else:
    import torch
if threads:
    torch.set_num_threads(threads)

nn, optim = torch.nn, torch.optim
DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

def idx(name):
    path = os.path.join(root, name + ".gz")
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)

x_train = torch.from_numpy(idx("train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
t_train = torch.from_numpy(idx("train-labels-idx1-ubyte").astype(np.int64))
x_test = torch.from_numpy(idx("t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
t_test = torch.from_numpy(idx("t10k-labels-idx1-ubyte").astype(np.int64))

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
optimizer = optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()
loader = DataLoader(TensorDataset(x_train, t_train), batch_size=100, shuffle=True)

if batches == "slices":
    order = np.random.default_rng(0).permutation(60000)
    xs, ts = x_train.numpy()[order], t_train.numpy()[order]
    x_shuffled, t_shuffled = torch.from_numpy(xs), torch.from_numpy(ts)
    loader = [(x_shuffled[i:i + 100], t_shuffled[i:i + 100]) for i in range(0, 60000, 100)]

start = time.perf_counter()
for xb, tb in loader:
    optimizer.zero_grad()
    loss = loss_fn(model(xb), tb)
    loss.backward()
    optimizer.step()
elapsed = time.perf_counter() - start
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == t_test).float().mean().item()
print(elapsed, accuracy)
"""


def run(python, side, root, threads, batches):
    done = subprocess.run([python, "-c", CHILD, side, root, str(threads), batches],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: the {side} run failed:\n{done.stderr}")
    out = done.stdout.split()
    return float(out[0]), float(out[1])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-python", required=True,
                        help="a Python interpreter that has torch installed")
    parser.add_argument("--nabla-python", default=sys.executable,
                        help="a Python interpreter that has nabla installed (this one)")
    parser.add_argument("--mnist", default=os.path.join(here, "..", "data", "mnist"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0,
                        help="threads per library (0: each library's default)")
    parser.add_argument("--batches", choices=["loader", "slices"], default="loader",
                        help="batches from a shuffling DataLoader over a TensorDataset "
                        "(default), or slices of a training set shuffled once beforehand")
    args = parser.parse_args()
    print(f"784-100-10 MLP, one MNIST epoch (600 steps of 100), batches from "
          f"{args.batches}, threads={args.threads or 'default'}; "
          f"load average {os.getloadavg()[0]:.1f}")
    ratios = []
    for r in range(args.rounds):
        n_time, n_acc = run(args.nabla_python, "nabla", args.mnist, args.threads, args.batches)
        t_time, t_acc = run(args.torch_python, "torch", args.mnist, args.threads, args.batches)
        ratios.append(n_time / t_time)
        print(f"round {r + 1}: nabla {n_time:.2f} s (test accuracy {n_acc:.4f}), "
              f"torch {t_time:.2f} s ({t_acc:.4f}), ratio {n_time / t_time:.2f}")
    print(f"ratio nabla/torch: {min(ratios):.2f}-{max(ratios):.2f} (target <= 0.6)")


if __name__ == "__main__":
    main()
