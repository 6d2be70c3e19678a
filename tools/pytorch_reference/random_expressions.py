"""Random expressions in `nabla grad`'s language, with their float64 value, gradient and
Hessian computed by PyTorch, for crates/nabla-inspect/tests/random_expressions.rs.

PyTorch evaluates the expression text itself (with `^` written as Python's `**`), so the
reference also checks that nabla's parser gives operators Python's precedence and
associativity. Expressions stay inside every function's domain (log, sqrt and fractional
powers only of positive sub-expressions, division only by them) and away from kinks (the
arguments of abs and relu, and the two sides of max and min, differ from zero by at least
1e-3 at the chosen point); cases whose numbers are not finite or exceed 1e6 are redrawn.

Run from the repository root (deterministic: fixed seed):

    /work/venv/bin/python tools/pytorch_reference/random_expressions.py \
        > crates/nabla-inspect/tests/data/random_expressions.json
"""

import json
import random

import torch

SEED = 20240611
CASES = 300
NAMES = ["x", "y", "w", "b", "apple", "w1", "x_2"]
NUMBERS = ["0.5", "1", "2", "3", ".25", "1.5", "2.5e-1", "1e-1", "4", "0.75"]
KINK_MARGIN = 1e-3
LIMIT = 1e6



def lifted(function):
    """`function` accepting Python numbers too (constant arguments), as float64 tensors."""

    def call(*args):
        return function(
            *(a if torch.is_tensor(a) else torch.tensor(float(a), dtype=torch.float64) for a in args)
        )

    return call


FUNCTIONS = {
    name: lifted(function)
    for name, function in {
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "abs": torch.abs,
        "sin": torch.sin,
        "cos": torch.cos,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "relu": torch.relu,
        "max": torch.maximum,
        "min": torch.minimum,
    }.items()
}

# Binding strengths of the outermost operator, as in the grammar: + - 1, * / 2, unary - 3,
# ^ 4, atoms 9.
ATOM = 9


class Gen:
    def __init__(self, rng, names):
        self.rng = rng
        self.names = names
        # (function, argument texts) of every kink, to check the margins at the point.
        self.kinks = []

    def wrap(self, expr, below):
        """Parenthesise `expr` (text, strength) when it binds looser than `below`; sometimes
        parenthesise anyway, as people do."""
        text, strength = expr
        if strength < below or (strength < ATOM and self.rng.random() < 0.15):
            return f"({text})"
        return text

    def leaf(self):
        if self.rng.random() < 0.7:
            return (self.rng.choice(self.names), ATOM)
        return (self.rng.choice(NUMBERS), ATOM)

    def positive(self, depth):
        """A sub-expression positive everywhere."""
        inner = self.expr(depth - 1)
        choice = self.rng.randrange(4)
        if choice == 0:
            return (f"abs({inner[0]}) + {self.rng.choice(['0.5', '1', '1.5'])}", 1), (
                "abs",
                [inner[0]],
            )
        if choice == 1:
            return (f"exp({self.wrap(inner, 0)})", ATOM), None
        if choice == 2:
            return (f"{self.wrap(inner, 5)}^2 + 0.5", 1), None
        return (f"sigmoid({inner[0]})", ATOM), None

    def positive_expr(self, depth):
        expr, kink = self.positive(depth)
        if kink:
            self.kinks.append(kink)
        return expr

    def expr(self, depth):
        if depth <= 0:
            return self.leaf()
        kind = self.rng.randrange(12)
        if kind <= 3:
            op = self.rng.choice(["+", "-", "*"])
            strength = 1 if op in "+-" else 2
            a, b = self.expr(depth - 1), self.expr(depth - 1)
            # Left-associative: the right operand of - must bind tighter.
            right = strength + 1 if op == "-" else strength
            return (f"{self.wrap(a, strength)}{op}{self.wrap(b, right)}", strength)
        if kind == 4:
            a, b = self.expr(depth - 1), self.positive_expr(depth - 1)
            return (f"{self.wrap(a, 2)}/{self.wrap(b, 3)}", 2)
        if kind == 5:
            caret = self.rng.choice(["^", "**"])
            if self.rng.random() < 0.5:
                a = self.expr(depth - 1)
                k = self.rng.choice(["2", "3"])
                return (f"{self.wrap(a, 5)}{caret}{k}", 4)
            base = self.positive_expr(depth - 1)
            k = self.rng.choice(["0.5", "1.5", "-1", "-0.5", "2.5"])
            return (f"{self.wrap(base, 5)}{caret}{k}", 4)
        if kind == 6:
            base = self.positive_expr(depth - 1)
            exponent = self.expr(depth - 1)
            caret = self.rng.choice(["^", "**"])
            return (f"{self.wrap(base, 5)}{caret}{self.wrap(exponent, 4)}", 4)
        if kind == 7:
            a = self.expr(depth - 1)
            return (f"-{self.wrap(a, 4)}", 3)
        if kind == 8:
            name = self.rng.choice(["log", "sqrt"])
            arg = self.positive_expr(depth - 1)
            return (f"{name}({arg[0]})", ATOM)
        if kind == 9:
            name = self.rng.choice(["max", "min"])
            a, b = self.expr(depth - 1), self.expr(depth - 1)
            self.kinks.append((name, [a[0], b[0]]))
            return (f"{name}({a[0]}, {b[0]})", ATOM)
        name = self.rng.choice(["exp", "sin", "cos", "tanh", "sigmoid", "abs", "relu"])
        a = self.expr(depth - 1)
        if name in ("abs", "relu"):
            self.kinks.append((name, [a[0]]))
        if name == "exp":
            # Keep exp's argument small: exp(tanh(...)) or exp of a shallow expression.
            a = (f"tanh({a[0]})", ATOM) if depth > 2 else a
        return (f"{name}({a[0]})", ATOM)


