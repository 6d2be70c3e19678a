"""Autograd from Python beyond the pinned snippets: Python ``autograd.Function`` subclasses
through gradcheck and double backward, hooks, graph errors, and grad modes across threads."""

import threading

import pytest

import nabla
from nabla.autograd import Function, GradcheckError, gradcheck


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x ** 2


class ScaledProduct(Function):
    """Two tensor inputs and a number; the number gets no gradient."""

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b * ctx.scale, grad * a * ctx.scale, None


class WrongCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x ** 2


def f64(values):
    return nabla.tensor(values, dtype=nabla.float64, requires_grad=True)


def test_python_function_passes_gradcheck():
    assert gradcheck(Cube.apply, (f64([0.5, -1.5, 2.0]),))
    a, b = f64([[1.0, 2.0]]), f64([[3.0, -1.0]])
    assert gradcheck(lambda x, y: ScaledProduct.apply(x, y, 2.5), (a, b))


def test_wrong_backward_fails_gradcheck():
    with pytest.raises(GradcheckError, match="gradcheck failed"):
        gradcheck(WrongCube.apply, (f64([1.0, 2.0]),))
    assert gradcheck(WrongCube.apply, (f64([1.0]),), raise_exception=False) is False


def test_python_function_node_and_values():
    x = nabla.tensor([2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name() == "CubeBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "nabla::autograd::AccumulateGrad"
    y.sum().backward()
    assert x.grad.tolist() == [12.0]


def test_python_function_double_backward():
    x = nabla.tensor(2.0, dtype=nabla.float64, requires_grad=True)
    (g,) = nabla.autograd.grad(Cube.apply(x), x, create_graph=True)
    (h,) = nabla.autograd.grad(g, x)
    assert (g.item(), h.item()) == (12.0, 12.0)


def test_exception_in_backward_reaches_the_caller():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    x = nabla.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="broken backward"):
        Broken.apply(x).sum().backward()


def test_wrong_gradient_shape_is_an_error():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return nabla.ones(3)

    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an invalid gradient at index 0 - got \[3\]"):
        BadShape.apply(x).sum().backward()


def test_wrong_gradient_count_is_an_error():
    class TwoGrads(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x = nabla.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        TwoGrads.apply(x).sum().backward()


def test_exception_in_forward_reaches_the_caller():
    class Raises(Function):
        @staticmethod
        def forward(ctx, x):
            raise KeyError("no forward")

    with pytest.raises(KeyError):
        Raises.apply(nabla.tensor([1.0], requires_grad=True))


def test_hook_sees_and_replaces_the_gradient():
    x = nabla.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [30.0, 30.0]


def test_second_backward_without_retain_graph_is_an_error():
    x = nabla.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = nabla.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 8.0


def test_grad_mode_is_per_thread():
    x = nabla.ones(1, requires_grad=True)
    results = []
    with nabla.no_grad():
        thread = threading.Thread(target=lambda: results.append((x * 2).requires_grad))
        thread.start()
        thread.join()
        results.append((x * 2).requires_grad)
    assert results == [True, False]


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with nabla.no_grad():
            1 / 0
    assert nabla.is_grad_enabled()


def test_data_assignment_keeps_the_leaf():
    w = nabla.tensor([1.0, 2.0], requires_grad=True)
    w.data = nabla.tensor([5.0, 6.0])
    assert w.requires_grad and w.is_leaf
    (w * 2).sum().backward()
    assert w.tolist() == [5.0, 6.0] and w.grad.tolist() == [2.0, 2.0]


def test_grad_assignment_and_reset():
    w = nabla.tensor([1.0, 2.0], requires_grad=True)
    w.grad = nabla.tensor([0.5, 0.5])
    assert w.grad.tolist() == [0.5, 0.5]
    w.grad = None
    assert w.grad is None


def test_backward_runs_in_several_threads_at_once():
    """backward() releases the GIL; independent graphs in threads each get their gradients."""
    results = {}

    def train(i):
        w = nabla.full((64, 64), float(i + 1), requires_grad=True)
        x = nabla.ones(32, 64)
        for _ in range(5):
            (x @ w).relu().sum().backward()
        results[i] = w.grad[0, 0].item()

    threads = [threading.Thread(target=train, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: 160.0 for i in range(4)}


def test_exception_in_backward_of_a_two_input_function_reaches_the_caller():
    class Broken(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            raise ArithmeticError("broken backward of two inputs")

    a = nabla.tensor([1.0], requires_grad=True)
    b = nabla.tensor([2.0], requires_grad=True)
    with pytest.raises(ArithmeticError, match="two inputs"):
        (Broken.apply(a, b) * 3).sum().backward()
    assert nabla.is_grad_enabled()


def test_func_grad_composes():
    # torch.func.grad on f(x) = sin(x)·x² at 0.7 in float64
    # (tools/pytorch_reference/python_func_grad.py).
    from nabla.func import grad

    f = lambda x: x.sin() * x ** 2  # noqa: E731
    x = nabla.tensor(0.7, dtype=nabla.float64)
    assert grad(f)(x).item() == pytest.approx(1.2766774339021667, rel=1e-12)
    assert grad(grad(f))(x).item() == pytest.approx(3.114326832125481, rel=1e-12)
    assert grad(grad(grad(f)))(x).item() == pytest.approx(1.5085661655392295, rel=1e-12)
    g = lambda w: (w ** 3).sum() * w[0]  # noqa: E731
    w = nabla.tensor([1.5, -2.0], dtype=nabla.float64)
    assert grad(lambda w: grad(g)(w)[1])(w).tolist() == [12.0, -18.0]
    # The outermost transform leaves no graph behind, and its input untouched.
    assert grad(grad(f))(x).grad_fn is None and not x.requires_grad
