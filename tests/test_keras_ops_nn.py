"""keras.ops.nn, keras.ops.image and the products (dot, tensordot, einsum) against torch in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernelscope import ops
from kernelscope.autograd import Tensor, gradcheck

from test_keras_ops_numpy import _compare, _randn


def _nchw(x):
    return x.permute(0, 3, 1, 2)


def _nhwc(x):
    return x.permute(0, 2, 3, 1)


@pytest.mark.parametrize("strides,dilation,groups", [(1, 1, 1), (2, 1, 1), (1, 2, 1), (1, 1, 2)])
def test_conv_against_torch(strides, dilation, groups):
    x, k = _randn(2, 6, 7, 4, seed=1), _randn(3, 3, 4 // groups, 6, seed=2)
    _compare(lambda a, w: ops.conv(a, w, strides=strides, dilation_rate=dilation),
             lambda a, w: _nhwc(F.conv2d(_nchw(a), w.permute(3, 2, 0, 1), stride=strides, dilation=dilation,
                                         groups=groups)),
             [x, k], rtol=1e-8)


def test_conv_same_padding_equals_conv2d_and_depthwise_separable_transpose_adapters():
    x = _randn(1, 5, 5, 2, seed=3)
    k = _randn(3, 3, 2, 4, seed=4)
    np.testing.assert_array_equal(ops.conv(x, k, padding="same", strides=2).numpy(),
                                  ops.conv2d(x, k, padding="same", strides=2).numpy())
    dk = _randn(3, 3, 2, 2, seed=5)
    expected = _nhwc(F.conv2d(_nchw(torch.tensor(x)), torch.tensor(dk).permute(2, 3, 0, 1).reshape(4, 1, 3, 3),
                              groups=2))
    np.testing.assert_allclose(ops.depthwise_conv(x, dk).numpy(), expected.numpy(), rtol=1e-9)
    pk = _randn(1, 1, 4, 3, seed=6)
    np.testing.assert_allclose(ops.separable_conv(x, dk, pk).numpy(),
                               ops.conv(ops.depthwise_conv(x, dk), pk).numpy(), rtol=1e-9)
    tk = _randn(3, 3, 4, 2, seed=7)
    expected = _nhwc(F.conv_transpose2d(_nchw(torch.tensor(x)), torch.tensor(tk).permute(3, 2, 0, 1), stride=2))
    np.testing.assert_allclose(ops.conv_transpose(x, tk, strides=2).numpy(), expected.numpy(), rtol=1e-9)
    gradcheck(lambda a, w: ops.depthwise_conv(a, w, padding="same"), [x[:, :4, :4], dk[:2, :2]])


@pytest.mark.parametrize("pool,strides", [(2, None), (3, 1), ((2, 3), (1, 2))])
def test_pooling_against_torch(pool, strides):
    x = _randn(2, 6, 7, 3, seed=8)
    _compare(lambda a: ops.max_pool(a, pool, strides), lambda a: _nhwc(F.max_pool2d(_nchw(a), pool, strides)), [x])
    _compare(lambda a: ops.average_pool(a, pool, strides),
             lambda a: _nhwc(F.avg_pool2d(_nchw(a), pool, strides)), [x])


def test_channels_first_and_other_ranks_are_refused():
    with pytest.raises(ValueError, match=r'channels-last only: data_format="channels_first" is not supported'):
        ops.conv(np.ones((1, 3, 3, 1)), np.ones((1, 1, 1, 1)), data_format="channels_first")
    with pytest.raises(ValueError, match=r"`max_pool` supports 2-D images only: `inputs` must have rank 4"):
        ops.max_pool(np.ones((1, 8, 2)), 2)
    with pytest.raises(ValueError, match=r'`padding` must be "valid" or "same". Received: padding=1'):
        ops.conv(np.ones((1, 3, 3, 1)), np.ones((1, 1, 1, 1)), padding=1)
    with pytest.raises(ValueError, match=r"`kernel` must be \(kh, kw, in_channels // groups, filters\)"):
        ops.conv(np.ones((1, 3, 3, 3)), np.ones((1, 1, 2, 1)))


def test_cross_entropies_against_torch():
    probs = 1 / (1 + np.exp(-_randn(4, 3, seed=9)))
    target = np.random.default_rng(10).random((4, 3))
    _compare(lambda p: ops.binary_crossentropy(target, p),
             lambda p: F.binary_cross_entropy(p, torch.tensor(target), reduction="none"), [probs], rtol=1e-8)
    _compare(lambda z: ops.binary_crossentropy(target, z, from_logits=True),
             lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(target), reduction="none"),
             [_randn(4, 3, seed=11)], rtol=1e-8)
    soft = target / target.sum(1, keepdims=True)
    _compare(lambda z: ops.categorical_crossentropy(soft, z, from_logits=True),
             lambda z: F.cross_entropy(z, torch.tensor(soft), reduction="none"), [_randn(4, 3, seed=12)])
    _compare(lambda p: ops.categorical_crossentropy(soft, p),
             lambda p: -(torch.tensor(soft) * torch.log(p / p.sum(1, keepdim=True))).sum(1), [probs], rtol=1e-8)
    labels = np.array([0, 2, 1, 2])
    _compare(lambda z: ops.sparse_categorical_crossentropy(labels, z, from_logits=True),
             lambda z: F.cross_entropy(z, torch.tensor(labels), reduction="none"), [_randn(4, 3, seed=13)])
    _compare(lambda p: ops.sparse_categorical_crossentropy(labels[:, None], p),
             lambda p: F.nll_loss(torch.log(p / p.sum(1, keepdim=True)), torch.tensor(labels), reduction="none"),
             [probs], rtol=1e-8)


def test_cross_entropy_clips_with_backend_epsilon():
    out = ops.binary_crossentropy(np.array([1.0]), np.array([0.0])).numpy()
    np.testing.assert_allclose(out, -np.log(1e-7), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Arguments `target` and `output` must have the same shape"):
        ops.binary_crossentropy(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"must have the same shape up until the last dimension"):
        ops.sparse_categorical_crossentropy(np.ones(3), np.ones((2, 4)))


def test_moments_normalize_one_hot_top_k():
    x = _randn(3, 4, 5, seed=14)
    mean, var = ops.moments(Tensor(x), axes=(0, 2))
    expected_var, expected_mean = torch.var_mean(torch.tensor(x), dim=(0, 2), unbiased=False)
    np.testing.assert_allclose(mean.numpy(), expected_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), expected_var.numpy(), rtol=1e-12)
    assert ops.moments(x, axes=[1], keepdims=True)[0].shape == (3, 1, 5)
    gradcheck(lambda t: ops.moments(t, axes=(0,))[1], [x[:, :2, 0]])
    _compare(lambda t: ops.normalize(t, axis=-1), lambda t: F.normalize(t, dim=-1), [x])
    _compare(lambda t: ops.normalize(t, axis=1, order=1), lambda t: F.normalize(t, p=1, dim=1), [x])
    np.testing.assert_array_equal(ops.one_hot(np.array([2, 0, -1]), 3).numpy(),
                                  [[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    assert ops.one_hot(np.array([[1, 0]]), 3, axis=1).shape == (1, 3, 2)
    assert ops.one_hot([1], 2).dtype == np.float32
    np.testing.assert_array_equal(ops.nn.multi_hot(np.array([[0, 2], [1, 1]]), 3).numpy(), [[1, 0, 1], [0, 1, 0]])
    _compare(lambda t: ops.top_k(t, 2)[0], lambda t: torch.topk(t, 2).values, [x])
    values, indices = ops.top_k(np.array([1.0, 3.0, 3.0, 2.0]), 3)
    np.testing.assert_array_equal(indices.numpy(), [1, 2, 3])  # ties: the first index first, as Keras
    with pytest.raises(ValueError, match=r"Argument `order` must be an int >= 1"):
        ops.normalize(x, order=0)
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[0, 4\]"):
        ops.top_k(np.ones(4), 5)
    with pytest.raises(NotImplementedError, match=r"synchronized=True is not supported"):
        ops.moments(x, axes=0, synchronized=True)


@pytest.mark.parametrize("size", [(6, 10), (3, 2), (4, 7)])
@pytest.mark.parametrize("interpolation,torch_mode", [("bilinear", "bilinear"), ("nearest", "nearest-exact")])
def test_image_resize_against_torch(size, interpolation, torch_mode):
    x = _randn(2, 4, 5, 3, seed=15)
    kwargs = {"align_corners": False} if torch_mode == "bilinear" else {}
    _compare(lambda t: ops.image.resize(t, size, interpolation=interpolation),
             lambda t: _nhwc(F.interpolate(_nchw(t), size=size, mode=torch_mode, **kwargs)), [x], rtol=1e-8)


def test_image_resize_single_image_crop_and_pad_to_aspect_ratio():
    x = _randn(6, 4, 2, seed=16)
    assert ops.image.resize(x, (3, 2)).shape == (3, 2, 2)
    cropped = ops.image.resize(x, (2, 2), crop_to_aspect_ratio=True).numpy()
    np.testing.assert_allclose(cropped, ops.image.resize(x[1:5], (2, 2)).numpy(), rtol=1e-12)  # centred 4x4 box
    padded = ops.image.resize(x, (3, 3), pad_to_aspect_ratio=True, fill_value=0.5).numpy()
    box = np.pad(x, ((0, 0), (1, 1), (0, 0)), constant_values=0.5)  # 6x6, image centred
    np.testing.assert_allclose(padded, ops.image.resize(box, (3, 3)).numpy(), rtol=1e-12)
    assert ops.image.resize(np.ones((1, 4, 4, 1), np.uint8), (2, 2)).dtype == np.float32
    with pytest.raises(ValueError, match=r"kernelscope's resize supports interpolation \('bilinear', 'nearest'\)"):
        ops.image.resize(x, (2, 2), interpolation="bicubic")
    with pytest.raises(ValueError, match=r"Invalid value for argument `interpolation`"):
        ops.image.resize(x, (2, 2), interpolation="cubic")
    with pytest.raises(ValueError, match=r"antialias=True is not supported"):
        ops.image.resize(x, (2, 2), antialias=True)
    with pytest.raises(ValueError, match=r"Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio`"):
        ops.image.resize(x, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"Only `'constant'` is supported"):
        ops.image.resize(x, (2, 2), fill_mode="reflect")
    with pytest.raises(ValueError, match=r"Argument `size` must be a tuple of two elements"):
        ops.image.resize(x, (2,))
    with pytest.raises(ValueError, match=r"Invalid images rank: expected rank 3"):
        ops.image.resize(np.ones((2, 2)), (2, 2))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bijc,bijd->bcd", [(2, 3, 3, 2), (2, 3, 3, 4)]),   # the Gram matrix of style transfer
    ("i,j->ij", [(3,), (4,)]),
    ("ij->", [(2, 3)]),
    ("ij,j", [(2, 3), (3,)]),                            # implicit output
    ("ij,kl->ik", [(2, 3), (4, 5)]),                     # j and l summed inside one operand each
    ("...ij,jk->...ik", [(2, 2, 3), (3, 4)]),
    ("...j,...j->...", [(1, 3), (2, 3)]),                # broadcasting of the ellipsis
]


@pytest.mark.parametrize("spec,shapes", EINSUMS, ids=[s for s, _ in EINSUMS])
def test_einsum_against_torch(spec, shapes):
    arrays = [_randn(*s, seed=20 + i) for i, s in enumerate(shapes)]
    _compare(lambda *t: ops.einsum(spec, *t), lambda *t: torch.einsum(spec, *t), arrays)


def test_einsum_errors():
    with pytest.raises(ValueError, match=r"cannot differentiate an operand with a repeated subscript"):
        ops.einsum("ii->i", Tensor(np.eye(2), requires_grad=True)).sum().backward()
    with pytest.raises(ValueError, match=r"`subscripts` names 2 operands but 1 were given"):
        ops.einsum("i,j->ij", np.ones(2))
    with pytest.raises(TypeError, match=r"einsum takes no keyword arguments"):
        ops.einsum("i->", np.ones(2), optimize=True)


@pytest.mark.parametrize("axes,shapes", [(1, [(2, 3), (3, 4)]), (2, [(2, 3, 4), (3, 4, 5)]),
                                         (([1, 0], [0, 1]), [(2, 3, 4), (3, 2)]), (0, [(2,), (3,)])])
def test_tensordot_against_torch(axes, shapes):
    arrays = [_randn(*s, seed=30 + i) for i, s in enumerate(shapes)]
    torch_axes = axes if isinstance(axes, int) else [list(a) for a in axes]
    _compare(lambda a, b: ops.tensordot(a, b, axes=axes), lambda a, b: torch.tensordot(a, b, dims=torch_axes), arrays)


@pytest.mark.parametrize("shapes", [[(3,), (3,)], [(2, 3), (3,)], [(2, 3), (3, 4)], [(2, 2, 3), (4, 3, 2)],
                                    [(), (2, 3)]], ids=str)
def test_dot_matches_numpy_dot(shapes):
    arrays = [_randn(*s, seed=40 + i) for i, s in enumerate(shapes)]
    np.testing.assert_allclose(ops.dot(*arrays).numpy(), np.dot(*arrays), rtol=1e-12)
    gradcheck(ops.dot, arrays)


def test_outer_inner_vdot():
    a, b = _randn(3, seed=50), _randn(4, seed=51)
    np.testing.assert_allclose(ops.outer(a, b).numpy(), np.outer(a, b))
    np.testing.assert_allclose(ops.inner(a, a).numpy(), np.inner(a, a))
    np.testing.assert_allclose(ops.vdot(a, a).numpy(), np.vdot(a, a))
    gradcheck(ops.outer, [a, b])
    with pytest.raises(ValueError, match=r"`tensordot` contracts axes of unequal sizes"):
        ops.tensordot(np.ones((2, 3)), np.ones((2, 3)), axes=1)


ACTIVATIONS = {
    "selu": (ops.selu, F.selu), "celu": (lambda t: ops.celu(t, alpha=0.7), lambda t: F.celu(t, 0.7)),
    "softsign": (ops.softsign, F.softsign), "hard_silu": (ops.hard_silu, F.hardswish),
    "hard_tanh": (ops.hard_tanh, F.hardtanh), "glu": (lambda t: ops.glu(t, axis=1), lambda t: F.glu(t, 1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_more_activations_against_torch(name):
    ks_fn, torch_fn = ACTIVATIONS[name]
    x = _randn(3, 4, seed=70) * 2.5
    x[np.abs(np.abs(x) - 3) < 0.05] += 0.2  # keep hard_silu's kinks away from the central difference
    _compare(ks_fn, torch_fn, [x], rtol=1e-8)


def test_batch_normalization_against_torch():
    x, mean, var = _randn(2, 3, 3, 4, seed=71), _randn(4, seed=72), np.abs(_randn(4, seed=73)) + 0.2
    offset, scale = _randn(4, seed=74), _randn(4, seed=75)
    _compare(lambda t, m, v, o, s: ops.nn.batch_normalization(t, m, v, axis=-1, offset=o, scale=s, epsilon=1e-3),
             lambda t, m, v, o, s: (t - m) / torch.sqrt(v + 1e-3) * s + o,
             [x, mean, var, offset, scale], rtol=1e-8)


def test_depth_space_rearrangements_follow_tensorflow_order():
    x = _randn(2, 2, 3, 12, seed=76)
    b, c = 2, 3
    expected = np.zeros((2, 4, 6, c))
    for h in range(2):
        for w in range(3):
            for i in range(b):
                for j in range(b):
                    expected[:, h * b + i, w * b + j, :] = x[:, h, w, (i * b + j) * c:(i * b + j + 1) * c]
    np.testing.assert_array_equal(ops.nn.depth_to_space(x, 2).numpy(), expected)
    np.testing.assert_array_equal(ops.nn.space_to_depth(expected, 2).numpy(), x)
    gradcheck(lambda t: ops.nn.depth_to_space(t, 2), [x[:1, :1, :2]])
    with pytest.raises(ValueError, match=r"`block_size` must be >= 2 with block_size\*\*2 dividing the channels"):
        ops.nn.depth_to_space(x, 3)


def test_grayscale_in_top_k_psnr():
    img = _randn(2, 3, 3, 3, seed=77)
    np.testing.assert_allclose(ops.image.rgb_to_grayscale(img).numpy(),
                               (img @ np.array([0.2989, 0.5870, 0.1140]))[..., None], rtol=1e-12)
    gradcheck(ops.image.rgb_to_grayscale, [img[:1, :2, :2]])
    preds = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(ops.math.in_top_k(np.array([2, 0]), preds, 1).numpy(), [False, False])
    np.testing.assert_array_equal(ops.in_top_k(np.array([2, 0]), preds, 2).numpy(), [True, True])  # a tie counts
    a, b = np.random.default_rng(1).random((4, 4)), np.random.default_rng(2).random((4, 4))
    np.testing.assert_allclose(float(ops.nn.psnr(a, b, 1.0)), 10 * np.log10(1 / np.mean((a - b) ** 2)), rtol=1e-12)
    with pytest.raises(ValueError, match=r"`rgb_to_grayscale` needs RGB images"):
        ops.image.rgb_to_grayscale(np.ones((2, 2, 4)))


def test_layer_and_rms_normalization_against_torch():
    x, gamma, beta = _randn(2, 3, 4, seed=90), _randn(4, seed=91), _randn(4, seed=92)
    _compare(lambda t, g, b: ops.nn.layer_normalization(t, g, b, epsilon=1e-5),
             lambda t, g, b: F.layer_norm(t, (4,), g, b, eps=1e-5), [x, gamma, beta], rtol=1e-8)
    _compare(lambda t: ops.layer_normalization(t, axis=(1, 2), epsilon=1e-3),
             lambda t: F.layer_norm(t, (3, 4), eps=1e-3), [x], rtol=1e-8)
    _compare(lambda t, g: ops.nn.rms_normalization(t, g, epsilon=1e-6),
             lambda t, g: F.rms_norm(t, (4,), g, eps=1e-6), [x, gamma], rtol=1e-8)
    np.testing.assert_allclose(ops.layer_normalization(np.arange(5.0)).numpy(),
                               [-1.4142135, -0.70710677, 0.0, 0.7071067, 1.4142135], rtol=1e-6)  # Keras's docs
    with pytest.warns(UserWarning, match=r"`rms_scaling=True`, which is deprecated"):
        scaled = ops.layer_normalization(x, rms_scaling=True)
    np.testing.assert_allclose(scaled.numpy(), x / np.sqrt(x.var(-1, keepdims=True) + 1e-7), rtol=1e-10)
    with pytest.raises(TypeError, match=r"layer_normalization got unexpected keyword argument\(s\): center"):
        ops.layer_normalization(x, center=True)
