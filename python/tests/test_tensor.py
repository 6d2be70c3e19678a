"""Tensor behaviour that pinned values cannot show: seeded random numbers, NumPy arrays that
share the tensor's memory, and the GIL released by large kernels."""

import copy
import pickle
import sys
import threading
import time

import numpy as np

import nabla


def test_manual_seed_repeats_rand_and_randn():
    nabla.manual_seed(7)
    a, b = nabla.rand(5), nabla.randn(2, 3, dtype=nabla.float64)
    nabla.manual_seed(7)
    assert nabla.rand(5).tolist() == a.tolist()
    assert nabla.randn(2, 3, dtype=nabla.float64).tolist() == b.tolist()
    assert b.dtype == nabla.float64


def test_rand_and_randn_have_their_distributions():
    nabla.manual_seed(0)
    u = nabla.rand(20000).numpy()
    n = nabla.randn(20000).numpy()
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.01
    assert abs(n.mean()) < 0.03 and abs(n.std() - 1.0) < 0.03


def test_numpy_shares_memory_both_ways():
    t = nabla.arange(6.0).reshape(2, 3)
    a = t.numpy()
    assert a.ctypes.data == t.data_ptr()
    assert isinstance(a.base, nabla.Tensor)
    a[1, 2] = -1.0
    assert t[1, 2].item() == -1.0
    with nabla.no_grad():
        t[0] = 9.0
    assert a[0].tolist() == [9.0, 9.0, 9.0]


def test_numpy_of_views_keeps_their_strides():
    t = nabla.arange(12, dtype=nabla.float64).reshape(3, 4)
    v = t.T.numpy()
    assert v.strides == (8, 32) and v.dtype == np.float64
    assert v.tolist() == np.arange(12.0).reshape(3, 4).T.tolist()
    w = t[1:, 1::2].numpy()
    assert w.tolist() == [[5.0, 7.0], [9.0, 11.0]]
    assert nabla.tensor([1, 2]).numpy().dtype == np.int64


def test_numpy_array_outlives_the_tensor_handle():
    a = nabla.arange(4.0).numpy()
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_numpy_array_keeps_its_memory_when_the_tensor_data_is_replaced():
    t = nabla.arange(4.0)
    a = t.numpy()
    t.data = nabla.zeros(2)
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert t.tolist() == [0.0, 0.0]


def test_array_protocol_and_from_numpy_dtypes():
    t = nabla.tensor([[1.5, 2.5]])
    assert np.asarray(t).tolist() == [[1.5, 2.5]]
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert nabla.from_numpy(np.ones(2, dtype=np.float32)).dtype == nabla.float32
    assert nabla.from_numpy(np.ones(2, dtype=np.int32)).dtype == nabla.int64
    assert nabla.from_numpy(np.arange(6.0).reshape(2, 3).T).tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def ticks_while(work):
    """How often another thread ran while ``work()`` ran on this one. The switch interval is
    raised so this thread is never made to give the GIL up: the other thread runs only when
    the work releases the GIL itself."""
    ticks = []
    stop = threading.Event()
    started = threading.Event()

    def count():
        started.set()
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0)

    interval = sys.getswitchinterval()
    thread = threading.Thread(target=count)
    thread.start()
    started.wait()
    sys.setswitchinterval(30.0)
    try:
        before = len(ticks)
        work()
        return len(ticks) - before
    finally:
        sys.setswitchinterval(interval)
        stop.set()
        thread.join()


def test_large_kernels_release_the_gil_and_small_ones_keep_it():
    # Kernels of several milliseconds each, long enough for the waiting thread to wake on a
    # loaded machine.
    big = nabla.randn(1 << 22)
    a = nabla.randn(600, 600, requires_grad=True)
    small = nabla.randn(16)

    def elementwise():
        for _ in range(5):
            (big * 2.0 + 1.0).exp()

    def matmul_backward():
        for _ in range(3):
            (a @ a).sum().backward()

    def small_ops():
        for _ in range(2000):
            small * 2.0 + 1.0

    assert ticks_while(elementwise) > 0
    assert ticks_while(matmul_backward) > 0
    assert ticks_while(small_ops) == 0


def test_activations_and_in_place_kernels_release_the_gil():
    F = nabla.nn.functional
    big = nabla.randn(1 << 22)
    other = nabla.randn(1 << 22)

    def activations():
        for _ in range(3):
            F.relu(big), F.sigmoid(big), F.tanh(big), F.gelu(big), F.softmax(big, 0)

    def in_place():
        for _ in range(3):
            big.mul_(1.0).add_(other).sub_(other)
            big.copy_(other)
            big.fill_(0.5)
            big.zero_()

    assert ticks_while(activations) > 0
    assert ticks_while(in_place) > 0


def test_pickle_and_deepcopy_keep_values_dtype_and_requires_grad():
    w = nabla.tensor([[1.5, -2.0]], dtype=nabla.float64, requires_grad=True)
    for copy_ in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w)):
        assert copy_.tolist() == w.tolist() and copy_.dtype == nabla.float64
        assert copy_.requires_grad and copy_.is_leaf and copy_.data_ptr() != w.data_ptr()
    empty = pickle.loads(pickle.dumps(nabla.zeros(0, 3, dtype=nabla.int64)))
    assert tuple(empty.shape) == (0, 3) and empty.dtype == nabla.int64
