#!/usr/bin/env python3
"""Where a profiled nabla run spends its CPU time, by category: reads `perf script` output of a
recording made with DWARF call graphs and attributes every sample to one category from its whole
call stack (inlined frames included).

    perf record -F 500 --call-graph dwarf,16384 -o /tmp/wide.perf \\
        ./target/release/nabla --threads 2 bench --workloads wide-mlp
    perf script -i /tmp/wide.perf -F comm,tid,period,ip,sym --inline \\
        | python3 benches/perf_shares.py

Attribution: everything under the batch loader is data loading; otherwise allocation when the
frames nearest the leaf, before the first frame of nabla or gemm, are the allocator or the
kernel's page-fault path (fresh memory being zeroed counts as allocation); otherwise the category
of the (not inlined) frame nearest the leaf that names one, so a kernel called by the engine counts
as the kernel and "autograd bookkeeping" is the engine's own time. Reading the MNIST files happens
before any timing starts, and `nabla train` also evaluates and writes checkpoints between epochs:
these are reported on their own lines and left out of the shares.

Shares are of CPU samples, and of wall-clock time: the main thread's samples alone. It runs its
share of every parallel kernel and polls until the helpers finish theirs, so it is busy for the
whole step and its samples trace the wall clock; a helper's polling between kernels is CPU time
that costs the step nothing.
"""

import argparse
import re
import sys
from collections import Counter, defaultdict

# Work outside the training steps, reported on its own and left out of the shares.
EXCLUDED = [
    ("reading the MNIST files", re.compile(r"mnist::load|load_split|IdxArray|flate2|miniz_oxide")),
    ("evaluating on the test set (nabla train)", re.compile(r"trainer::evaluate")),
    ("writing checkpoints and metrics (nabla train)", re.compile(r"run_folder|safetensors|serde_json")),
]
ALLOCATION = "allocation, freeing and page faults"
LAYOUT = "layout copies (non-contiguous tensor gathered element by element)"
ELEMENTWISE = "elementwise and reduction kernels"
DATA = "data loading (batch gather)"
DATA_FRAMES = re.compile(r"nabla_nn::data")
CATEGORIES = [
    ("GEMM (gemm crate: packing + microkernels)",
     re.compile(r"gemm_f32|gemm_f64|gemm_common|gemm::gemm|kernels::matmul")),
    (LAYOUT, re.compile(r"contiguous_copy")),
    ("optimizer update", re.compile(r"nabla_nn::optim")),
    ("loss (fused cross-entropy)", re.compile(r"nabla_nn::loss")),
    (ELEMENTWISE,
     re.compile(r"kernels::elementwise|kernels::reduce|kernels::index|strided_zip"
                r"|try_unary::\{\{closure|try_binary::\{\{closure")),
    ("autograd bookkeeping (graph recording, engine, node drops)",
     re.compile(r"autograd::|node::Node|ops::record|record_operation|gradient_edge|hashbrown|Backward")),
    ("op dispatch, tensor creation and drop",
     re.compile(r"nabla_core::ops|nabla_core::tensor|TensorImpl|smallvec|Arc<T,A>::drop_slow|drop_in_place"
                r"|nabla_nn::module|nabla_nn::layers")),
    ("threads (waiting for helpers, scheduler)",
     re.compile(r"parallel::pause|Team::|futex|sched|finish_task_switch|syscall|pthread|clock_gettime")),
]
ALLOCATOR = re.compile(
    r"^mi_|^_mi_|mimalloc|malloc|^free|cfree|__rust_alloc|__rust_dealloc|__rust_realloc|alloc::alloc|raw_vec"
    r"|clear_page|page_fault|handle_mm_fault|folio|alloc_pages|rmqueue|unmap|madvise|mmap|zap_"
)
PROJECT = re.compile(r"nabla|gemm")
TASK_CLOSURE = re.compile(r"parallel::for_each[a-z_]*::\{\{closure")
THREADS = [
    ("kernel helpers", re.compile(r"^nabla-kernel")),
    ("data loader", re.compile(r"nabla_nn::data::loader")),
    # The binary's own name: the threads above are told apart first, and deep stacks are not
    # always unwound as far as `nabla::main`.
    ("main", re.compile(r"^nabla ")),
]


