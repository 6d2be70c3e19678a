"""``from_numpy`` shares memory with the array as ``torch.from_numpy`` does, where the layout
allows: writes through either side show in the other, and the tensor keeps the array alive.
Other layouts and dtypes are copied."""

import gc
import weakref

import numpy as np
import pytest

import nabla


@pytest.mark.parametrize("dtype,expected", [(np.float32, nabla.float32),
                                            (np.float64, nabla.float64),
                                            (np.int64, nabla.int64)])
def test_contiguous_arrays_share_memory_both_ways(dtype, expected):
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    t = nabla.from_numpy(a)
    assert t.dtype == expected and t.shape == (2, 3)
    a[0, 1] = 40
    assert t[0, 1].item() == 40
    t[1, 2] = 50
    assert a[1, 2] == 50
    t.add_(1)
    assert a.tolist() == [[1, 41, 3], [4, 5, 51]]
    assert t.numpy().__array_interface__["data"][0] == a.__array_interface__["data"][0]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1000])
def test_every_size_shares(n):
    a = np.zeros(n, dtype=np.float32)
    t = nabla.from_numpy(a)
    a += 2
    assert t.tolist() == [2.0] * n


def test_tensor_keeps_the_array_alive():
    class Owned(np.ndarray):
        pass

    a = np.arange(4.0).view(Owned)
    alive = weakref.ref(a)
    t = nabla.from_numpy(a)
    del a
    gc.collect()
    assert alive() is not None
    view = t[1:]
    del t
    gc.collect()
    assert alive() is not None and view.tolist() == [1.0, 2.0, 3.0]
    del view
    gc.collect()
    assert alive() is None


def test_a_contiguous_slice_shares_and_keeps_its_base():
    base = np.arange(10.0)
    t = nabla.from_numpy(base[2:5])
    del base
    gc.collect()
    t += 1
    assert t.tolist() == [3.0, 4.0, 5.0]


def test_results_of_operations_are_new_memory():
    a = np.ones(3, dtype=np.float32)
    t = nabla.from_numpy(a)
    u = (t * 2).numpy()
    a[0] = 7
    assert u.tolist() == [2.0, 2.0, 2.0]


def test_gradients_flow_and_the_version_counter_still_guards():
    a = np.array([1.0, 2.0, 3.0])
    x = nabla.from_numpy(a).requires_grad_()
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    y = nabla.from_numpy(np.array([1.0, 2.0]))
    w = nabla.tensor([1.0, 1.0], dtype=nabla.float64, requires_grad=True)
    out = (w * y).sum()
    y.add_(1)
    with pytest.raises(RuntimeError, match="saved for backward was modified in place"):
        out.backward()


@pytest.mark.parametrize("make", [
    lambda: np.arange(6.0).reshape(2, 3).T,                  # not C-contiguous
    lambda: np.arange(6.0)[::2],                             # stepped
    lambda: np.arange(4, dtype=np.int32),                    # another dtype
    lambda: np.arange(4, dtype=np.float16),
    lambda: np.arange(4.0).astype(">f8"),                    # big-endian
    lambda: np.frombuffer(np.arange(4.0).tobytes()),         # read-only
    lambda: np.frombuffer(b"\0" + np.arange(3.0).tobytes(), offset=1),  # misaligned
])
def test_other_layouts_are_copied(make):
    a = make()
    t = nabla.from_numpy(a)
    expected = a.tolist()
    assert t.tolist() == expected
    if a.flags.writeable:
        a[0] = 99
        assert t.tolist() == expected
