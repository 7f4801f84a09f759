"""keras.ops control flow (eager), custom_gradient, saturate_cast and the update/scatter ops."""

import numpy as np
import pytest
import torch

from kernelscope import ops
from kernelscope.autograd import Tensor, gradcheck

from test_keras_ops_numpy import _compare, _randn


def test_cond_switch_and_loops():
    assert ops.cond(Tensor(1.0) > 0, lambda: "yes", lambda: "no") == "yes"
    assert ops.switch(5, [lambda x: x + 1, lambda x: x * 10], 2) == 20  # the index is clamped, as Keras
    with pytest.raises(ValueError, match=r"`branches` must be a non-empty list"):
        ops.switch(0, [])
    assert ops.while_loop(lambda i: i < 10, lambda i: i + 3, 0) == 12
    assert ops.while_loop(lambda i, s: True, lambda i, s: (i + 1, s * 2), (0, 1.0), maximum_iterations=4) == (4, 16.0)
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6


def test_loops_are_differentiable():
    gradcheck(lambda x: ops.fori_loop(0, 3, lambda i, v: v * x + 1.0, x), [np.array([0.7, -1.2])])
    gradcheck(lambda x: ops.while_loop(lambda v, n: n < 3, lambda v, n: (ops.sin(v) * 2.0, n + 1), (x, 0))[0],
              [np.array([0.3, 1.1])])


def test_scan_against_torch_cumulative_ops():
    xs = _randn(5, 3, seed=80)
    _compare(lambda t: ops.scan(lambda c, x: (c + x, c * x), ops.zeros(3, "float64"), t)[1],
             lambda t: torch.cat([torch.zeros(1, 3, dtype=t.dtype), t.cumsum(0)[:-1]]) * t, [xs])
    carry, ys = ops.scan(lambda c, x: (c + x, c), 0.0, np.arange(4.0), reverse=True)
    assert float(carry) == 6.0 and list(ys.numpy()) == [6.0, 5.0, 3.0, 0.0]
    carry, ys = ops.scan(lambda c, _: (c * 2, None), 1.0, length=3)
    assert carry == 8.0 and ys is None
    with pytest.raises(ValueError, match=r"Got no `xs` to scan over and `length` not provided"):
        ops.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match=r"`unroll` must be an positive integer or boolean"):
        ops.scan(lambda c, x: (c, x), 0.0, length=2, unroll=0)


def test_map_and_vectorized_map():
    xs = _randn(4, 3, seed=81)
    _compare(lambda t: ops.map(lambda r: ops.sum(r * r), t), lambda t: (t * t).sum(1), [xs])
    _compare(lambda t: ops.vectorized_map(lambda r: ops.softmax(r), t), lambda t: torch.softmax(t, 1), [xs])
    pairs = ops.vectorized_map(lambda ab: ab[0] * ab[1], (xs, xs * 2))
    np.testing.assert_allclose(pairs.numpy(), xs * xs * 2)


def test_custom_gradient_replaces_the_backward():
    @ops.custom_gradient
    def log1pexp(x):  # the Keras docs' example: a stable gradient for log(1 + exp(x))
        e = ops.exp(x)

        def grad(upstream):
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

        return ops.log(1 + e), grad

    x = Tensor(np.array([0.0, 2.0, -3.0]), requires_grad=True)
    y = log1pexp(x)
    np.testing.assert_allclose(y.numpy(), np.log1p(np.exp(x.numpy())))
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(-x.numpy())))

    @ops.custom_gradient
    def clipped_identity(x, scale):
        return x * scale, lambda g: (g.clip(-0.1, 0.1), None)

    z = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (clipped_identity(z, 3.0) * 5.0).sum().backward()
    np.testing.assert_allclose(z.grad, [0.1, 0.1])

    @ops.custom_gradient
    def bad(x):
        return x * 1.0, lambda g: (g, g)

    with pytest.raises(ValueError, match=r"The gradient function of `bad` returned 2 gradients for 1 tensor inputs"):
        bad(Tensor(np.ones(2), requires_grad=True)).sum().backward()


def test_saturate_cast():
    np.testing.assert_array_equal(ops.saturate_cast(np.array([300.0, -5.0, 7.6]), "uint8").numpy(), [255, 0, 7])
    np.testing.assert_array_equal(ops.saturate_cast(np.array([40000, -40000]), "int16").numpy(), [32767, -32768])
    assert ops.saturate_cast(np.array([1e300]), "float32").numpy()[0] == np.finfo(np.float32).max


def test_slice_update_scatter_and_scatter_update_against_torch():
    x, u = _randn(4, 5, seed=82), _randn(2, 3, seed=83)

    def torch_slice_update(a, b):
        out = a.clone()
        out[1:3, 2:5] = b
        return out

    _compare(lambda a, b: ops.slice_update(a, (1, 2), b), torch_slice_update, [x, u])
    idx = np.array([[0, 1], [3, 4], [0, 1]])
    v = _randn(3, seed=84)
    _compare(lambda t: ops.scatter(idx, t, (4, 5)),
             lambda t: torch.zeros(4, 5, dtype=t.dtype).index_put((torch.tensor(idx[:, 0]), torch.tensor(idx[:, 1])),
                                                                  t, accumulate=True), [v])
    rows = np.array([[2], [0]])
    _compare(lambda t: ops.scatter(rows, t, (3, 5)),
             lambda t: torch.zeros(3, 5, dtype=t.dtype).index_put((torch.tensor([2, 0]),), t, accumulate=True),
             [_randn(2, 5, seed=85)])
    unique = np.array([[0, 1], [3, 4]])

    def torch_scatter_update(a, b):
        return a.index_put((torch.tensor(unique[:, 0]), torch.tensor(unique[:, 1])), b)

    _compare(lambda a, b: ops.scatter_update(a, unique, b), torch_scatter_update, [x, _randn(2, seed=86)])
    _compare(lambda a, b: ops.scatter_update(a, idx, b, reduction="add"),
             lambda a, b: a.index_put((torch.tensor(idx[:, 0]), torch.tensor(idx[:, 1])), b, accumulate=True),
             [x, v])
    with pytest.raises(ValueError, match=r"scatter_update\(reduction='max'\) is not supported"):
        ops.scatter_update(x, unique, np.ones(2), reduction="max")
    with pytest.raises(ValueError, match=r"Unsupported reduction: mean"):
        ops.scatter_update(x, unique, np.ones(2), reduction="mean")
    with pytest.raises(ValueError, match=r"`updates` of shape \(2, 3\) at `start_indices`=\(3, 0\) must fit"):
        ops.slice_update(x, (3, 0), u)