def samples(lines):
    """(thread name, period, frames leaf first) per sample of `perf script` output."""
    header, frames = None, []
    for line in lines:
        if not line.strip():
            if header is not None:
                yield (*header, frames)
            header, frames = None, []
        elif not line[0].isspace():
            fields = line.split()
            header = (fields[0], int(fields[-1]))
        else:
            parts = line.strip().split(maxsplit=1)
            frames.append(parts[1] if len(parts) > 1 else "?")
    if header is not None:
        yield (*header, frames)


def short(frame):
    """A frame's function without generic arguments: `Layout::for_each_index`, `Adam::apply`."""
    frame = frame.replace(" (inlined)", "")
    previous = None
    while previous != frame:
        previous = frame
        frame = re.sub(r"(?<=[\w)}])<[^<>]*>", "", frame)
        frame = re.sub(r"<([^<>]*?) as [^<>]*>", r"\1", frame)
        frame = re.sub(r"<([^<>]*)>", r"\1", frame)
    return "::".join(frame.split("::")[-2:]) or "?"


def category(frames, stack):
    """The category of a sample from its frames (leaf first) and their joined text."""
    for name, pattern in EXCLUDED:
        if pattern.search(stack):
            return name
    if DATA_FRAMES.search(stack):
        return DATA
    for frame in frames:
        if PROJECT.search(frame):
            break
        if ALLOCATOR.search(frame):
            return ALLOCATION
    # Inlined frames are named from debug info, where code shared by several instantiations
    # may carry the wrong one's generic arguments; the real frames' symbols are reliable.
    walked = False
    for depth, frame in enumerate(frames):
        if frame.endswith("(inlined)"):
            continue
        walked = walked or "Layout::for_each_index" in frame
        # `read` hands a kernel its input as a slice, copying a non-contiguous tensor first by
        # walking its index space; kernels run inside it (its own time is locking).
        if depth > 0 and frame.endswith("Tensor::read"):
            return LAYOUT if walked else ELEMENTWISE
        # A task of the kernel team (an optimiser's piece of update, say) has its work inlined
        # into the team's closure: the inlined frames say whose work it is.
        if TASK_CLOSURE.search(frame):
            for inlined in frames[:depth]:
                for name, pattern in CATEGORIES:
                    if pattern.search(inlined):
                        return name
        for name, pattern in CATEGORIES:
            if pattern.search(frame):
                return name
    return "other"


def main():
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    cpu, wall, leaves = Counter(), Counter(), defaultdict(Counter)
    threads = Counter()
    excluded_names = {name for name, _ in EXCLUDED}
    for comm, period, frames in samples(sys.stdin):
        stack = " ".join(frames)
        name = category(frames, stack)
        thread = next((t for t, p in THREADS if p.search(comm + " " + stack)), "other threads")
        cpu[name] += period
        if thread == "main":
            wall[name] += period
        leaves[name][short(frames[0]) if frames else "?"] += period
        if name not in excluded_names:
            threads[thread] += period
    excluded = {name: cpu.pop(name) for name, _ in EXCLUDED if name in cpu}
    for name in excluded:
        wall.pop(name, None)  # its samples may all be on other threads
    total_cpu, total_wall = sum(cpu.values()), sum(wall.values())
    if total_cpu == 0:
        raise SystemExit("no samples")
    print(f"{'CPU':>6} {'~wall':>6}  category (top leaf functions, share of CPU samples)")
    for name, period in cpu.most_common():
        top = ", ".join(f"{leaf} {100 * p / total_cpu:.1f}%" for leaf, p in leaves[name].most_common(3))
        print(f"{100 * period / total_cpu:5.1f}% {100 * wall[name] / total_wall:5.1f}%  {name}: {top}")
    everything = total_cpu + sum(excluded.values())
    for name, period in excluded.items():
        print(f"left out: {name}, {100 * period / everything:.1f}% of all samples")
    print("CPU samples by thread: " + ", ".join(f"{t} {100 * p / total_cpu:.1f}%" for t, p in threads.most_common()))


if __name__ == "__main__":
    main()
