#!/usr/bin/env python3
"""The workloads of `nabla bench`, run in PyTorch on the CPU, printing the same table and the same
JSON keys so the two can be compared side by side (benches/compare.py does that).

Workloads (all float32, same shapes, batch sizes, optimisers and data as nabla's):
  mnist-mlp  MLP 784-100-10, ReLU, cross-entropy, SGD lr 0.1, batch 100: seconds per epoch
             over the 60,000 MNIST training images (best of 3 epochs).
  wide-mlp   MLP 784-1024-1024-10, ReLU, Adam lr 1e-3, batch 128: samples per second after
             50 warm-up steps (best of 3 windows of 200 steps).
  overhead   a chain of 10,000 multiplications on a 1-element tensor, forward + backward.
  matmul     square float32 products, GFLOP/s.
  elementwise  relu, clamp, add, square, exp, log, tanh, sigmoid, GELU over 2^20 float32
             elements: microseconds per call.
  cnn        conv(1->32, 3x3), ReLU, max-pool 2, conv(32->64, 3x3), ReLU, max-pool 2, flatten,
             linear(1600->128), ReLU, linear(128->10) on 1x28x28 images, Adam lr 1e-3, batch
             128: samples per second after 20 warm-up steps (best of 3 windows of 50 steps).
  lstm, gru, rnn  MNIST read row by row (28 steps of 28 features) into torch.nn.LSTM, GRU or
             RNN(28, 128, batch_first=True), the last hidden state into linear(128->10), Adam lr
             1e-3, batch 128: samples per second after 20 warm-up steps (best of 3 windows of
             50 steps).
  conv       one conv2d layer's forward and backward (bias included) at three shapes, GFLOP/s:
             a 3x3 stem (batch 128, 1->32, 28x28, no input gradient), a 3x3 middle layer
             (batch 128, 32->64, 13x13) and a 1x1 (batch 128, 64->64, 14x14).

The MNIST IDX files are read with gzip and numpy and normalised as nabla does; batches are
gathered with a seeded `randperm` and `index_select` (cheaper than `DataLoader` over a
`TensorDataset`, which collates sample by sample). With several workloads, each runs in a fresh
process, so its peak resident memory (`ru_maxrss`) is its own.

    python benches/peer_pytorch.py --threads 2
    python benches/peer_pytorch.py --threads 1 --workloads wide-mlp --json
"""

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

WORKLOADS = [
    "mnist-mlp", "wide-mlp", "overhead", "matmul", "elementwise", "conv", "cnn", "lstm", "gru", "rnn",
]
RECURRENT = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
RUNS = 3
SMALL_BATCH = 100
WIDE_BATCH = 128
WIDE_WARMUP_STEPS = 50
WIDE_TIMED_STEPS = 200
CNN_BATCH = 128
CNN_WARMUP_STEPS = 20
CNN_TIMED_STEPS = 50
# nabla_nn::data::Normalization::MNIST
MEAN, STD = np.float32(0.1307), np.float32(0.3081)


def read_idx(path):
    """An IDX array of unsigned bytes (the MNIST files), as numpy."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).astype(np.int64)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(folder, prefix):
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    # In place, so that no temporary copy inflates the peak memory; the same f32 operations in the
    # same order as nabla's `(p / 255 - mean) / std`.
    features = images.reshape(len(images), -1).astype(np.float32)
    features /= np.float32(255)
    features -= MEAN
    features /= STD
    return torch.from_numpy(features), torch.from_numpy(labels.astype(np.int64))


def load_mnist(folder):
    """Training and test sets, both held in memory as nabla's `Mnist::load` does."""
    return load_split(folder, "train"), load_split(folder, "t10k")


def resident_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_mib():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mlp(hidden):
    torch.manual_seed(0)
    widths = [784, *hidden]
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], 10))
    return nn.Sequential(*layers)


