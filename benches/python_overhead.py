#!/usr/bin/env python3
"""Per-op overhead from Python: a chain of 10,000 elementwise ops on a 1-element tensor that
requires grad (y = y * 1.0001 + 0.0001, alternating mul and add with a Python number), forward
plus backward, in nabla and in PyTorch, time per op.

Each side runs in its own process with its own interpreter (the nabla package and torch usually
live in different virtual environments); the sides alternate for several rounds in the same
run, and each round reports the best of 5 repeats after a warm-up. The target is nabla at most
1/3 of PyTorch's time per op.

    python benches/python_overhead.py --torch-python /path/to/venv-with-torch/bin/python
    python benches/python_overhead.py --torch-python ... --rounds 5 --ops 10000 --json
"""

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import sys, time
side, ops, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if side == "nabla":
    import nabla as lib
else:
    import torch as lib
    lib.set_num_threads(1)

def chain():
    x = lib.tensor([1.0], requires_grad=True)
    y = x
    for i in range(ops // 2):
        y = y * 1.0001
        y = y + 0.0001
    y.sum().backward()
    return x.grad.item()

def forward_only():
    x = lib.tensor([1.0], requires_grad=True)
    y = x
    for i in range(ops // 2):
        y = y * 1.0001
        y = y + 0.0001
    return y

chain()
best, best_forward = float("inf"), float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    grad = chain()
    best = min(best, time.perf_counter() - start)
    start = time.perf_counter()
    forward_only()
    best_forward = min(best_forward, time.perf_counter() - start)
print(best / ops * 1e9, best_forward / ops * 1e9, grad)
"""


def run(python, side, ops, repeats):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [python, "-c", CHILD, side, str(ops), str(repeats)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    total, forward, grad = out.stdout.split()
    return float(total), float(forward), float(grad)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nabla-python", default=sys.executable, help="interpreter with nabla")
    parser.add_argument("--torch-python", required=True, help="interpreter with torch")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    results = {"nabla": [], "torch": []}
    grads = {}
    for _ in range(args.rounds):
        for side, python in (("nabla", args.nabla_python), ("torch", args.torch_python)):
            total, forward, grad = run(python, side, args.ops, args.repeats)
            results[side].append({"ns_per_op": total, "forward_ns_per_op": forward})
            grads[side] = grad
    if abs(grads["nabla"] - grads["torch"]) > 1e-3 * abs(grads["torch"]):
        sys.exit(f"the two sides disagree on the gradient: {grads}")
    summary = {
        side: {
            "ns_per_op": [round(r["ns_per_op"]) for r in rs],
            "forward_ns_per_op": [round(r["forward_ns_per_op"]) for r in rs],
        }
        for side, rs in results.items()
    }
    best = {side: min(r["ns_per_op"] for r in rs) for side, rs in results.items()}
    summary["ratio_best"] = round(best["nabla"] / best["torch"], 3)
    summary["load_average"] = os.getloadavg()[0]
    summary["ops"] = args.ops
    if args.json:
        print(json.dumps(summary))
        return
    print(f"chain of {args.ops} ops on a 1-element tensor, forward + backward (ns per op, each round best of {args.repeats})")
    for side in ("nabla", "torch"):
        s = summary[side]
        print(f"  {side:6} total {s['ns_per_op']}  forward only {s['forward_ns_per_op']}")
    print(f"  nabla / PyTorch (best rounds): {summary['ratio_best']}  (target <= 0.333)")
    print(f"  load average {summary['load_average']:.2f}")


if __name__ == "__main__":
    main()
