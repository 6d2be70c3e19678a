"""Mistakes raise the exception PyTorch raises (never an abort), with a message naming the
operation and the shapes."""

import subprocess
import sys

import numpy as np  # noqa: F401  (the snippets use it)
import pytest

import nabla


@pytest.mark.parametrize(
    "code, error, message",
    [
        ("nabla.ones(2) + nabla.ones(3)", RuntimeError, r"add: shapes \[2\] and \[3\] are incompatible"),
        ("nabla.ones(2, 3) @ nabla.ones(2, 3)", RuntimeError, r"matmul"),
        ("nabla.ones(2, 3).sum(dim=2)", IndexError, r"dimension 2 is out of range"),
        ("nabla.ones(2, 3).transpose(0, 5)", IndexError, r"out of range"),
        ("nabla.ones(3)[5]", IndexError, r"index 5 is out of bounds for dimension 0 with size 3"),
        ("nabla.ones(3)[0, 0]", IndexError, r"too many indices for tensor of dimension 1"),
        ("nabla.arange(5)[nabla.tensor([7])]", IndexError, r"index 7 is out of bounds"),
        ("nabla.ones(3)['a']", IndexError, r"only integers, slices"),
        ("nabla.ones(3)[::-1]", ValueError, r"step must be greater than zero"),
        ("nabla.ones(6).reshape(4, 2)", RuntimeError, r"6 elements cannot form shape \[4, 2\]"),
        ("nabla.ones(2, 3).t().view(6)", RuntimeError, r"view size is not compatible"),
        ("nabla.ones(2).item()", RuntimeError, r"a Tensor with 2 elements cannot be converted to Scalar"),
        ("bool(nabla.ones(2))", RuntimeError, r"Boolean value of Tensor with 2 values is ambiguous"),
        ("nabla.ones(2, requires_grad=True).backward()", RuntimeError, r"grad can be implicitly created only for scalar outputs"),
        ("nabla.ones(1).backward()", RuntimeError, r"does not require grad"),
        ("nabla.tensor([1, 2], requires_grad=True)", RuntimeError, r"only Tensors of floating point dtype can require gradients"),
        ("(nabla.ones(1, requires_grad=True) * 2).requires_grad_(False)", RuntimeError, r"only change requires_grad flags of leaf variables"),
        ("nabla.ones(1, requires_grad=True).numpy()", RuntimeError, r"Can't call numpy\(\) on Tensor that requires grad"),
        ("nabla.tensor([[1, 2], [3]])", ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
        ("nabla.tensor(['a'])", TypeError, r"could not infer dtype of str"),
        ("nabla.tensor(eval('[' * 70 + '1' + ']' * 70))", ValueError, r"too many dimensions"),
        ("nabla.zeros(-1)", RuntimeError, r"negative dimension -1"),
        ("nabla.ones(2) + 'a'", TypeError, r"unsupported operand"),
        ("nabla.from_numpy([1, 2])", TypeError, r"expected np.ndarray \(got list\)"),
        ("nabla.from_numpy(np.array(['a']))", TypeError, r"can't convert np.ndarray of type"),
        ("nabla.ones(2).to('cuda')", RuntimeError, r"nabla runs on the CPU only; cannot put a tensor on \"cuda\""),
        ("nabla.zeros(2, device='cuda:0')", RuntimeError, r"nabla runs on the CPU only; cannot put a tensor on \"cuda:0\""),
        ("nabla.rand(2, generator=object())", TypeError, r"generator must be a nabla.Generator, not object"),
        ("nabla.ones(1).grad_fn.name()", AttributeError, r"NoneType"),
        ("nabla.autograd.grad(nabla.ones(1, requires_grad=True).sum(), nabla.ones(1, requires_grad=True))", RuntimeError, r"grad"),
        ("nabla.ones(1, requires_grad=True).retain_grad() or nabla.ones(1).retain_grad()", RuntimeError, r"can't retain_grad on Tensor that has requires_grad=False"),
        ("nabla.ones(2).clamp()", RuntimeError, r"At least one of 'min' or 'max' must not be None"),
        ("nabla.arange(3).mean()", RuntimeError, r"mean\(\): could not infer output dtype"),
        ("nabla.set_num_threads(0)", ValueError, r"the thread count must be from 1 to 1024, got 0"),
        ("nabla.set_num_threads(-2)", ValueError, r"the thread count must be from 1 to 1024, got -2"),
        ("nabla.stack([nabla.ones(2), nabla.ones(3)])", RuntimeError, r"shapes \[1, 2\] and \[1, 3\] are incompatible"),
        ("nabla.cat([nabla.ones(2), 5])", TypeError, r"each element of tensors must be a Tensor, not int"),
        ("nabla.ones(3)[nabla.ones(2) > 0]", IndexError, r"The shape of the mask \[2\] does not match the shape of the indexed tensor \[3\] at dimension 0"),
        ("nabla.ones(3).__setitem__(nabla.ones(2) > 0, 1.0)", IndexError, r"The shape of the mask \[2\] does not match the shape of the indexed tensor \[3\]"),
        ("nabla.ones(3).__setitem__(nabla.ones(3) > 0, nabla.ones(2))", RuntimeError, r"assignment through a mask takes a number or a one-element tensor"),
        ("~nabla.arange(3)", TypeError, r"~ is defined for comparison results \(masks\) only"),
        ("(nabla.ones(2) > 0) & nabla.ones(2)", TypeError, r"& is defined for comparison results \(masks\) only"),
        ("nabla.ones(2, 3).squeeze(5)", IndexError, r"squeeze: dimension 5 is out of range for a tensor of shape \[2, 3\]"),
        ("nabla.ones(2).grad_fn", None, None),
    ],
)
def test_mistake_raises(code, error, message):
    if error is None:
        assert eval(code) is None
        return
    with pytest.raises(error, match=message):
        eval(code)


def test_the_cpu_device_is_accepted():
    t = nabla.ones(2, device="cpu").to("cpu", nabla.float64)
    assert t.dtype is nabla.float64 and t.device == "cpu"


def test_in_place_write_to_a_leaf_that_requires_grad_is_refused():
    w = nabla.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires"):
        w[0] = 5.0
    with nabla.no_grad():
        w[0] = 5.0
    assert w.tolist() == [5.0, 1.0, 1.0]


def test_column_assignment_needs_a_contiguous_target():
    x = nabla.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"assignment to a selection of shape \[2\] with strides \[3\]: nabla writes only contiguous"):
        x[:, 0] = 1.0


def test_in_place_update_of_a_recorded_tensor_is_refused():
    w = nabla.ones(2, requires_grad=True)
    y = w * 2
    with pytest.raises(RuntimeError):
        y += 1


def test_assigned_gradient_of_another_shape_is_refused():
    w = nabla.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="assigned grad has data of a different size"):
        w.grad = nabla.ones(2)


def test_set_num_threads_before_the_first_kernel():
    code = (
        "import nabla; nabla.set_num_threads(1); a = nabla.randn(300, 300); a @ a; "
        "print(nabla.get_num_threads())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_changing_the_thread_count_later_names_the_count_in_force():
    a = nabla.randn(300, 300)
    a @ a
    count = nabla.get_num_threads()
    nabla.set_num_threads(count)
    if count < 1024:
        with pytest.raises(RuntimeError, match=f"kernels already run with {count} threads"):
            nabla.set_num_threads(count + 1)
