"""The autograd core: Tensor arithmetic, indexing, reductions and the tape, against PyTorch."""

import operator

import numpy as np
import pytest
import torch

from kernelscope.autograd import (Tensor, as_tensor, enable_grad, gradcheck, is_grad_enabled, make_result, maximum,
                                  minimum, no_grad, numerical_grad, unbroadcast, where)

TOLERANCE = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
DTYPES = [np.float64, np.float32]


def _compare_with_torch(ks_fn, torch_fn, arrays, dtype, seed=0):
    """Forward and every input gradient of ``ks_fn`` against ``torch_fn`` under a random upstream gradient."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = ks_fn(*tensors)
    upstream = np.asarray(np.random.default_rng(seed).standard_normal(out.shape), dtype=dtype)
    out.backward(upstream)
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref = torch_fn(*refs)
    ref.backward(torch.tensor(upstream))
    assert out.dtype == dtype and isinstance(out.data, np.ndarray)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOLERANCE[dtype])
    for t, r in zip(tensors, refs):
        expected = np.zeros_like(t.data) if r.grad is None else r.grad.numpy()
        actual = np.zeros_like(t.data) if t.grad is None else t.grad
        assert actual.dtype == dtype and actual.shape == t.shape
        np.testing.assert_allclose(actual, expected, **TOLERANCE[dtype])


def _randn(shape, seed=0, positive=False):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(x) + 0.5 if positive else x


# ------------------------------------------------------------------ arithmetic
BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)),
             ((), (3, 4)), ((3, 4), ()), ((1, 4), (3, 1))]
BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
          "pow": operator.pow}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_broadcast(name, shapes, dtype):
    positive = name in ("pow", "div")  # keep bases and divisors away from 0
    arrays = [_randn(shapes[0], 1, positive), _randn(shapes[1], 2, positive)]
    _compare_with_torch(BINARY[name], BINARY[name], arrays, dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_gradcheck(name):
    positive = name in ("pow", "div")
    gradcheck(BINARY[name], [_randn((2, 1, 3), 1, positive), _randn((4, 1), 2, positive)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_negation(dtype):
    _compare_with_torch(operator.neg, operator.neg, [_randn((2, 3))], dtype)
    gradcheck(operator.neg, [_randn((2, 3))])


MATMUL = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
          ((2, 3, 4), (1, 4, 5)), ((4,), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", MATMUL, ids=str)
def test_matmul_operator(shapes, dtype):
    arrays = [_randn(shapes[0], 1), _randn(shapes[1], 2)]
    _compare_with_torch(operator.matmul, operator.matmul, arrays, dtype)
    gradcheck(operator.matmul, arrays)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reflected_ops_with_scalars_and_arrays(dtype):
    c = _randn((3, 4), 3, positive=True).astype(dtype)  # same-dtype array: results keep `dtype`
    t = torch.tensor(c)
    pairs = [(lambda x: 2.0 - x, lambda x: 2.0 - x), (lambda x: 3 / x, lambda x: 3 / x),
             (lambda x: 2 ** x, lambda x: 2 ** x), (lambda x: 1.5 * x + 2, lambda x: 1.5 * x + 2),
             (lambda x: c - x, lambda x: t - x), (lambda x: c / x, lambda x: t / x),
             (lambda x: c * x + c, lambda x: t * x + t), (lambda x: c ** x, lambda x: t ** x),
             (lambda x: c @ x.T, lambda x: t @ x.T)]
    for fn, ref in pairs:
        _compare_with_torch(fn, ref, [_randn((3, 4), 4, positive=True)], dtype)


def test_ndarray_on_the_left_returns_a_tensor():
    x = Tensor(np.ones(3), requires_grad=True)
    for out in (np.arange(3.0) + x, np.arange(3.0) * x, np.arange(3.0) - x, np.arange(3.0) / x,
                np.ones((2, 3)) @ x):
        assert isinstance(out, Tensor) and out.requires_grad


def test_python_scalars_keep_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for out in (x + 1.5, 2 * x, x / 3.0, 1.0 - x, x ** 2, 2.0 ** x, x + np.float64(1.0)):
        assert out.dtype == np.float32


def test_mixed_precision_gradient_takes_the_leaf_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = x * Tensor(np.full(3, 2.0))  # float64 result
    y.sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


def test_pow_zero_exponent_has_zero_gradient_at_zero():
    x = Tensor(np.zeros(2), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # torch gives 0, not nan


# ----------------------------------------------------------------- comparisons
@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne])
def test_comparisons_are_bool_constants(op):
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = op(a, Tensor([2.0, 2.0, 2.0]))
    assert out.dtype == bool and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), op(np.array([1.0, 2.0, 3.0]), 2.0))
    np.testing.assert_array_equal(op(a, 2.0).numpy(), out.numpy())


# -------------------------------------------------------------------- indexing
INDICES = {
    "int": (1,), "slice": (slice(1, None),), "int_slice": (0, slice(None, 2)), "none_ellipsis": (None, Ellipsis, 1),
    "list_repeated": ([0, 2, 0, 0],), "array_pair_repeated": (np.array([0, 1, 0]), np.array([1, 1, 1])),
    "slice_and_list": (slice(None), [3, 3, 1]), "negative_int": (-1, -2),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(INDICES))
def test_indexing(name, dtype):
    index = INDICES[name]
    torch_index = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
    _compare_with_torch(lambda x: x[index], lambda x: x[torch_index], [_randn((3, 4))], dtype)
    gradcheck(lambda x: x[index], [_randn((3, 4))])


def test_boolean_mask_and_negative_step():
    x = Tensor(np.arange(6.0), requires_grad=True)
    mask = np.array([True, False, True, True, False, False])
    (x[mask] * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 0, 2, 3, 0, 0])
    x.zero_grad()
    (x[::-2] * np.array([1.0, 2.0, 3.0])).sum().backward()  # picks 5, 3, 1
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 2, 0, 1])
    assert x[x > 2.5].shape == (3,)


def test_repeated_fancy_indices_scatter_back():
    x = Tensor(np.zeros(3), requires_grad=True)
    x[[0, 0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 0, 1])


# --------------------------------------------------------------- shape changes
SHAPE_OPS = {
    "reshape_args": (lambda x: x.reshape(4, 6), lambda x: x.reshape(4, 6)),
    "reshape_tuple": (lambda x: x.reshape((-1, 3)), lambda x: x.reshape(-1, 3)),
    "transpose_default": (lambda x: x.transpose(), lambda x: x.permute(2, 1, 0)),
    "transpose_axes": (lambda x: x.transpose(1, 2, 0), lambda x: x.permute(1, 2, 0)),
    "transpose_negative": (lambda x: x.transpose((0, -1, 1)), lambda x: x.permute(0, 2, 1)),
    "T": (lambda x: x.T, lambda x: x.permute(2, 1, 0)),
    "flatten": (lambda x: x.flatten(), lambda x: x.flatten()),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
def test_shape_changes(name, dtype):
    _compare_with_torch(*SHAPE_OPS[name], [_randn((2, 3, 4))], dtype)
    gradcheck(SHAPE_OPS[name][0], [_randn((2, 3, 4))])


# ------------------------------------------------------------------ reductions
AXES = [None, 0, -1, (0, 2), (-1, 1)]


def _torch_dims(axis):
    return tuple(range(3)) if axis is None else axis


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "var_ddof1"])
def test_reductions(name, axis, keepdims, dtype):
    dims = _torch_dims(axis)
    ks_fn = {"sum": lambda x: x.sum(axis, keepdims), "mean": lambda x: x.mean(axis, keepdims),
             "max": lambda x: x.max(axis, keepdims), "min": lambda x: x.min(axis, keepdims),
             "var": lambda x: x.var(axis, keepdims), "var_ddof1": lambda x: x.var(axis, keepdims, ddof=1)}[name]
    torch_fn = {"sum": lambda x: x.sum(dims, keepdim=keepdims), "mean": lambda x: x.mean(dims, keepdim=keepdims),
                "max": lambda x: torch.amax(x, dims, keepdim=keepdims),
                "min": lambda x: torch.amin(x, dims, keepdim=keepdims),
                "var": lambda x: torch.var(x, dims, correction=0, keepdim=keepdims),
                "var_ddof1": lambda x: torch.var(x, dims, correction=1, keepdim=keepdims)}[name]
    _compare_with_torch(ks_fn, torch_fn, [_randn((2, 3, 4))], dtype)
    gradcheck(ks_fn, [_randn((2, 3, 4))])


def test_max_min_ties_split_the_gradient_like_amax():
    x = Tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0.5, 0.5, 0]])
    y = Tensor([[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad, [[0, 0, 0], [0, 0, 1]])


# ------------------------------------------------------------ element-wise maths
ELEMENTWISE = {
    "exp": (lambda x: x.exp(), torch.exp, False),
    "log": (lambda x: x.log(), torch.log, True),
    "sqrt": (lambda x: x.sqrt(), torch.sqrt, True),
    "abs": (lambda x: x.abs(), torch.abs, False),
    "abs_builtin": (abs, torch.abs, False),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7), False),
    "clip_low": (lambda x: x.clip(min_value=0.1), lambda x: torch.clamp(x, min=0.1), False),
    "astype": (lambda x: x.astype(x.dtype) * 3.0, lambda x: x * 3.0, False),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise(name, dtype):
    ks_fn, torch_fn, positive = ELEMENTWISE[name]
    _compare_with_torch(ks_fn, torch_fn, [_randn((3, 4), 5, positive)], dtype)
    gradcheck(ks_fn, [_randn((3, 4), 5, positive)])


BINARY_FUNCTIONS = {
    "maximum": (maximum, torch.maximum),
    "minimum": (minimum, torch.minimum),
    "maximum_method": (lambda a, b: a.maximum(b), torch.maximum),
    "minimum_method": (lambda a, b: a.minimum(b), torch.minimum),
    "where": (lambda a, b: where(a > b, a, b * 2), lambda a, b: torch.where(a > b, a, b * 2)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4))], ids=str)
@pytest.mark.parametrize("name", sorted(BINARY_FUNCTIONS))
def test_binary_functions(name, shapes, dtype):
    arrays = [_randn(shapes[0], 6), _randn(shapes[1], 7)]  # continuous draws: no ties
    _compare_with_torch(*BINARY_FUNCTIONS[name], arrays, dtype)
    gradcheck(BINARY_FUNCTIONS[name][0], arrays)


def test_maximum_minimum_ties_go_to_the_first_argument():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 3.0], requires_grad=True)
    maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 0])
    np.testing.assert_array_equal(b.grad, [0, 1])
    a.zero_grad(), b.zero_grad()
    minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 1])
    np.testing.assert_array_equal(b.grad, [0, 0])


def test_maximum_with_python_scalar_and_arrays():
    x = Tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    out = maximum(x, 0.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), [0, 2])
    np.testing.assert_array_equal(maximum(np.array([1.0, 5.0]), np.array([2.0, 3.0])).numpy(), [2, 5])


# ----------------------------------------------------------------------- tape
def test_tensor_used_twice_accumulates_both_gradients():
    x = Tensor([3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0])  # 2x + 1


def test_shared_intermediate_reached_by_paths_of_different_length():
    # a feeds r directly and through b: a must receive both contributions before it is processed
    x = Tensor([1.0], requires_grad=True)
    a = x * 2
    b = a * 3
    (a + b).sum().backward()
    np.testing.assert_array_equal(x.grad, [8.0])
    y = Tensor([1.0], requires_grad=True)
    c = y * 2
    (c * 3 + c).sum().backward()
    np.testing.assert_array_equal(y.grad, [8.0])


def test_gradients_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])  # 3 + 2x, as torch accumulates
    x.zero_grad()
    assert x.grad is None


def test_no_grad_records_nothing_and_enable_grad_restores():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with enable_grad():
            assert is_grad_enabled()
            z = x * 2
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == () and y._backward is None
    assert z.requires_grad


def test_backward_twice_needs_retain_graph():
    x = Tensor([2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [8.0])
    with pytest.raises(RuntimeError, match=r"Trying to backward through the graph a second time; "
                                           r"pass retain_graph=True"):
        y.backward()


def test_deep_chain_does_not_recurse():
    x = Tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001 + 0.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 5000], rtol=1e-9)
    del y  # freeing the chain must not overflow the C stack either


def test_constant_inputs_get_no_gradient():
    x, c = Tensor([1.0], requires_grad=True), Tensor([2.0])
    (x * c).sum().backward()
    assert c.grad is None and x.is_leaf and not (x * c).is_leaf


def test_make_result_records_only_when_needed():
    calls = []
    out = make_result(np.ones(2), (Tensor(np.ones(2)),), lambda g: calls.append(g))
    assert not out.requires_grad
    x = Tensor(np.ones(2), requires_grad=True)
    out = make_result(np.float64(3.0), (x, None), lambda g: (g * 2, None))
    assert isinstance(out.data, np.ndarray) and out.shape == ()
    out.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])  # broadcast scalar grad copied into the leaf


# ----------------------------------------------------------------- dtype rules
def test_dtype_rules():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(3).dtype == np.float32
    assert Tensor(np.array([1, 2], dtype=np.int64)).dtype == np.float32
    assert Tensor(np.array([True])).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64
    assert Tensor(np.float64(1.0)).dtype == np.float64
    assert Tensor(np.zeros(2, dtype=np.float16)).dtype == np.float16
    assert Tensor(Tensor(np.zeros(2))).dtype == np.float64
    assert as_tensor([1.0]).dtype == np.float32
    assert as_tensor(2.0, like=Tensor(np.zeros(1))).dtype == np.float64


def test_strings_are_rejected():
    with pytest.raises(TypeError, match=r"Tensor data must be numeric \(bool, int or float\)\. Received: dtype=<U3"):
        Tensor("abc")
    with pytest.raises(TypeError, match=r"Tensor data must be numeric"):
        as_tensor(["a", "b"])


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match=r"Only floating-point tensors can require gradients\. Received: dtype=int32"):
        Tensor([1, 2], dtype=np.int32, requires_grad=True)


# ---------------------------------------------------------------- other errors
def test_backward_without_grad_mode():
    with pytest.raises(RuntimeError, match=r"backward\(\) called on a tensor that does not require grad"):
        Tensor([1.0]).backward()


def test_backward_needs_grad_for_non_scalars():
    with pytest.raises(ValueError, match=r"backward\(\) without a `grad` argument needs a one-element tensor\. "
                                         r"Received: shape=\(2,\)"):
        (Tensor([1.0, 2.0], requires_grad=True) * 2).backward()


def test_backward_grad_shape():
    with pytest.raises(ValueError, match=r"`grad` must have the tensor's shape \(2,\)\. Received: shape=\(3,\)"):
        (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.ones(3))


def test_matmul_rejects_scalars():
    with pytest.raises(ValueError, match=r"matmul needs at least 1-D operands\. Received: shapes \(\) and \(2,\)"):
        Tensor(2.0) @ Tensor([1.0, 2.0])


def test_gradcheck_catches_a_wrong_backward():
    def wrong_square(x):
        return make_result(x.data ** 2, (x,), lambda g: (g * x.data,))  # missing factor 2

    with pytest.raises(AssertionError, match=r"gradient of input 0 differs from central differences"):
        gradcheck(wrong_square, [np.array([1.0, 2.0])])


def test_numerical_grad_and_unbroadcast():
    grad = numerical_grad(lambda x: x * x, [np.array([1.0, -2.0])], 0)
    np.testing.assert_allclose(grad, [2.0, -4.0], rtol=1e-8)
    np.testing.assert_array_equal(unbroadcast(np.ones((2, 3, 4)), (3, 1)), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(unbroadcast(np.ones((2, 3)), ()), np.array(6.0))


def test_small_api():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    assert x.shape == (1, 2) and x.ndim == 2 and x.size == 2 and len(x) == 1
    assert x.detach().requires_grad is False and x.detach().numpy() is x.numpy()
    assert Tensor([3.0]).item() == 3.0
    assert "requires_grad=True" in repr(x) and "float32" in repr(x)
    assert np.asarray(x).dtype == np.float32 and np.asarray(x, dtype=np.float64).dtype == np.float64
    assert hash(x) == id(x) and +x is x
    assert bool(Tensor([1.0]))
