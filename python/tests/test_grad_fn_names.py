"""``grad_fn.name()`` as PyTorch names each operation's node: the names PyTorch 2.15 gives,
written by ``tools/pytorch_reference/python_grad_fn_names.py``, for the same expressions."""

import pytest

import nabla as torch

F = torch.nn.functional

TORCH_NAMES = {
    'x + y': 'AddBackward0',
    'x + 2': 'AddBackward0',
    '2 + x': 'AddBackward0',
    'x - y': 'SubBackward0',
    'x - 2': 'SubBackward0',
    '2 - x': 'RsubBackward1',
    'x * y': 'MulBackward0',
    'x * 2': 'MulBackward0',
    'x / y': 'DivBackward0',
    'x / 2': 'DivBackward0',
    '2 / x': 'MulBackward0',
    '-x': 'NegBackward0',
    'x ** 2': 'PowBackward0',
    'x ** y': 'PowBackward1',
    'x @ m': 'MmBackward0',
    'v @ v': 'DotBackward0',
    'x @ v': 'MvBackward0',
    'x.matmul(m)': 'MmBackward0',
    'x.sum()': 'SumBackward0',
    'x.sum(1)': 'SumBackward1',
    'x.mean()': 'MeanBackward0',
    'x.mean(1)': 'MeanBackward1',
    'x.max()': 'MaxBackward1',
    'x.exp()': 'ExpBackward0',
    'x.log()': 'LogBackward0',
    'x.abs()': 'AbsBackward0',
    'x.sqrt()': 'SqrtBackward0',
    'x.tanh()': 'TanhBackward0',
    'x.sigmoid()': 'SigmoidBackward0',
    'x.relu()': 'ReluBackward0',
    'x.view(3, 2)': 'ViewBackward0',
    'x.view(-1)': 'ViewBackward0',
    'x.reshape(3, 2)': 'ViewBackward0',
    'x.flatten()': 'ViewBackward0',
    'x.permute(1, 0)': 'PermuteBackward0',
    'x.transpose(0, 1)': 'TransposeBackward0',
    'x.t()': 'TBackward0',
    'x.T': 'PermuteBackward0',
    'x.unsqueeze(0)': 'UnsqueezeBackward0',
    's.squeeze()': 'SqueezeBackward0',
    's.squeeze(0)': 'SqueezeBackward1',
    'x[0]': 'SelectBackward0',
    'x[:, 1:]': 'SliceBackward0',
    'x.clone()': 'CloneBackward0',
    'x.double()': 'ToCopyBackward0',
    'torch.cat([x, y])': 'CatBackward0',
    'torch.stack([x, y])': 'StackBackward0',
    'F.softmax(x, 1)': 'SoftmaxBackward0',
    'F.log_softmax(x, 1)': 'LogSoftmaxBackward0',
    'F.mse_loss(x, y)': 'MseLossBackward0',
}


@pytest.fixture(scope="module")
def scope():
    torch.manual_seed(0)
    return {
        "torch": torch,
        "F": F,
        "x": torch.rand(2, 3, requires_grad=True),
        "y": torch.rand(2, 3, requires_grad=True),
        "m": torch.randn(3, 4, requires_grad=True),
        "v": torch.randn(3, requires_grad=True),
        "s": torch.randn(1, 3, requires_grad=True),
    }


@pytest.mark.parametrize("expression", list(TORCH_NAMES))
def test_grad_fn_name_is_pytorchs(scope, expression):
    assert eval(expression, scope).grad_fn.name() == TORCH_NAMES[expression]


def test_names_survive_next_functions_and_repr(scope):
    loss = (scope["x"] - 1).mean()
    assert loss.grad_fn.name() == "MeanBackward0"
    assert repr(loss.grad_fn).startswith("<MeanBackward0 object at 0x")
    sub = loss.grad_fn.next_functions[0][0]
    while sub.name() != "SubBackward0":
        sub = sub.next_functions[0][0]
    assert sub.next_functions[0][0].name() == "nabla::autograd::AccumulateGrad"
