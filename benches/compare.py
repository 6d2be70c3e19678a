#!/usr/bin/env python3
"""Side-by-side table of `nabla bench --json` and `benches/peer_pytorch.py --json` results against
the speed targets, as Markdown.

Each side may give several JSON files (repeated runs); every figure takes its best over them
(least time and memory, most throughput). When both sides give as many runs, the runs are taken
as pairs in the order given (alternating runs: nabla-1 with torch-1, ...), and each ratio also
shows its range and median pair by pair, which a machine whose speed drifts between minutes
disturbs less than best against best. The FMA peak, a property of the machine, comes from
nabla's runs (the highest measured) and is applied to both sides' matmul figures; the target is
judged against the widest instruction set's peak (AVX-512 where the CPU has it).

    python benches/compare.py --nabla nabla-*.json --pytorch torch-*.json
"""

import argparse
import json
import statistics


def load(paths):
    reports = []
    for path in paths:
        with open(path) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("{")]
        if not lines:
            raise SystemExit(f"{path}: no JSON line")
        reports.append(json.loads(lines[-1]))
    return reports


def best(reports, pick, better):
    values = [v for v in (pick(r) for r in reports) if v is not None]
    return better(values) if values else None


def dig(*keys):
    def pick(report):
        value = report
        for key in keys:
            if value is None:
                return None
            if isinstance(key, int):
                value = next((m for m in value if m["n"] == key), None)
            else:
                value = value.get(key)
        return value

    return pick


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


def verdict(ok):
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nabla", nargs="+", required=True)
    parser.add_argument("--pytorch", nargs="+", required=True)
    args = parser.parse_args()
    nabla, torch = load(args.nabla), load(args.pytorch)
    threads = {r["threads"] for r in nabla + torch}
    if len(threads) != 1:
        raise SystemExit(f"the runs use different thread counts: {sorted(threads)}")
    (threads,) = threads
    avx2 = best(nabla, dig("fma_peak", "avx2_fma", "gflops_total"), max)
    avx512 = best(nabla, dig("fma_peak", "avx512_fma", "gflops_total"), max)
    # The machine's peak is that of its widest FMA instructions.
    machine = avx512 if avx512 is not None else avx2

    rows = []

    def pairs(pick):
        """The ratio of each nabla run to the PyTorch run in the same place, when both sides
        gave as many runs."""
        if len(nabla) != len(torch):
            return []
        values = ((pick(a), pick(b)) for a, b in zip(nabla, torch))
        return [n / t for n, t in values if n is not None and t]

    def ratio_row(name, unit, pick, better, target, spec):
        n, t = best(nabla, pick, better), best(torch, pick, better)
        ratio = n / t if n is not None and t else None
        ok = None if ratio is None else target(ratio)
        shown = fmt(ratio, ".2f") + "x"
        paired = pairs(pick)
        if len(paired) > 1:
            shown += (f" (pair by pair {min(paired):.2f}-{max(paired):.2f}x, "
                      f"median {statistics.median(paired):.2f}x)")
        rows.append((name, f"{fmt(n, spec)} {unit}", f"{fmt(t, spec)} {unit}", shown, ok))

    ratio_row("MLP 784-100-10 SGD epoch (target <= 0.45x PyTorch's time)", "s",
              dig("mnist_mlp", "epoch_seconds"), min, lambda r: r <= 0.45, ".3f")
    ratio_row("MLP 784-1024-1024-10 Adam throughput (target >= 1.4x)", "samples/s",
              dig("wide_mlp", "samples_per_second"), max, lambda r: r >= 1.4, ".0f")
    pick = dig("overhead", "ns_per_op")
    n, t = best(nabla, pick, min), best(torch, pick, min)
    rows.append(("autograd overhead per op, fwd+bwd (target <= 300 ns)", f"{fmt(n, '.0f')} ns",
                 f"{fmt(t, '.0f')} ns", fmt(n / t if n and t else None, ".3f") + "x",
                 None if n is None else n <= 300))
    for size in (512, 1024, 2048):
        pick = dig("matmul_f32", size, "gflops")
        n, t = best(nabla, pick, max), best(torch, pick, max)
        share = lambda g, peak: None if g is None or peak is None else 100 * g / peak
        cell = lambda g: (f"{fmt(g, '.1f')} GFLOP/s = {fmt(share(g, avx2), '.1f')}% of AVX2, "
                          f"{fmt(share(g, avx512), '.1f')}% of AVX-512 peak")
        ok = None if share(n, machine) is None else share(n, machine) >= 92
        rows.append((f"matmul n={size} (target >= 92% of the machine's FMA peak)", cell(n), cell(t),
                     fmt(n / t if n and t else None, ".2f") + "x", ok))
    ratio_row("matmul n=128 GFLOP/s (target >= 1.1x)", "GFLOP/s",
              dig("matmul_f32", 128, "gflops"), max, lambda r: r >= 1.1, ".1f")
    ratio_row("peak RSS, MLP 784-1024-1024-10 (target <= PyTorch's)", "MiB",
              dig("wide_mlp", "peak_rss_mib"), min, lambda r: r <= 1.0, ".0f")
    ratio_row("peak RSS, MLP 784-100-10 (target <= PyTorch's)", "MiB",
              dig("mnist_mlp", "peak_rss_mib"), min, lambda r: r <= 1.0, ".0f")
    ratio_row("CNN (2 conv + 2 linear) Adam throughput (target >= 1.5x)", "samples/s",
              dig("cnn", "samples_per_second"), max, lambda r: r >= 1.5, ".0f")
    ratio_row("peak RSS, CNN (target <= PyTorch's)", "MiB",
              dig("cnn", "peak_rss_mib"), min, lambda r: r <= 1.0, ".0f")
    for key, name in (("lstm", "LSTM"), ("gru", "GRU")):
        ratio_row(f"row-by-row {name} 28->128 + linear Adam throughput (target >= 1.3x)", "samples/s",
                  dig(key, "samples_per_second"), max, lambda r: r >= 1.3, ".0f")
    ratio_row("row-by-row RNN 28->128 + linear Adam throughput (no target)", "samples/s",
              dig("rnn", "samples_per_second"), max, lambda r: None, ".0f")

    ops = [e["op"] for r in nabla for e in (r.get("elementwise_f32") or [])]
    for op in dict.fromkeys(ops):
        pick = lambda r, op=op: next((e["microseconds"] for e in (r.get("elementwise_f32") or [])
                                      if e["op"] == op), None)
        n, t = best(nabla, pick, min), best(torch, pick, min)
        rows.append((f"f32 {op} over 2^20 elements (no target)", f"{fmt(n, '.0f')} µs",
                     f"{fmt(t, '.0f')} µs", fmt(n / t if n and t else None, ".2f") + "x", None))

    print(f"{threads} thread(s); FMA peak on {threads} thread(s): AVX2+FMA {fmt(avx2, '.1f')} GFLOP/s, "
          f"AVX-512 {fmt(avx512, '.1f')} GFLOP/s (best of {len(nabla)} nabla and {len(torch)} PyTorch runs)")
    print()
    print("| workload (target) | nabla | PyTorch | nabla / PyTorch | target |")
    print("|---|---|---|---|---|")
    for name, n, t, ratio, ok in rows:
        print(f"| {name} | {n} | {t} | {ratio} | {verdict(ok)} |")


if __name__ == "__main__":
    main()
