"""Shape, reduction and cross-entropy ops: PyTorch parity, gradchecks, stability, errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernelscope import Tensor
from kernelscope import ops
from kernelscope.autograd import gradcheck
from kernelscope.ops.core import normalize_axes, normalize_axis

TOLERANCE = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}
DTYPES = [np.float64, np.float32]


def _compare_with_torch(ks_fn, torch_fn, arrays, dtype, seed=0):
    """Forward and every input gradient of ``ks_fn`` against ``torch_fn``."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = ks_fn(*tensors)
    upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    out.backward(upstream)
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ref = torch_fn(*refs)
    ref.backward(torch.tensor(upstream))
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOLERANCE[dtype])
    for t, r in zip(tensors, refs):
        assert t.grad.dtype == dtype
        np.testing.assert_allclose(t.grad, r.grad.numpy(), **TOLERANCE[dtype])


def _randn(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


def _probabilities(shape, seed=5):
    p = np.random.default_rng(seed).random(shape)
    return p / p.sum(-1, keepdims=True)


MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
                 ((2, 3, 4), (1, 4, 5)), ((4,), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, dtype):
    arrays = [_randn(*shapes[0]), _randn(*shapes[1], seed=1)]
    _compare_with_torch(ops.matmul, torch.matmul, arrays, dtype)
    gradcheck(ops.matmul, arrays)


# name -> (kernelscope fn, torch fn, input shapes)
CASES = {
    "concatenate_last": (lambda a, b: ops.concatenate([a, b], axis=-1), lambda a, b: torch.cat([a, b], -1), [(2, 3), (2, 5)]),
    "concatenate_axis0": (lambda a, b, c: ops.concatenate([a, b, c], axis=0), lambda a, b, c: torch.cat([a, b, c], 0),
                          [(1, 3, 2), (4, 3, 2), (2, 3, 2)]),
    "stack_0": (lambda a, b: ops.stack([a, b]), lambda a, b: torch.stack([a, b]), [(2, 3), (2, 3)]),
    "stack_last": (lambda a, b: ops.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], -1), [(2, 3), (2, 3)]),
    "split_sections": (lambda x: ops.stack(ops.split(x, 3, axis=1)) * 1.0,
                       lambda x: torch.stack(torch.tensor_split(x, 3, dim=1)), [(2, 6, 2)]),
    "split_indices": (lambda x: ops.split(x, [1, 4], axis=-1)[1] * ops.split(x, [1, 4], axis=-1)[2][..., :3],
                      lambda x: torch.tensor_split(x, [1, 4], -1)[1] * torch.tensor_split(x, [1, 4], -1)[2][..., :3],
                      [(3, 7)]),
    "reshape": (lambda x: ops.reshape(x, (4, -1)), lambda x: x.reshape(4, -1), [(2, 3, 4)]),
    "transpose": (lambda x: ops.transpose(x, (2, 0, 1)), lambda x: x.permute(2, 0, 1), [(2, 3, 4)]),
    "transpose_negative": (lambda x: ops.transpose(x, (0, -1, 1)), lambda x: x.permute(0, 2, 1), [(2, 3, 4)]),
    "transpose_default": (ops.transpose, lambda x: x.permute(2, 1, 0), [(2, 3, 4)]),
    "expand_dims": (lambda x: ops.expand_dims(x, -1), lambda x: x.unsqueeze(-1), [(2, 3)]),
    "squeeze_all": (ops.squeeze, lambda x: x.squeeze(), [(2, 1, 3, 1)]),
    "squeeze_axis": (lambda x: ops.squeeze(x, axis=1), lambda x: x.squeeze(1), [(2, 1, 3, 1)]),
    "flatten": (ops.flatten, lambda x: x.flatten(1), [(2, 3, 4, 5)]),
    "sum_all": (ops.sum, torch.sum, [(2, 3, 4)]),
    "sum_axes": (lambda x: ops.sum(x, axis=(0, -1), keepdims=True), lambda x: x.sum((0, 2), keepdim=True),
                 [(2, 3, 4)]),
    "mean_axis": (lambda x: ops.mean(x, axis=1), lambda x: x.mean(1), [(2, 3, 4)]),
    "max_axis": (lambda x: ops.max(x, axis=-1), lambda x: torch.amax(x, -1), [(2, 3, 4)]),
    "min_axes": (lambda x: ops.min(x, axis=(0, 1), keepdims=True), lambda x: torch.amin(x, (0, 1), keepdim=True),
                 [(2, 3, 4)]),
    "cast_same": (lambda x: ops.cast(x, x.dtype) * 2.0, lambda x: x * 2.0, [(3,)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, dtype):
    ks_fn, torch_fn, shapes = CASES[name]
    arrays = [_randn(*s, seed=i) for i, s in enumerate(shapes)]
    _compare_with_torch(ks_fn, torch_fn, arrays, dtype)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    ks_fn, _, shapes = CASES[name]
    gradcheck(ks_fn, [_randn(*s, seed=i) for i, s in enumerate(shapes)])


def test_max_ties_share_gradient_like_amax():
    x = Tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    ops.max(x).backward()
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5]])