def evaluate(text, at):
    """Value, gradient and Hessian of `text` at `at` (a dict name -> float), by PyTorch."""
    names = list(at)
    python = text.replace("^", "**")

    def f(v):
        scope = dict(FUNCTIONS)
        scope.update({n: v[i] for i, n in enumerate(names)})
        out = eval(python, {"__builtins__": {}}, scope)
        return out if torch.is_tensor(out) else torch.tensor(float(out), dtype=torch.float64)

    point = torch.tensor([at[n] for n in names], dtype=torch.float64, requires_grad=True)
    value = f(point)
    (grad,) = torch.autograd.grad(value, point, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(point)
    hessian = torch.autograd.functional.hessian(f, point.detach())
    return value.item(), grad.tolist(), hessian.tolist()


def scalar(text, at):
    scope = dict(FUNCTIONS)
    scope.update({n: torch.tensor(v, dtype=torch.float64) for n, v in at.items()})
    out = eval(text.replace("^", "**"), {"__builtins__": {}}, scope)
    return float(out)


def kinks_clear(kinks, at):
    for name, args in kinks:
        values = [scalar(a, at) for a in args]
        gap = abs(values[0] - values[1]) if len(values) == 2 else abs(values[0])
        if gap < KINK_MARGIN:
            return False
    return True


def used(text, names):
    """The names `text` uses, in order of first appearance."""
    tokens = []
    word = ""
    for c in text + " ":
        if c.isalnum() or c == "_":
            word += c
        else:
            if word and word in names and word not in tokens:
                tokens.append(word)
            word = ""
    return tokens


def finite(numbers):
    return all(abs(v) <= LIMIT for v in numbers)  # NaN compares false


def main():
    rng = random.Random(SEED)
    cases = []
    while len(cases) < CASES:
        names = rng.sample(NAMES, rng.randint(1, 3))
        gen = Gen(rng, names)
        text, _ = gen.expr(rng.randint(1, 4))
        variables = used(text, names)
        if not variables:
            continue
        at = {n: round(rng.uniform(-2, 2), 2) for n in variables}
        try:
            if not kinks_clear(gen.kinks, at):
                continue
            value, grad, hessian = evaluate(text, at)
        except (ZeroDivisionError, OverflowError, ValueError):
            continue
        if not finite([value, *grad, *sum(hessian, [])]):
            continue
        cases.append(
            {
                "expr": text,
                "at": at,
                "value": value,
                "grad": dict(zip(variables, grad)),
                "hessian": {n: dict(zip(variables, row)) for n, row in zip(variables, hessian)},
            }
        )
    print(
        json.dumps(
            {
                "about": "random expressions with float64 value, gradient and Hessian by "
                "PyTorch; generated by tools/pytorch_reference/random_expressions.py",
                "torch": torch.__version__,
                "seed": SEED,
                "cases": cases,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