def cnn():
    """The CNN of `nabla train --model cnn` (nabla_nn::models::cnn), PyTorch's default init."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10),
    )


class RowByRow(nn.Module):
    """The recurrent networks of `nabla train --model lstm|gru|rnn` (nabla_nn::models::lstm):
    each image a sequence of its 28 rows, a recurrent layer of 128, its last hidden state into
    linear(128->10); PyTorch's default init."""

    def __init__(self, layer):
        super().__init__()
        torch.manual_seed(0)
        self.recurrent = layer(28, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        _output, state = self.recurrent(x.view(-1, 28, 28))
        h = state[0] if isinstance(state, tuple) else state
        return self.out(h[-1])


def step(net, optimizer, x, y):
    logits = net(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def batches(x, y, batch_size, generator, drop_last):
    """One epoch of shuffled batches."""
    n = len(x)
    order = torch.randperm(n, generator=generator)
    end = n - n % batch_size if drop_last else n
    for start in range(0, end, batch_size):
        idx = order[start : start + batch_size]
        yield x.index_select(0, idx), y.index_select(0, idx)


def mnist_mlp(folder):
    (x, y), _test = load_mnist(folder)
    data_rss = resident_mib()
    net = mlp([100])
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    generator = torch.Generator().manual_seed(0)
    runs, last_loss = [], float("nan")
    for _ in range(RUNS):
        start = time.perf_counter()
        loss = None
        for xb, yb in batches(x, y, SMALL_BATCH, generator, drop_last=False):
            loss = step(net, optimizer, xb, yb)
        runs.append(time.perf_counter() - start)
        last_loss = loss.item()
    return {
        "batch_size": SMALL_BATCH,
        "steps_per_epoch": -(-len(x) // SMALL_BATCH),
        "epoch_seconds_runs": runs,
        "epoch_seconds": min(runs),
        "last_loss": last_loss,
        "data_rss_mib": data_rss,
        "peak_rss_mib": peak_mib(),
    }


def wide_mlp(folder):
    (x, y), _test = load_mnist(folder)
    data_rss = resident_mib()
    runs, last_loss = throughput(mlp([1024, 1024]), x, y, WIDE_BATCH, WIDE_WARMUP_STEPS, WIDE_TIMED_STEPS)
    return {
        "batch_size": WIDE_BATCH,
        "warmup_steps": WIDE_WARMUP_STEPS,
        "timed_steps": WIDE_TIMED_STEPS,
        "samples_per_second_runs": runs,
        "samples_per_second": max(runs),
        "last_loss": last_loss,
        "data_rss_mib": data_rss,
        "peak_rss_mib": peak_mib(),
    }


def throughput(net, x, y, batch_size, warmup_steps, timed_steps):
    """Adam lr 1e-3 on endless shuffled full batches: samples per second of each of RUNS windows
    of `timed_steps` steps after `warmup_steps`, and the last loss."""
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)

    def endless():
        while True:
            yield from batches(x, y, batch_size, generator, drop_last=True)

    stream = endless()
    loss = None
    for _ in range(warmup_steps):
        loss = step(net, optimizer, *next(stream))
    runs = []
    for _ in range(RUNS):
        start = time.perf_counter()
        for _ in range(timed_steps):
            loss = step(net, optimizer, *next(stream))
        runs.append(timed_steps * batch_size / (time.perf_counter() - start))
    return runs, loss.item()


def cnn_workload(folder):
    (x, y), _test = load_mnist(folder)
    x = x.view(-1, 1, 28, 28)
    data_rss = resident_mib()
    runs, last_loss = throughput(cnn(), x, y, CNN_BATCH, CNN_WARMUP_STEPS, CNN_TIMED_STEPS)
    return {
        "batch_size": CNN_BATCH,
        "warmup_steps": CNN_WARMUP_STEPS,
        "timed_steps": CNN_TIMED_STEPS,
        "samples_per_second_runs": runs,
        "samples_per_second": max(runs),
        "last_loss": last_loss,
        "data_rss_mib": data_rss,
        "peak_rss_mib": peak_mib(),
    }


def recurrent_workload(folder, name):
    (x, y), _test = load_mnist(folder)
    x = x.view(-1, 1, 28, 28)
    data_rss = resident_mib()
    net = RowByRow(RECURRENT[name])
    runs, last_loss = throughput(net, x, y, CNN_BATCH, CNN_WARMUP_STEPS, CNN_TIMED_STEPS)
    return {
        "batch_size": CNN_BATCH,
        "warmup_steps": CNN_WARMUP_STEPS,
        "timed_steps": CNN_TIMED_STEPS,
        "samples_per_second_runs": runs,
        "samples_per_second": max(runs),
        "last_loss": last_loss,
        "data_rss_mib": data_rss,
        "peak_rss_mib": peak_mib(),
    }


def best_time(budget, f):
    """Best time of `f` over repetitions lasting about `budget` seconds (at least 3), after one
    untimed warm-up run: the rule of nabla's `best_time`."""
    f()
    start = time.perf_counter()
    best, runs = float("inf"), 0
    while runs < 3 or time.perf_counter() - start < budget:
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
        runs += 1
    return best


def overhead(n):
    def forward():
        x = torch.tensor(1.0, requires_grad=True)
        y = x
        for _ in range(n):
            y = y * 1.0001
        return x, y

    def both():
        _x, y = forward()
        y.backward()

    fwd = best_time(0.5, forward)
    total = best_time(0.5, both)
    return {
        "chain_length": n,
        "ns_per_op": total / n * 1e9,
        "forward_ns_per_op": fwd / n * 1e9,
    }


def matmul(n):
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator)
    b = torch.randn(n, n, generator=generator)

    def product():
        with torch.no_grad():
            torch.mm(a, b)

    seconds = best_time(0.7, product)
    return {
        "n": n,
        "seconds": seconds,
        "gflops": 2 * n**3 / seconds / 1e9,
        "percent_of_avx2_peak": None,
        "percent_of_avx512_peak": None,
    }


ELEMENTWISE = {
    "relu": lambda x, y: torch.relu(x),
    "clamp": lambda x, y: torch.clamp(x, -1.0, 1.0),
    "add": lambda x, y: x + y,
    "square": lambda x, y: torch.pow(x, 2.0),
    "exp": lambda x, y: torch.exp(x),
    "log": lambda x, y: torch.log(x),
    "tanh": lambda x, y: torch.tanh(x),
    "sigmoid": lambda x, y: torch.sigmoid(x),
    "gelu": lambda x, y: torch.nn.functional.gelu(x),
}


def elementwise():
    """The ops of nabla's elementwise workload over 2^20 f32 elements (positive ones for log)."""
    numel = 1 << 20
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(numel, generator=generator)
    y = torch.randn(numel, generator=generator)
    positive = x.abs()
    figures = []
    for op, call in ELEMENTWISE.items():
        data = positive if op == "log" else x

        def run():
            with torch.no_grad():
                call(data, y)

        figures.append({"op": op, "numel": numel, "microseconds": best_time(0.2, run) * 1e6})
    return figures


# name, batch, in and out channels, input size, kernel, whether the input's gradient is computed
CONV_SHAPES = [
    ("3x3 stem", 128, 1, 32, 28, 3, False),
    ("3x3 middle", 128, 32, 64, 13, 3, True),
    ("1x1", 128, 64, 64, 14, 1, True),
]


def conv():
    """nabla's conv workload: forward and backward of one conv2d layer per shape, counted as
    2 * MACs flops for the forward, the weight gradient and (but for the stem) the input's."""
    figures = []
    for name, batch, cin, cout, size, k, input_grad in CONV_SHAPES:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(batch, cin, size, size, generator=generator).requires_grad_(input_grad)
        w = (torch.randn(cout, cin, k, k, generator=generator) * 0.1).requires_grad_()
        b = torch.zeros(cout, requires_grad=True)
        out = size - k + 1
        g = torch.randn(batch, cout, out, out, generator=generator)
        leaves = [w, b] + ([x] if input_grad else [])

        def step():
            y = F.conv2d(x, w, b)
            torch.autograd.grad(y, leaves, g)

        seconds = best_time(0.7, step)
        macs = batch * cout * out * out * cin * k * k
        products = 3 if input_grad else 2
        figures.append({
            "layer": name,
            "batch": batch,
            "in_channels": cin,
            "out_channels": cout,
            "size": size,
            "kernel": k,
            "input_grad": input_grad,
            "seconds": seconds,
            "gflops": 2 * products * macs / seconds / 1e9,
        })
    return figures


def new_report(threads):
    return {
        "engine": f"pytorch {torch.__version__}",
        "threads": threads,
        "mnist_mlp": None,
        "wide_mlp": None,
        "overhead": None,
        "matmul_f32": None,
        "elementwise_f32": None,
        "conv2d_f32": None,
        "fma_peak": None,
        "cnn": None,
        "lstm": None,
        "gru": None,
        "rnn": None,
    }


def run_here(args, workload):
    report = new_report(args.threads)
    folder = Path(args.data)
    if workload == "mnist-mlp":
        report["mnist_mlp"] = mnist_mlp(folder)
    elif workload == "wide-mlp":
        report["wide_mlp"] = wide_mlp(folder)
    elif workload == "overhead":
        report["overhead"] = overhead(args.chain)
    elif workload == "elementwise":
        report["elementwise_f32"] = elementwise()
    elif workload == "conv":
        report["conv2d_f32"] = conv()
    elif workload == "cnn":
        report["cnn"] = cnn_workload(folder)
    elif workload in RECURRENT:
        report[workload] = recurrent_workload(folder, workload)
    else:
        report["matmul_f32"] = [matmul(n) for n in args.sizes]
    return report


def run_child(args, workload):
    command = [
        sys.executable,
        __file__,
        "--json",
        "--threads", str(args.threads),
        "--workloads", workload,
        "--sizes", ",".join(map(str, args.sizes)),
        "--chain", str(args.chain),
        "--data", args.data,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"workload {workload} failed: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(r):
    mib = lambda v: "n/a" if v is None else f"{v:.0f} MiB"
    print(f"{r['engine']}, {r['threads']} threads")
    m = r["mnist_mlp"]
    if m:
        print(f"{'MLP 784-100-10 SGD, batch ' + str(m['batch_size']):<44} {m['epoch_seconds']:.3f} s/epoch "
              f"(best of {len(m['epoch_seconds_runs'])}; {m['steps_per_epoch']} steps; last loss {m['last_loss']:.3f})")
        print(f"{'':<44} {mib(m['peak_rss_mib'])} peak ({mib(m['data_rss_mib'])} with the data loaded)")
    w = r["wide_mlp"]
    if w:
        print(f"{'MLP 784-1024-1024-10 Adam, batch ' + str(w['batch_size']):<44} {w['samples_per_second']:.0f} samples/s "
              f"(best of {len(w['samples_per_second_runs'])} x {w['timed_steps']} steps after "
              f"{w['warmup_steps']} warm-up; last loss {w['last_loss']:.3f})")
        print(f"{'':<44} {mib(w['peak_rss_mib'])} peak ({mib(w['data_rss_mib'])} with the data loaded)")
    for key, label in [
        ("cnn", "CNN 2 conv + 2 linear Adam"),
        ("lstm", "LSTM 28->128 + linear Adam"),
        ("gru", "GRU 28->128 + linear Adam"),
        ("rnn", "RNN 28->128 + linear Adam"),
    ]:
        c = r.get(key)
        if c:
            print(f"{label + ', batch ' + str(c['batch_size']):<44} {c['samples_per_second']:.0f} samples/s "
                  f"(best of {len(c['samples_per_second_runs'])} x {c['timed_steps']} steps after "
                  f"{c['warmup_steps']} warm-up; last loss {c['last_loss']:.3f})")
            print(f"{'':<44} {mib(c['peak_rss_mib'])} peak ({mib(c['data_rss_mib'])} with the data loaded)")
    o = r["overhead"]
    if o:
        print(f"{'autograd overhead, ' + str(o['chain_length']) + '-op chain':<44} {o['ns_per_op']:.0f} ns/op "
              f"forward + backward ({o['forward_ns_per_op']:.0f} ns/op forward only)")
    for e in r["elementwise_f32"] or []:
        print(f"{'f32 ' + e['op'] + ' over ' + str(e['numel']) + ' elements':<44} {e['microseconds']:.0f} µs")
    for c in r["conv2d_f32"] or []:
        label = (f"f32 conv2d {c['layer']}, {c['batch']}x{c['in_channels']}x{c['size']}x{c['size']}"
                 f" -> {c['out_channels']} ch")
        print(f"{label:<44} {c['seconds'] * 1e3:.2f} ms forward + backward, {c['gflops']:.1f} GFLOP/s")
    if r["matmul_f32"]:
        print(f"{'n':>6} {'time (ms)':>12} {'GFLOP/s':>10} {'% AVX2 peak':>12} {'% AVX-512 peak':>14}")
        for f in r["matmul_f32"]:
            print(f"{f['n']:>6} {f['seconds'] * 1e3:>12.3f} {f['gflops']:>10.1f} {'-':>12} {'-':>14}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated, from: " + ", ".join(WORKLOADS))
    parser.add_argument("--sizes", default="128,512,1024,2048")
    parser.add_argument("--chain", type=int, default=10_000)
    parser.add_argument("--data", default="data/mnist")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    workloads = list(dict.fromkeys(args.workloads.split(",")))
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {WORKLOADS}")
    torch.set_num_threads(args.threads)
    if len(workloads) == 1:
        report = run_here(args, workloads[0])
    else:
        report = new_report(args.threads)
        for workload in workloads:
            child = run_child(args, workload)
            report.update({k: v for k, v in child.items() if v is not None})
    if not args.json:
        print_table(report)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