def test_cast_between_float_types_and_to_int():
    x = Tensor(np.array([1.5, -2.5], dtype=np.float32), requires_grad=True)
    y = ops.cast(x, "float64")
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [3.0, -5.0])
    z = ops.cast(x, np.int32)
    assert z.dtype == np.int32 and not z.requires_grad
    np.testing.assert_array_equal(z.numpy(), [1, -2])


def test_split_returns_list_of_tensors():
    pieces = ops.split(np.arange(12.0).reshape(3, 4), [1, 3], axis=1)
    assert isinstance(pieces, list) and [p.shape for p in pieces] == [(3, 1), (3, 2), (3, 1)]


def test_flatten_keeps_empty_batch():
    assert ops.flatten(np.zeros((0, 2, 3))).shape == (0, 6)


# ---------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_matches_torch(dtype):
    arrays = [_probabilities((6, 5)), _randn(6, 5) * 4]
    _compare_with_torch(ops.softmax_cross_entropy_with_logits,
                        lambda y, z: F.cross_entropy(z, y, reduction="none"), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_other_axis_matches_torch(dtype):
    # the class axis is 1 in NCHW-style data: torch's own convention
    labels = np.moveaxis(_probabilities((2, 3, 4, 5)), -1, 1)
    arrays = [labels, _randn(2, 5, 3, 4) * 3]
    _compare_with_torch(lambda y, z: ops.softmax_cross_entropy_with_logits(y, z, axis=1),
                        lambda y, z: F.cross_entropy(z, y, reduction="none"), arrays, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(7, 4), (2, 3, 5)], ids=str)
def test_sparse_softmax_cross_entropy_matches_torch(shape, dtype):
    labels = np.random.default_rng(6).integers(0, shape[-1], size=shape[:-1])
    _compare_with_torch(lambda z: ops.sparse_softmax_cross_entropy_with_logits(labels, z),
                        lambda z: F.cross_entropy(torch.movedim(z, -1, 1), torch.tensor(labels), reduction="none"),
                        [_randn(*shape) * 4], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_cross_entropy_matches_torch(dtype):
    arrays = [np.random.default_rng(7).random((4, 5)), _randn(4, 5) * 5]
    _compare_with_torch(ops.sigmoid_cross_entropy_with_logits,
                        lambda y, z: F.binary_cross_entropy_with_logits(z, y, reduction="none"), arrays, dtype)


def test_cross_entropy_gradchecks():
    gradcheck(ops.softmax_cross_entropy_with_logits, [_probabilities((3, 4)) * 1.5, _randn(3, 4)])
    gradcheck(lambda z: ops.sparse_softmax_cross_entropy_with_logits([2, 0, 1], z), [_randn(3, 4)])
    gradcheck(ops.sigmoid_cross_entropy_with_logits, [np.random.default_rng(8).random((3, 4)), _randn(3, 4) * 3])


def test_cross_entropy_on_huge_logits_is_finite_with_right_gradient():
    logits = Tensor(np.array([[1e4, 0.0, -1e4]], dtype=np.float32), requires_grad=True)
    loss = ops.softmax_cross_entropy_with_logits(np.array([[0.0, 1.0, 0.0]]), logits)
    loss.sum().backward()
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), [1e4])  # -log softmax = 1e4 - 0
    np.testing.assert_allclose(logits.grad, [[1.0, -1.0, 0.0]])  # softmax - labels

    logits.zero_grad()
    loss = ops.sparse_softmax_cross_entropy_with_logits(np.array([1]), logits)
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [1e4])
    np.testing.assert_allclose(logits.grad, [[1.0, -1.0, 0.0]])

    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=np.float32), requires_grad=True)
    loss = ops.sigmoid_cross_entropy_with_logits(np.array([0.0, 0.0, 1.0, 1.0]), x)
    loss.sum().backward()
    np.testing.assert_allclose(loss.numpy(), [1e4, 0.0, 0.0, 1e4])
    np.testing.assert_allclose(x.grad, [1.0, 0.0, 0.0, -1.0])  # sigmoid(x) - z


def test_sparse_labels_may_be_integral_floats():
    logits = _randn(3, 4)
    a = ops.sparse_softmax_cross_entropy_with_logits(np.array([0.0, 3.0, 1.0]), logits).numpy()
    b = ops.sparse_softmax_cross_entropy_with_logits(np.array([0, 3, 1]), logits).numpy()
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------- errors
def test_concatenate_shape_mismatch():
    with pytest.raises(ValueError, match=r"must match except along axis=1\. Received: shapes=\[\(2, 3\), \(3, 3\)\]"):
        ops.concatenate([np.ones((2, 3)), np.ones((3, 3))], axis=1)


