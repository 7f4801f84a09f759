"""Activations: forward and gradient against PyTorch, gradchecks, Keras semantics, stability."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernelscope import Tensor
from kernelscope import ops
from kernelscope.autograd import gradcheck

TOLERANCE = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
SHAPE = (2, 3, 4, 5)


def _compare_with_torch(ks_fn, torch_fn, x, dtype, seed=0):
    """Forward and input-gradient of ``ks_fn`` against ``torch_fn`` under a random upstream gradient."""
    x = x.astype(dtype)
    t = Tensor(x.copy(), requires_grad=True)
    out = ks_fn(t)
    upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    tt = torch.tensor(x, requires_grad=True)
    ref = torch_fn(tt)
    ref.backward(torch.tensor(upstream))
    assert out.dtype == dtype and t.grad.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOLERANCE[dtype])
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), **TOLERANCE[dtype])


# name -> (kernelscope op, torch reference); randn*3 inputs almost surely avoid every kink
PAIRS = {
    "relu": (ops.relu, F.relu),
    "relu6": (ops.relu6, F.relu6),
    "relu_max_value": (lambda x: ops.relu(x, max_value=2.5), lambda x: torch.clamp(x, 0, 2.5)),
    "relu_threshold": (lambda x: ops.relu(x, threshold=1.5), lambda x: F.threshold(x, 1.5, 0.0)),
    "relu_slope_max": (lambda x: ops.relu(x, negative_slope=0.1, max_value=4.0),
                       lambda x: torch.clamp(F.leaky_relu(x, 0.1), max=4.0)),
    "relu_slope": (lambda x: ops.relu(x, negative_slope=0.3), lambda x: F.leaky_relu(x, 0.3)),
    "leaky_relu_default": (ops.leaky_relu, lambda x: F.leaky_relu(x, 0.2)),
    "leaky_relu_0.01": (lambda x: ops.leaky_relu(x, 0.01), lambda x: F.leaky_relu(x, 0.01)),
    "elu": (ops.elu, F.elu),
    "elu_alpha": (lambda x: ops.elu(x, alpha=0.5), lambda x: F.elu(x, alpha=0.5)),
    "gelu_tanh": (lambda x: ops.gelu(x, approximate=True), lambda x: F.gelu(x, approximate="tanh")),
    "gelu_exact": (lambda x: ops.gelu(x, approximate=False), F.gelu),
    "sigmoid": (ops.sigmoid, torch.sigmoid),
    # F.hardsigmoid's backward uses a float32 1/6 even for float64, so build it from clamp
    "hard_sigmoid": (ops.hard_sigmoid, lambda x: torch.clamp(x / 6 + 0.5, 0, 1)),
    "tanh": (ops.tanh, torch.tanh),
    "softmax": (ops.softmax, lambda x: torch.softmax(x, -1)),
    "softmax_axis1": (lambda x: ops.softmax(x, axis=1), lambda x: torch.softmax(x, 1)),
    "softmax_axes": (lambda x: ops.softmax(x, axis=(1, 2)),
                     lambda x: torch.exp(x - torch.logsumexp(x, dim=(1, 2), keepdim=True))),
    "log_softmax": (ops.log_softmax, lambda x: torch.log_softmax(x, -1)),
    "log_softmax_axis0": (lambda x: ops.log_softmax(x, axis=0), lambda x: torch.log_softmax(x, 0)),
    "silu": (ops.silu, F.silu),
    "swish": (ops.swish, F.silu),
    "softplus": (ops.softplus, F.softplus),
    "log_sigmoid": (ops.log_sigmoid, F.logsigmoid),
    "exponential": (ops.exponential, torch.exp),
    "linear": (lambda x: ops.linear(x) * 1.0, lambda x: x * 1.0),
    "logsumexp_all": (ops.logsumexp, lambda x: torch.logsumexp(x, dim=(0, 1, 2, 3))),
    "logsumexp_axis": (lambda x: ops.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, -1)),
    "logsumexp_keepdims": (lambda x: ops.logsumexp(x, axis=(0, 2), keepdims=True),
                           lambda x: torch.logsumexp(x, dim=(0, 2), keepdim=True)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_matches_torch(name, dtype):
    x = np.random.default_rng(1).standard_normal(SHAPE) * 3
    _compare_with_torch(*PAIRS[name], x, dtype)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_gradcheck(name):
    x = np.random.default_rng(2).standard_normal((3, 2, 2, 3)) * 3
    gradcheck(PAIRS[name][0], [x])


def test_relu_keras_docstring_examples():
    # keras.activations.relu docstring: x = [-10, -5, 0, 5, 10]
    x = [-10.0, -5.0, 0.0, 5.0, 10.0]
    np.testing.assert_array_equal(ops.relu(x).numpy(), [0, 0, 0, 5, 10])
    np.testing.assert_array_equal(ops.relu(x, negative_slope=0.5).numpy(), [-5, -2.5, 0, 5, 10])
    np.testing.assert_array_equal(ops.relu(x, max_value=5.0).numpy(), [0, 0, 0, 5, 5])
    np.testing.assert_array_equal(ops.relu(x, threshold=5.0).numpy(), [0, 0, 0, 0, 10])
    # keras.layers.ReLU docstring: max_value=10, negative_slope=0.5
    np.testing.assert_array_equal(ops.relu(x, negative_slope=0.5, max_value=10.0).numpy(), [-5, -2.5, 0, 5, 10])


def test_relu_all_arguments_by_hand():
    # f = max_value if x >= max_value; x if threshold < x < max_value; slope*(x - threshold) otherwise
    x = Tensor([-2.0, 0.5, 1.0, 2.0, 4.0, 6.0], dtype=np.float64, requires_grad=True)
    out = ops.relu(x, negative_slope=0.5, max_value=4.0, threshold=1.0)
    np.testing.assert_allclose(out.numpy(), [-1.5, -0.25, 0.0, 2.0, 4.0, 4.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad[[0, 1, 3, 5]], [0.5, 0.5, 1.0, 0.0])


def test_hard_sigmoid_keras3_definition():
    # Keras 3: 0 for x <= -3, 1 for x >= 3, x/6 + 0.5 in between
    np.testing.assert_allclose(ops.hard_sigmoid([-4.0, -3.0, -1.0, 0.0, 1.0, 3.0, 4.0]).numpy(),
                               [0, 0, 1 / 3, 0.5, 2 / 3, 1, 1], rtol=1e-6)


def test_hard_sigmoid_matches_torch_hardsigmoid_float32():
    x = np.random.default_rng(4).standard_normal(SHAPE) * 3
    _compare_with_torch(ops.hard_sigmoid, F.hardsigmoid, x, np.float32)


def test_gelu_defaults_follow_keras():
    # Published values of keras.activations.gelu on [-3, -1, 0, 1, 3]. TF computed them with a
    # float32 1 + erf(x) that loses ~2e-7 at x=-3 (exact: -3 * Phi(-3) = -0.0040496941), hence atol.
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    exact = [-0.00404951, -0.15865529, 0.0, 0.8413447, 2.9959507]
    tanh_form = [-0.00363752, -0.15880796, 0.0, 0.841192, 2.9963627]
    np.testing.assert_allclose(ops.get("gelu")(x).numpy(), exact, rtol=1e-5, atol=5e-7)
    np.testing.assert_allclose(ops.gelu(x).numpy(), tanh_form, rtol=1e-5, atol=5e-7)  # keras.ops default
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(), exact, rtol=1e-5, atol=5e-7)
    np.testing.assert_allclose(ops.gelu(np.array([-3.0]), approximate=False).numpy(), [-0.0040496941], rtol=1e-7)


def test_exact_gelu_is_accurate_in_the_far_left_tail():
    # reference from libm's erfc: gelu(x) = x * erfc(-x / sqrt 2) / 2; torch's 1 + erf loses it there
    x = np.concatenate([np.linspace(-37.0, -2.0, 301), np.linspace(-2.0, 8.0, 301)])
    expected = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(), expected, rtol=1e-11, atol=0)


def test_leaky_relu_default_slope_is_keras3():
    np.testing.assert_allclose(ops.leaky_relu([-10.0, 5.0]).numpy(), [-2.0, 5.0])


def test_softmax_rows_sum_to_one_and_handle_minus_inf():
    x = np.array([[-np.inf, 0.0, 1.0], [2.0, 2.0, 2.0]])
    out = ops.softmax(x).numpy()
    np.testing.assert_allclose(out, torch.softmax(torch.tensor(x), -1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ops.logsumexp(np.full(3, -np.inf)).numpy(), -np.inf)


HUGE = np.array([-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4], dtype=np.float32)
STABLE = ["sigmoid", "log_sigmoid", "softplus", "silu", "elu", "gelu_tanh", "gelu_exact", "tanh", "softmax",
          "log_softmax", "logsumexp_all", "hard_sigmoid", "relu", "leaky_relu_default"]


@pytest.mark.parametrize("name", STABLE)
def test_finite_without_warnings_on_huge_inputs(name):
    x = Tensor(HUGE, requires_grad=True)
    # underflow to 0 is the intended result of exp(-1e4); overflow, nan or log(0) are not
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out = PAIRS[name][0](x)
        out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(x.grad))


def test_huge_input_values_are_right():
    x = np.array([-1e4, 1e4], dtype=np.float32)
    np.testing.assert_array_equal(ops.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(ops.log_sigmoid(x).numpy(), [-1e4, 0.0])
    np.testing.assert_array_equal(ops.softplus(x).numpy(), [0.0, 1e4])
    np.testing.assert_array_equal(ops.softmax(x).numpy(), [0.0, 1.0])
    np.testing.assert_allclose(ops.logsumexp(np.array([1e4, 1e4], np.float32)).numpy(), 1e4 + np.log(2), rtol=1e-7)
    np.testing.assert_allclose(ops.log_softmax(x).numpy(), [-2e4, 0.0])


@pytest.mark.parametrize("name", ["relu", "relu6", "leaky_relu", "elu", "gelu", "sigmoid", "hard_sigmoid", "tanh",
                                  "softmax", "log_softmax", "silu", "swish", "softplus", "linear", "exponential",
                                  "log_sigmoid"])
def test_get_maps_keras_names(name):
    x = np.random.default_rng(3).standard_normal((4, 3))
    fn = ops.get(name)
    expected = {"gelu": lambda v: F.gelu(v), "swish": F.silu, "linear": lambda v: v, "exponential": torch.exp,
                "softmax": lambda v: torch.softmax(v, -1), "log_softmax": lambda v: torch.log_softmax(v, -1),
                "hard_sigmoid": F.hardsigmoid, "log_sigmoid": F.logsigmoid,
                "leaky_relu": lambda v: F.leaky_relu(v, 0.2),
                "relu": F.relu, "relu6": F.relu6, "elu": F.elu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
                "silu": F.silu, "softplus": F.softplus}[name]
    np.testing.assert_allclose(fn(x).numpy(), expected(torch.tensor(x)).numpy(), rtol=1e-9, atol=1e-12)


def test_get_none_and_callables():
    assert ops.get(None) is ops.linear
    assert ops.get(ops.tanh) is ops.tanh
    custom = lambda x: x  # noqa: E731
    assert ops.get(custom) is custom
    assert ops.get("gelu").__name__ == "gelu"


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation: 'rleu'\. Valid names are .*relu.*softmax"):
        ops.get("rleu")


def test_get_rejects_non_callables():
    with pytest.raises(TypeError, match=r"`activation` must be a string, None or a callable\. Received: activation=3"):
        ops.get(3)


def test_softmax_bad_axis():
    with pytest.raises(ValueError, match=r"`axis` is out of range for an input of rank 2.*Received: axis=2"):
        ops.softmax(np.ones((2, 3)), axis=2)


def test_softmax_axis_must_be_int():
    with pytest.raises(TypeError, match=r"`axis` must be an integer\. Received: axis=1\.0"):
        ops.log_softmax(np.ones((2, 3)), axis=1.0)


def test_softmax_scalar_input():
    with pytest.raises(ValueError, match=r"`x` must have rank >= 1 to take a softmax"):
        ops.softmax(np.float64(1.0))


def test_logsumexp_repeated_axis():
    with pytest.raises(ValueError, match=r"`axis` must not repeat an axis\. Received: axis=\(0, -2\)"):
        ops.logsumexp(np.ones((2, 3)), axis=(0, -2))


def test_accepts_lists_and_arrays_and_no_grad_for_constants():
    out = ops.relu([[1, -2], [3, -4]])
    assert isinstance(out, Tensor) and out.dtype == np.float32 and not out.requires_grad
    assert ops.sigmoid(np.zeros(3)).dtype == np.float64
