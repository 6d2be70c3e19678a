"""Printing PyTorch values as Rust constants, laid out the way rustfmt lays them out.

Shared by the scripts here that pin values for nabla's tests: each value is the shortest decimal
that round-trips (so it parses to exactly PyTorch's f64), NaN and the infinities as `f64::`
constants, and an array is one line when it fits, else one element per line, as rustfmt's
defaults do, so `cargo fmt --check` passes on the generated files.
"""

import math

RUSTFMT_MAX_WIDTH = 100
RUSTFMT_ARRAY_WIDTH = 60  # rustfmt's default small-heuristics array_width


def fmt(v):
    """A Rust f64 expression that is exactly v: NaN, infinities and -0.0 included."""
    v = float(v)
    if math.isnan(v):
        return "f64::NAN"
    if math.isinf(v):
        return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
    s = repr(v)
    if "e" not in s and "." not in s:
        s += ".0"
    return s


def const(name, doc, values, kind="f64"):
    """`pub const NAME: [kind; n] = [...]` with a doc line; values is a list or a tensor."""
    if hasattr(values, "detach"):
        values = values.detach().reshape(-1).tolist()
    vals = [fmt(v) if kind == "f64" else str(int(v)) for v in values]
    head = f"pub const {name}: [{kind}; {len(vals)}] = ["
    array = "[" + ", ".join(vals) + "]"
    one_line = head[:-1] + array + ";"
    lines = [f"/// {doc}"]
    if len(array) <= RUSTFMT_ARRAY_WIDTH and len(one_line) <= RUSTFMT_MAX_WIDTH:
        lines.append(one_line)
    else:
        lines.append(head)
        lines.extend(f"    {v}," for v in vals)
        lines.append("];")
    return "\n".join(lines)
