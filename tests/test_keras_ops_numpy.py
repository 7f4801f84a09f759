"""keras.ops's NumPy-like ops: values and gradients against torch in float64, central differences, errors."""

import inspect

import numpy as np
import pytest
import torch

import kernelscope as ks
from kernelscope import ops
from kernelscope.autograd import Tensor, gradcheck


def _randn(*shape, seed=0, positive=False, unit=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        return np.abs(x) + 0.5
    return np.tanh(x) * 0.9 if unit else x


def _compare(ks_fn, torch_fn, arrays, rtol=1e-9, atol=1e-10):
    """Values and input gradients (for a random upstream gradient) against torch, then central differences."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ks_fn(*tensors), torch_fn(*refs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    seed_grad = np.random.default_rng(99).standard_normal(out.shape)
    out.backward(seed_grad)
    expected.backward(torch.tensor(seed_grad))
    for t, r in zip(tensors, refs):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), rtol=1e-7, atol=1e-9)
    gradcheck(ks_fn, arrays)


UNARY = {
    "square": (ops.square, torch.square, {}),
    "sqrt": (ops.sqrt, torch.sqrt, {"positive": True}),
    "rsqrt": (ops.rsqrt, torch.rsqrt, {"positive": True}),
    "reciprocal": (ops.reciprocal, torch.reciprocal, {"positive": True}),
    "abs": (ops.abs, torch.abs, {}),
    "absolute": (ops.absolute, torch.abs, {}),
    "exp": (ops.exp, torch.exp, {}),
    "exp2": (ops.exp2, torch.exp2, {}),
    "expm1": (ops.expm1, torch.expm1, {}),
    "log": (ops.log, torch.log, {"positive": True}),
    "log1p": (ops.log1p, torch.log1p, {"positive": True}),
    "log2": (ops.log2, torch.log2, {"positive": True}),
    "log10": (ops.log10, torch.log10, {"positive": True}),
    "negative": (ops.negative, torch.neg, {}),
    "sin": (ops.sin, torch.sin, {}),
    "cos": (ops.cos, torch.cos, {}),
    "tan": (ops.tan, torch.tan, {"unit": True}),
    "tanh": (ops.tanh, torch.tanh, {}),
    "sinh": (ops.sinh, torch.sinh, {}),
    "cosh": (ops.cosh, torch.cosh, {}),
    "arcsin": (ops.arcsin, torch.arcsin, {"unit": True}),
    "arccos": (ops.arccos, torch.arccos, {"unit": True}),
    "arctan": (ops.arctan, torch.arctan, {}),
    "erf": (ops.math.erf, torch.erf, {}),
    "sigmoid": (ops.sigmoid, torch.sigmoid, {}),
    "relu": (ops.relu, torch.relu, {}),
    "clip": (lambda x: ops.clip(x, -0.5, 0.7), lambda x: torch.clip(x, -0.5, 0.7), {}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(name):
    ks_fn, torch_fn, kind = UNARY[name]
    _compare(ks_fn, torch_fn, [_randn(3, 4, seed=1, **kind)], rtol=1e-7)


def test_piecewise_constant_ops_have_zero_gradient():
    x = np.array([-1.7, -0.2, 0.4, 2.5, 3.5])
    for ks_fn, np_fn in [(ops.floor, np.floor), (ops.ceil, np.ceil), (ops.round, np.round), (ops.sign, np.sign)]:
        t = Tensor(x, requires_grad=True)
        out = ks_fn(t)
        np.testing.assert_array_equal(out.numpy(), np_fn(x))
        if out.requires_grad:
            out.sum().backward()
            np.testing.assert_array_equal(t.grad, np.zeros_like(x))
    np.testing.assert_array_equal(ops.round(np.array([1.234, 5.678]), decimals=1).numpy(), [1.2, 5.7])


BROADCASTS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1))]
BINARY = {
    "add": (ops.add, torch.add, False),
    "subtract": (ops.subtract, torch.subtract, False),
    "multiply": (ops.multiply, torch.multiply, False),
    "divide": (ops.divide, torch.divide, True),
    "true_divide": (ops.true_divide, torch.true_divide, True),
    "power": (ops.power, torch.pow, True),
    "maximum": (ops.maximum, torch.maximum, False),
    "minimum": (ops.minimum, torch.minimum, False),
    "arctan2": (ops.arctan2, torch.atan2, False),
    "mod": (ops.mod, torch.remainder, True),
}


@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_against_torch_both_broadcast_directions(name, shapes):
    ks_fn, torch_fn, positive = BINARY[name]
    arrays = [_randn(*s, seed=i + 3, positive=positive) for i, s in enumerate(shapes)]
    if name == "mod":  # keep away from the jumps of x1 % x2, where the central difference is meaningless
        arrays[0] = 0.3 + (arrays[0] % 0.9) + 2 * arrays[1] * np.floor(arrays[0])
    _compare(ks_fn, torch_fn, arrays, rtol=1e-7)


def test_binary_with_python_scalars_and_arrays():
    x = Tensor(np.array([1.0, 2.0], np.float32))
    assert ops.add(x, 1).dtype == np.float32
    np.testing.assert_array_equal(ops.subtract(3.0, x).numpy(), [2.0, 1.0])
    np.testing.assert_array_equal(ops.multiply(np.array([2.0, 3.0]), 2.0).numpy(), [4.0, 6.0])
    assert isinstance(ops.add(np.ones(2), np.ones(2)), Tensor)
    assert ops.multiply(ops.arange(3), 0.5).dtype == np.float32  # int32 tensor times a float: float32, as Keras
    assert (ops.arange(3) * 0.5).dtype == np.float32 and (ops.arange(3) + x[:1]).dtype == np.float32
    np.testing.assert_array_equal(ops.floor_divide(np.array([7.0, -7.0]), 2.0).numpy(), [3.0, -4.0])


def test_comparisons_and_logic_are_boolean():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    for ks_fn, np_fn in [(ops.equal, np.equal), (ops.not_equal, np.not_equal), (ops.greater, np.greater),
                         (ops.greater_equal, np.greater_equal), (ops.less, np.less),
                         (ops.less_equal, np.less_equal), (ops.logical_and, np.logical_and),
                         (ops.logical_or, np.logical_or), (ops.logical_xor, np.logical_xor)]:
        out = ks_fn(a, b)
        assert out.dtype == bool
        np.testing.assert_array_equal(out.numpy(), np_fn(a, b))
    np.testing.assert_array_equal(ops.logical_not(np.array([0.0, 1.0])).numpy(), [True, False])
    special = np.array([np.nan, np.inf, 1.0])
    np.testing.assert_array_equal(ops.isnan(special).numpy(), [True, False, False])
    np.testing.assert_array_equal(ops.isfinite(special).numpy(), [False, False, True])
    np.testing.assert_array_equal(ops.isinf(special).numpy(), [False, True, False])


def test_where_selects_with_gradients_and_returns_indices_alone():
    cond = np.array([[True, False, True]])
    _compare(lambda a, b: ops.where(cond, a, b), lambda a, b: torch.where(torch.tensor(cond), a, b),
             [_randn(2, 3, seed=4), _randn(3, seed=5)])
    rows, cols = ops.where(np.array([[0, 1], [1, 0]]))
    np.testing.assert_array_equal(rows.numpy(), [0, 1])
    np.testing.assert_array_equal(cols.numpy(), [1, 0])
    with pytest.raises(ValueError, match=r"`x1` and `x2` either both should be `None`"):
        ops.where(cond, 1.0)


REDUCTIONS = {
    "sum": (lambda x: ops.sum(x, axis=1), lambda x: x.sum(1)),
    "mean_keepdims": (lambda x: ops.mean(x, axis=(0, 2), keepdims=True), lambda x: x.mean((0, 2), keepdim=True)),
    "max": (lambda x: ops.max(x, axis=-1), lambda x: x.amax(-1)),
    "amax": (lambda x: ops.amax(x, axis=0), lambda x: x.amax(0)),
    "min": (lambda x: ops.min(x), lambda x: x.amin()),
    "amin": (lambda x: ops.amin(x, axis=(1, 2)), lambda x: x.amin((1, 2))),
    "max_initial": (lambda x: ops.max(x, axis=1, initial=0.3), lambda x: torch.clamp(x.amax(1), min=0.3)),
    "var": (lambda x: ops.var(x, axis=1), lambda x: x.var(1, unbiased=False)),
    "std": (lambda x: ops.std(x, axis=(0, 1)), lambda x: x.std((0, 1), unbiased=False)),
    "std_all": (lambda x: ops.std(x), lambda x: x.std(unbiased=False)),
    "prod": (lambda x: ops.prod(x, axis=1), lambda x: x.prod(1)),
    "prod_all": (lambda x: ops.prod(x * 0.5 + 1.0), lambda x: (x * 0.5 + 1.0).prod()),
    "prod_axes": (lambda x: ops.prod(x, axis=(0, 2), keepdims=True),
                  lambda x: x.prod(2, keepdim=True).prod(0, keepdim=True)),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), lambda x: x.cumsum(1)),
    "cumsum_flat": (lambda x: ops.cumsum(x), lambda x: x.reshape(-1).cumsum(0)),
    "cumprod": (lambda x: ops.cumprod(x, axis=-1), lambda x: x.cumprod(-1)),
    "logsumexp": (lambda x: ops.logsumexp(x, axis=1), lambda x: torch.logsumexp(x, 1)),
    "norm": (lambda x: ops.norm(x, axis=-1), lambda x: torch.linalg.vector_norm(x, dim=-1)),
    "norm_flat": (lambda x: ops.norm(x), lambda x: torch.linalg.vector_norm(x)),
    "norm_1": (lambda x: ops.norm(x, ord=1, axis=0), lambda x: torch.linalg.vector_norm(x, 1, dim=0)),
    "norm_3": (lambda x: ops.norm(x, ord=3, axis=1, keepdims=True),
               lambda x: torch.linalg.vector_norm(x, 3, dim=1, keepdim=True)),
    "norm_inf": (lambda x: ops.norm(x, ord=np.inf, axis=1), lambda x: torch.linalg.vector_norm(x, float("inf"), 1)),
    "norm_fro": (lambda x: ops.norm(x, axis=(1, 2)), lambda x: torch.linalg.matrix_norm(x)),
    "average": (lambda x: ops.average(x, axis=1, weights=np.array([1.0, 2.0, 3.0])),
                lambda x: (x * torch.tensor([1.0, 2.0, 3.0], dtype=x.dtype)[:, None]).sum(1) / 6.0),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_against_torch(name):
    ks_fn, torch_fn = REDUCTIONS[name]
    _compare(ks_fn, torch_fn, [_randn(2, 3, 4, seed=6)], rtol=1e-7)


def test_prod_gradient_with_zeros_is_exact():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0]])
    _compare(lambda t: ops.prod(t, axis=1), lambda t: t.prod(1), [x])
    _compare(lambda t: ops.cumprod(t, axis=1), lambda t: t.cumprod(1), [x])


def test_index_and_boolean_reductions():
    x = np.array([[1.0, 5.0, 5.0], [7.0, -1.0, 0.0]])
    assert ops.argmax(x).numpy() == 3 and ops.argmax(x).dtype == np.int32
    np.testing.assert_array_equal(ops.argmax(x, axis=1).numpy(), [1, 0])
    np.testing.assert_array_equal(ops.argmin(x, axis=0, keepdims=True).numpy(), [[0, 1, 1]])
    assert ops.argmax(x, keepdims=True).shape == (1, 1)
    np.testing.assert_array_equal(ops.any(x < 0, axis=1).numpy(), [False, True])
    np.testing.assert_array_equal(ops.all(x > -2, axis=0).numpy(), [True, True, True])
    np.testing.assert_array_equal(ops.count_nonzero(x, axis=1).numpy(), [3, 2])


SHAPES = {
    "tile": (lambda x: ops.tile(x, (2, 1, 3)), lambda x: x.tile((2, 1, 3))),
    "repeat": (lambda x: ops.repeat(x, 2, axis=1), lambda x: x.repeat_interleave(2, dim=1)),
    "repeat_flat": (lambda x: ops.repeat(x, 3), lambda x: x.reshape(-1).repeat_interleave(3)),
    "repeat_list": (lambda x: ops.repeat(x, [1, 0, 2], axis=1),
                    lambda x: x.repeat_interleave(torch.tensor([1, 0, 2]), dim=1)),
    "take": (lambda x: ops.take(x, np.array([2, 0, 2, -1]), axis=2), lambda x: x[:, :, [2, 0, 2, -1]]),
    "take_flat": (lambda x: ops.take(x, np.array([[0, 5], [23, 5]])), lambda x: x.reshape(-1)[torch.tensor([[0, 5], [23, 5]])]),
    "take_along_axis": (lambda x: ops.take_along_axis(x, np.array([[[0], [3], [3]]]), axis=2),
                        lambda x: torch.take_along_dim(x, torch.tensor([[[0], [3], [3]]]), dim=2)),
    "slice": (lambda x: ops.slice(x, (0, 1, 1), (2, 2, 2)), lambda x: x[0:2, 1:3, 1:3]),
    "flip": (lambda x: ops.flip(x, axis=1), lambda x: x.flip(1)),
    "flip_all": (lambda x: ops.flip(x), lambda x: x.flip((0, 1, 2))),
    "moveaxis": (lambda x: ops.moveaxis(x, 0, -1), lambda x: x.movedim(0, -1)),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 2), lambda x: x.swapaxes(0, 2)),
    "broadcast_to": (lambda x: ops.broadcast_to(x[:, :1], (5, 2, 3, 4)), lambda x: x[:, :1].expand(5, 2, 3, 4)),
    "ravel": (lambda x: ops.ravel(x), lambda x: x.reshape(-1)),
    "roll": (lambda x: ops.roll(x, 2, axis=2), lambda x: x.roll(2, 2)),
    "sort": (lambda x: ops.sort(x, axis=1), lambda x: x.sort(1).values),
    "tril": (lambda x: ops.tril(x, k=1), lambda x: x.tril(1)),
    "triu": (lambda x: ops.triu(x), lambda x: x.triu()),
    "diagonal": (lambda x: ops.diagonal(x, 1, 1, 2), lambda x: x.diagonal(1, 1, 2)),
    "reshape": (lambda x: ops.reshape(x, (4, -1)), lambda x: x.reshape(4, -1)),
    "expand_dims": (lambda x: ops.expand_dims(x, 1), lambda x: x.unsqueeze(1)),
    "squeeze": (lambda x: ops.squeeze(x[:, :1], axis=1), lambda x: x[:, :1].squeeze(1)),
    "transpose": (lambda x: ops.transpose(x, (2, 0, 1)), lambda x: x.permute(2, 0, 1)),
    "concatenate_default_axis_0": (lambda x: ops.concatenate([x, x * 2]), lambda x: torch.cat([x, x * 2], 0)),
    "stack": (lambda x: ops.stack([x, -x], axis=1), lambda x: torch.stack([x, -x], 1)),
    "pad_constant": (lambda x: ops.pad(x, ((0, 0), (1, 2), (2, 0)), constant_values=1.5),
                     lambda x: torch.nn.functional.pad(x, (2, 0, 1, 2), value=1.5)),
    "pad_reflect": (lambda x: ops.pad(x, ((0, 0), (1, 2), (2, 1)), mode="reflect"),
                    lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), mode="reflect")),
    "pad_edge": (lambda x: ops.pad(x, ((0, 0), (1, 2), (2, 1)), mode="edge"),
                 lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), mode="replicate")),
    "pad_wrap": (lambda x: ops.pad(x, ((0, 0), (1, 2), (2, 1)), mode="wrap"),
                 lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), mode="circular")),
    "get_item": (lambda x: ops.get_item(x, (slice(None), 1)), lambda x: x[:, 1]),
    "unstack": (lambda x: ops.unstack(x, axis=1)[2], lambda x: x.unbind(1)[2]),
    "split": (lambda x: ops.split(x, [1, 3], axis=2)[1], lambda x: x[:, :, 1:3]),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_ops_against_torch(name):
    ks_fn, torch_fn = SHAPES[name]
    _compare(ks_fn, torch_fn, [_randn(2, 3, 4, seed=7)])


def test_pad_symmetric_matches_numpy():
    x = _randn(3, 4, seed=8)
    np.testing.assert_allclose(ops.pad(x, ((1, 2), (3, 1)), mode="symmetric").numpy(),
                               np.pad(x, ((1, 2), (3, 1)), mode="symmetric"))
    gradcheck(lambda t: ops.pad(t, ((1, 2), (3, 1)), mode="symmetric"), [x])


def test_creation_functions():
    assert ops.zeros((2, 3)).dtype == np.float32 and ops.zeros((2, 3)).numpy().sum() == 0
    np.testing.assert_array_equal(ops.ones(3, dtype="int32").numpy(), [1, 1, 1])
    np.testing.assert_array_equal(ops.full((2,), 7.0).numpy(), [7.0, 7.0])
    x = np.ones((2, 2), np.float64)
    assert ops.zeros_like(x).dtype == np.float64 and ops.ones_like(x, dtype="float32").dtype == np.float32
    np.testing.assert_array_equal(ops.full_like(x, 3).numpy(), np.full((2, 2), 3.0))
    assert ops.arange(4).dtype == np.int32 and ops.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_array_equal(ops.arange(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_array_equal(ops.eye(2, 3, k=1).numpy(), np.eye(2, 3, 1))
    np.testing.assert_array_equal(ops.identity(2).numpy(), np.eye(2))
    np.testing.assert_array_equal(ops.tri(3).numpy(), np.tri(3))
    np.testing.assert_allclose(ops.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    values, step = ops.linspace(0, 1, 5, endpoint=False, retstep=True)
    assert step == 0.2 and values.shape == (5,)


def test_conversions_and_introspection():
    t = ops.convert_to_tensor([1.0, 2.0])
    assert isinstance(t, Tensor) and t.dtype == np.float32
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor(np.arange(3, dtype=np.int64)).dtype == np.int64
    assert ops.convert_to_tensor(t) is t
    assert ops.convert_to_tensor(t, dtype="float64").dtype == np.float64
    assert isinstance(ops.convert_to_numpy(t), np.ndarray)
    assert ops.shape(np.ones((2, 3))) == (2, 3) and ops.dtype(t) == "float32"
    assert ops.size(np.ones((2, 3))) == 6 and ops.ndim(np.ones((2, 3))) == 2
    assert ops.cast(t, "int32").dtype == np.int32
    with pytest.raises(ValueError, match=r"`sparse` and `ragged` must be False or None"):
        ops.convert_to_tensor([1.0], sparse=True)


def test_stop_gradient_blocks_the_gradient():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * ops.stop_gradient(x)).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_signatures_match_keras():
    keras_args = {  # from keras/src/ops/numpy.py, core.py and nn.py (Keras 3.15)
        "concatenate": ["xs", "axis"], "reshape": ["x", "newshape"], "stack": ["x", "axis"],
        "pad": ["x", "pad_width", "mode", "constant_values"], "max": ["x", "axis", "keepdims", "initial"],
        "clip": ["x", "x_min", "x_max"], "where": ["condition", "x1", "x2"], "matmul": ["x1", "x2"],
        "take": ["x", "indices", "axis"], "slice": ["inputs", "start_indices", "shape"],
        "arange": ["start", "stop", "step", "dtype"], "eye": ["N", "M", "k", "dtype"],
        "linspace": ["start", "stop", "num", "endpoint", "retstep", "dtype", "axis"],
        "one_hot": ["x", "num_classes", "axis", "dtype", "sparse"], "top_k": ["x", "k", "sorted", "is_stable"],
        "norm": ["x", "ord", "axis", "keepdims"], "stop_gradient": ["variable"],
        "conv": ["inputs", "kernel", "strides", "padding", "data_format", "dilation_rate"],
        "max_pool": ["inputs", "pool_size", "strides", "padding", "data_format"],
    }
    for name, expected in keras_args.items():
        params = list(inspect.signature(getattr(ops, name)).parameters)
        assert params[:len(expected)] == expected, name


def test_errors():
    with pytest.raises(ValueError, match=r"`mode` must be one of .* Received: mode='mean'"):
        ops.pad(np.ones(3), 1, mode="mean")
    with pytest.raises(ValueError, match=r"`constant_values` can only be provided when `mode == 'constant'`"):
        ops.pad(np.ones(3), 1, mode="edge", constant_values=1)
    with pytest.raises(ValueError, match=r"`indices` must be in \[-3, 3\) for axis 0 of size 3"):
        ops.take(np.ones(3), [3], axis=0)
    with pytest.raises(TypeError, match=r"`indices` must hold integers"):
        ops.take(np.ones(3), [0.5])
    with pytest.raises(ValueError, match=r"The slice starting at \(2,\) of size \(2,\) does not fit"):
        ops.slice(np.ones(3), (2,), (2,))
    with pytest.raises(ValueError, match=r"Cannot broadcast a tensor of shape \(2,\) to `shape`=\(3,\)"):
        ops.broadcast_to(np.ones(2), (3,))
    with pytest.raises(ValueError, match=r"`num` must equal the size 3 of axis 0"):
        ops.unstack(np.ones((3, 2)), num=2)
    with pytest.raises(ValueError, match=r"`shape` must be a tuple of non-negative integers"):
        ops.zeros((2, -1))
    with pytest.raises(ValueError, match=r"`step` must not be 0"):
        ops.arange(0, 3, 0)
    with pytest.raises(TypeError, match=r"`reshape` needs `newshape` \(exactly once\)"):
        ops.reshape(np.ones(4))
    with pytest.raises(ValueError, match=r"Invalid dtype: 'complex7'"):
        ops.zeros(2, dtype="complex7")
    assert ops.reshape(np.ones(4), shape=(2, 2)).shape == (2, 2)  # kernelscope's earlier keyword


def test_float32_stays_float32():
    x = np.ones((2, 3), np.float32)
    for fn in (ops.sqrt, ops.exp, ops.square, lambda v: ops.std(v, axis=0), lambda v: ops.norm(v),
               lambda v: ops.tile(v, 2), lambda v: ops.einsum("ij->j", v)):
        assert fn(x).dtype == np.float32
    assert ops.sqrt(np.arange(4)).dtype == np.float32  # integer input: floatx, as Keras
    assert ks.ops.numpy.sum is ops.sum


def test_norm_with_an_ord_and_no_axis_is_a_matrix_norm_or_refused():
    m = np.array([[1.0, -2.0], [3.0, 4.0]])
    np.testing.assert_allclose(ks.ops.norm(m).numpy(), np.linalg.norm(m))
    np.testing.assert_allclose(ks.ops.norm(m, ord="fro").numpy(), np.linalg.norm(m, "fro"))
    np.testing.assert_allclose(ks.ops.norm(m[0], ord=1).numpy(), np.linalg.norm(m[0], 1))
    for ord in (1, 2, np.inf):  # NumPy: max column sum, spectral, max row sum -- never the flattened vector norm
        with pytest.raises(ValueError, match=r"asks for a matrix norm of a 2-D input"):
            ks.ops.norm(m, ord=ord)


def test_erf_keeps_float32():
    out = ks.ops.erf(np.array([0.0, 0.5], np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), torch.erf(torch.tensor([0.0, 0.5])).numpy(), rtol=1e-6)