def test_concatenate_rank_mismatch():
    with pytest.raises(ValueError, match=r"All inputs to `concatenate` must have the same rank >= 1"):
        ops.concatenate([np.ones((2, 3)), np.ones(3)])


def test_concatenate_needs_a_list():
    with pytest.raises(ValueError, match=r"`xs` needs a non-empty list of tensors\. Received: list"):
        ops.concatenate([])


def test_stack_shape_mismatch():
    with pytest.raises(ValueError, match=r"All inputs to `stack` must have the same shape"):
        ops.stack([np.ones(2), np.ones(3)])


def test_split_not_dividing():
    with pytest.raises(ValueError, match=r"must divide the size 5 of axis 0 into equal parts\. "
                                         r"Received: indices_or_sections=2"):
        ops.split(np.ones(5), 2)


def test_split_bad_type():
    with pytest.raises(TypeError, match=r"`indices_or_sections` must be an integer or a list of integers"):
        ops.split(np.ones(4), 2.0)


def test_split_scalar():
    with pytest.raises(ValueError, match=r"`split` needs an input of rank >= 1"):
        ops.split(np.float64(1.0), 1)


def test_bad_axis():
    with pytest.raises(ValueError, match=r"`axis` is out of range for an input of rank 2: expected -2 <= axis < 2\. "
                                         r"Received: axis=-3"):
        ops.sum(np.ones((2, 3)), axis=-3)
    with pytest.raises(TypeError, match=r"`axis` must be an integer\. Received: axis='0'"):
        normalize_axis("0", 2)
    with pytest.raises(ValueError, match=r"`axis` must not repeat an axis"):
        normalize_axes((1, 1), 2)


def test_reshape_incompatible():
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor of shape \(2, 3\) \(6 elements\) to "
                                         r"`newshape`=\(4, -1\)"):
        ops.reshape(np.ones((2, 3)), (4, -1))


def test_reshape_non_integer_shape():
    with pytest.raises(TypeError, match=r"`newshape` must be a tuple of integers\. Received: newshape=\(2\.0, 3\)"):
        ops.reshape(np.ones((2, 3)), (2.0, 3))


def test_transpose_not_a_permutation():
    with pytest.raises(ValueError, match=r"`axes` must be a permutation of the 2 axes of the input\. "
                                         r"Received: axes=\(0, 0\)"):
        ops.transpose(np.ones((2, 3)), (0, 0))


def test_squeeze_non_unit_axis():
    with pytest.raises(ValueError, match=r"`squeeze` can only remove axes of size 1\. Received: axis=0"):
        ops.squeeze(np.ones((2, 1)), axis=0)


def test_flatten_scalar():
    with pytest.raises(ValueError, match=r"`flatten` needs an input with a batch axis"):
        ops.flatten(np.float64(1.0))


def test_cast_unknown_dtype():
    with pytest.raises(TypeError, match=r"`dtype` must be a NumPy dtype or its name\. Received: dtype='float99'"):
        ops.cast(np.ones(2), "float99")


def test_cross_entropy_label_shape_mismatch():
    with pytest.raises(ValueError, match=r"`labels` and `logits` must have the same shape\. "
                                         r"Received: labels.shape=\(2, 3\), logits.shape=\(2, 4\)"):
        ops.softmax_cross_entropy_with_logits(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"`labels` and `logits` must have the same shape"):
        ops.sigmoid_cross_entropy_with_logits(np.ones(3), np.ones((3, 1)))


def test_cross_entropy_scalar_logits():
    with pytest.raises(ValueError, match=r"`logits` must have a class axis \(rank >= 1\)"):
        ops.softmax_cross_entropy_with_logits(np.float64(1.0), np.float64(1.0))
    with pytest.raises(ValueError, match=r"`logits` must have a class axis \(rank >= 1\)"):
        ops.sparse_softmax_cross_entropy_with_logits(0, np.float64(1.0))


def test_sparse_labels_shape():
    with pytest.raises(ValueError, match=r"`labels` must have the shape of `logits` without its last \(class\) axis, "
                                         r"\(2,\)\. Received: labels.shape=\(2, 1\)"):
        ops.sparse_softmax_cross_entropy_with_logits(np.zeros((2, 1), int), np.ones((2, 3)))


def test_sparse_labels_out_of_range():
    with pytest.raises(ValueError, match=r"`labels` must be class indices in \[0, 3\)\. Received: labels in \[0, 3\]"):
        ops.sparse_softmax_cross_entropy_with_logits(np.array([0, 3]), np.ones((2, 3)))


def test_sparse_labels_not_integers():
    with pytest.raises(TypeError, match=r"`labels` must hold integer class indices\. Received: dtype=float64"):
        ops.sparse_softmax_cross_entropy_with_logits(np.array([0.5, 1.0]), np.ones((2, 3)))
