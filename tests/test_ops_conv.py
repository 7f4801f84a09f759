"""conv2d, depthwise_conv2d, separable_conv2d, conv2d_transpose against PyTorch.

Layouts are converted here: NHWC <-> NCHW, Keras kernels <-> torch weights.
TensorFlow's "same" padding is applied to torch explicitly with F.pad, using the
published formula total = max(0, (ceil(n/s)-1)*s + (k-1)*d + 1 - n), odd pixel last.
"""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernelscope as ks
from kernelscope.autograd import Tensor, gradcheck

ops = ks.ops
TOL = {np.float64: dict(rtol=1e-9, atol=1e-9), np.float32: dict(rtol=1e-5, atol=1e-5)}


def nchw(a):
    return torch.from_numpy(np.ascontiguousarray(np.transpose(a, (0, 3, 1, 2))))


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def tf_same(n, k, s, d):
    total = max(0, (math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n)
    return total // 2, total - total // 2


def torch_pads(padding, hw, kernel_hw, strides, dilation):
    """(left, right, top, bottom) for F.pad."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        (t, b), (l, r) = (tf_same(*a) for a in zip(hw, kernel_hw, strides, dilation))
        return (l, r, t, b)
    if isinstance(padding, int):
        return (padding,) * 4
    (t, b), (l, r) = padding
    return (l, r, t, b)


def check(ours, inputs, reference_out, reference_inputs, dtype, seed=0):
    """Forward values, then gradients of every input for the same random upstream gradient."""
    tol = TOL[dtype]
    assert ours.dtype == dtype
    expected = nhwc(reference_out)
    np.testing.assert_allclose(ours.numpy(), expected, **tol)
    g = np.random.default_rng(seed).standard_normal(ours.shape).astype(dtype)
    ours.backward(g)
    reference_out.backward(nchw(g))
    for mine, ref, to_keras in zip(inputs, reference_inputs, ("x", "kernel", "bias")):
        grad = ref[1](ref[0].grad.numpy())
        scale = max(1.0, float(np.abs(grad).max()))
        np.testing.assert_allclose(mine.grad, grad, rtol=tol["rtol"], atol=tol["atol"] * scale,
                                   err_msg=f"gradient of {to_keras}")


def leaves(rng, dtype, *shapes):
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return arrays, [Tensor(a, requires_grad=True) for a in arrays]


# ------------------------------------------------------------------ conv2d
PADDINGS = ["valid", "same", 1, ((1, 2), (0, 1))]
CONV_GRID = [c for c in itertools.product((1, 2, 3, 5), (1, 2, 3), PADDINGS, (1, 2), (1, 2, 4))
             if c[0] == 1 or c[3] == 1 or c[1] <= 2]


def run_conv2d(x, kernel, bias, strides, padding, dilation, groups, dtype):
    (xa, ka, ba), (xt, kt, bt) = [x, kernel, bias], [Tensor(a, requires_grad=True) for a in (x, kernel, bias)]
    y = ops.conv2d(xt, kt, bt, strides=strides, padding=padding, dilation_rate=dilation, groups=groups)
    tx = nchw(xa).requires_grad_()
    tk = torch.from_numpy(np.ascontiguousarray(ka.transpose(3, 2, 0, 1))).requires_grad_()
    tb = torch.from_numpy(np.array(ba)).requires_grad_()
    padded = F.pad(tx, torch_pads(padding, x.shape[1:3], kernel.shape[:2], strides, dilation))
    ref = F.conv2d(padded, tk, tb, stride=strides, dilation=dilation, groups=groups)
    check(y, (xt, kt, bt), ref, [(tx, lambda a: a.transpose(0, 2, 3, 1)),
                                  (tk, lambda a: a.transpose(2, 3, 1, 0)), (tb, lambda a: a)], dtype)


@pytest.mark.parametrize("k,s,padding,d,groups", CONV_GRID)
def test_conv2d_matches_torch(k, s, padding, d, groups):
    rng = np.random.default_rng(k * 100 + s * 10 + d + groups)
    batch = 1 + (k + s + groups) % 2
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((batch, 9, 11, 8)).astype(dtype)
        kernel = rng.standard_normal((k, k + (k > 1), 8 // groups, 4)).astype(dtype)  # non-square kernels too
        bias = rng.standard_normal(4).astype(dtype)
        run_conv2d(x, kernel, bias, (s, s + (s < 3)), padding, (d, d), groups, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_non_contiguous_inputs(dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 9, 12, 4)).astype(dtype).transpose(0, 2, 1, 3)[:, ::2, :, ::-1]  # (2, 6, 9, 4)
    kernel = rng.standard_normal((4, 3, 3, 3)).astype(dtype).transpose(2, 1, 0, 3)  # (3, 3, 4, 3) view
    assert not x.flags.c_contiguous and not kernel.flags.c_contiguous
    run_conv2d(x, kernel, rng.standard_normal(3).astype(dtype), (1, 2), "same", (1, 1), 1, dtype)
    run_conv2d(x[:, 1:, 2:], kernel, rng.standard_normal(3).astype(dtype), (1, 1), "valid", (1, 1), 1, dtype)


def test_conv2d_pointwise_and_float32_stays_float32():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 5, 6, 4)).astype(np.float32)
    kernel = rng.standard_normal((1, 1, 4, 3)).astype(np.float32)
    y = ops.conv2d(x, kernel)
    assert y.dtype == np.float32 and y.shape == (2, 5, 6, 3)
    np.testing.assert_allclose(y.numpy(), np.einsum("nhwc,cf->nhwf", x, kernel[0, 0]), rtol=1e-5, atol=1e-5)
    run_conv2d(x, kernel, np.zeros(3, np.float32), (1, 1), "valid", (1, 1), 1, np.float32)


def test_conv2d_without_bias_and_int_inputs():
    image = np.arange(16).reshape(1, 4, 4, 1)
    y = ops.conv2d(image, np.ones((2, 2, 1, 1), dtype=int))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy()[0, :, :, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])


# -------------------------------------------------------- depthwise_conv2d
DEPTHWISE_GRID = list(itertools.product((1, 2, 3, 5), (1, 2, 3), ["valid", "same", ((0, 2), (1, 0))],
                                        (1, 2), (1, 2)))


def depthwise_to_torch(kernel):
    kh, kw, c, m = kernel.shape
    return np.ascontiguousarray(kernel.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw))


@pytest.mark.parametrize("k,s,padding,d,mult", DEPTHWISE_GRID)
def test_depthwise_conv2d_matches_torch(k, s, padding, d, mult):
    rng = np.random.default_rng(k * 100 + s * 10 + d + mult)
    for dtype in (np.float64, np.float32):
        (x, kernel, bias), tensors = leaves(rng, dtype, (1 + s % 2, 11, 10, 3), (k, k, 3, mult), (3 * mult,))
        if dtype is np.float32:
            x = x[:, ::-1]  # a negative-stride view
            tensors[0] = Tensor(x, requires_grad=True)
        y = ops.depthwise_conv2d(*tensors, strides=s, padding=padding, dilation_rate=d)
        tx = nchw(x).requires_grad_()
        tk = torch.from_numpy(depthwise_to_torch(kernel)).requires_grad_()
        tb = torch.from_numpy(bias).requires_grad_()
        padded = F.pad(tx, torch_pads(padding, x.shape[1:3], (k, k), (s, s), (d, d)))
        ref = F.conv2d(padded, tk, tb, stride=s, dilation=d, groups=3)
        back = lambda a: a.reshape(3, mult, k, k).transpose(2, 3, 0, 1)  # noqa: E731
        check(y, tensors, ref, [(tx, lambda a: a.transpose(0, 2, 3, 1)), (tk, back), (tb, lambda a: a)], dtype)


def test_separable_conv2d_matches_torch():
    rng = np.random.default_rng(3)
    (x, dk, pk, bias), tensors = leaves(rng, np.float64, (2, 8, 7, 3), (3, 3, 3, 2), (1, 1, 6, 5), (5,))
    y = ops.separable_conv2d(*tensors, strides=2, padding="same")
    tx, tdk = nchw(x).requires_grad_(), torch.from_numpy(depthwise_to_torch(dk)).requires_grad_()
    tpk = torch.from_numpy(np.ascontiguousarray(pk.transpose(3, 2, 0, 1))).requires_grad_()
    tb = torch.from_numpy(bias).requires_grad_()
    hidden = F.conv2d(F.pad(tx, torch_pads("same", (8, 7), (3, 3), (2, 2), (1, 1))), tdk, stride=2, groups=3)
    ref = F.conv2d(hidden, tpk, tb)
    check(y, tensors, ref, [(tx, lambda a: a.transpose(0, 2, 3, 1)),
                            (tdk, lambda a: a.reshape(3, 2, 3, 3).transpose(2, 3, 0, 1)),
                            (tpk, lambda a: a.transpose(2, 3, 1, 0)), (tb, lambda a: a)], np.float64)


# -------------------------------------------------------- conv2d_transpose
def keras_transpose_length(n, k, s, d, padding, output_padding):
    """Keras 3's compute_conv_transpose_output_shape for one axis."""
    span = (k - 1) * d + 1
    if padding == "valid":
        op = max(span, s) - span if output_padding is None else output_padding
        return (n - 1) * s + span + op
    return n * s if output_padding is None else (n - 1) * s + span % 2 + output_padding


def keras_transpose_jax_pads(k, s, d, padding, output_padding):
    """Keras 3's _convert_conv_transpose_padding_args_from_keras_to_jax: (left, right) padding."""
    span = (k - 1) * d + 1
    if padding == "valid":
        op = max(span, s) - span if output_padding is None else output_padding
        return span - 1, span - 1 + op
    pad_len = s + span - 2 if output_padding is None else span + span % 2 - 2 + output_padding
    left = min(pad_len // 2 + pad_len % 2, span - 1)
    return left, pad_len - left


TRANSPOSE_GRID = [c for c in itertools.product((1, 2, 3, 5), (1, 2, 3), ("valid", "same"), (None, 1), (1, 2))
                  if (c[3] is None or c[3] < c[1]) and (c[4] == 1 or c[1] <= 2)]


@pytest.mark.parametrize("k,s,padding,op,d", TRANSPOSE_GRID)
def test_conv2d_transpose_matches_torch(k, s, padding, op, d):
    rng = np.random.default_rng(k * 100 + s * 10 + d)
    for dtype in (np.float64, np.float32):
        (x, kernel, bias), tensors = leaves(rng, dtype, (1 + k % 2, 4, 5, 3), (k, k + 1, 2, 3), (2,))
        y = ops.conv2d_transpose(*tensors, strides=s, padding=padding, output_padding=op, dilation_rate=d)
        assert y.shape == (x.shape[0], keras_transpose_length(4, k, s, d, padding, op),
                           keras_transpose_length(5, k + 1, s, d, padding, op), 2)
        tx = nchw(x).requires_grad_()
        tk = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))).requires_grad_()
        tb = torch.from_numpy(bias).requires_grad_()
        full = F.conv_transpose2d(tx, tk, stride=s, dilation=d)
        # JAX-style padding p of the stride-dilated input == cropping span-1-p from the full output;
        # a negative crop appends zeros. Keras adds the bias afterwards, to every output pixel.
        crops = [span - 1 - p for kk in (k, k + 1) for span in [(kk - 1) * d + 1]
                 for p in keras_transpose_jax_pads(kk, s, d, padding, op)]
        ref = F.pad(full, (-crops[2], -crops[3], -crops[0], -crops[1])) + tb[:, None, None]
        check(y, tensors, ref, [(tx, lambda a: a.transpose(0, 2, 3, 1)),
                                (tk, lambda a: a.transpose(2, 3, 1, 0)), (tb, lambda a: a)], dtype)


@pytest.mark.parametrize("k,s", [(3, 2), (4, 2), (3, 1), (5, 3), (2, 3)])
def test_conv2d_transpose_same_is_gradient_of_tf_same_conv(k, s):
    """TensorFlow defines conv2d_transpose(x) as the input-gradient of conv2d(padding="same")."""
    rng = np.random.default_rng(k + s)
    x, kernel = rng.standard_normal((2, 4, 3, 3)), rng.standard_normal((k, k, 2, 3))
    y = ops.conv2d_transpose(x, kernel, strides=s, padding="same").numpy()
    u = torch.zeros((2, 2, 4 * s, 3 * s), dtype=torch.float64, requires_grad=True)
    conv = F.conv2d(F.pad(u, torch_pads("same", (4 * s, 3 * s), (k, k), (s, s), (1, 1))),
                    torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()), stride=s)
    assert conv.shape[2:] == (4, 3)
    conv.backward(nchw(x))
    np.testing.assert_allclose(y, nhwc(u.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding,op", [(1, None), (((2, 0), (1, 1))), ((1, 2), 1)])
def test_conv2d_transpose_explicit_padding_matches_torch(padding, op):
    rng = np.random.default_rng(4)
    (x, kernel, bias), tensors = leaves(rng, np.float64, (2, 5, 4, 3), (3, 3, 2, 3), (2,))
    y = ops.conv2d_transpose(*tensors, strides=2, padding=padding, output_padding=op)
    tx = nchw(x).requires_grad_()
    tk = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))).requires_grad_()
    tb = torch.from_numpy(bias).requires_grad_()
    if isinstance(padding, tuple) and isinstance(padding[0], tuple):
        (t, b), (l, r) = padding
        ref = F.pad(F.conv_transpose2d(tx, tk, tb, stride=2), (-l, -r, -t, -b))
    else:
        ref = F.conv_transpose2d(tx, tk, tb, stride=2, padding=padding, output_padding=op or 0)
    check(y, tensors, ref, [(tx, lambda a: a.transpose(0, 2, 3, 1)),
                            (tk, lambda a: a.transpose(2, 3, 1, 0)), (tb, lambda a: a)], np.float64)


# ---------------------------------------------------------------- gradcheck
def test_gradcheck_conv2d():
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal(s) for s in ((2, 5, 4, 4), (3, 2, 2, 2), (2,))]
    gradcheck(lambda x, k, b: ops.conv2d(x, k, b, strides=(2, 1), padding="same", groups=2), inputs)
    gradcheck(lambda x, k, b: ops.conv2d(x, k, b, padding=((0, 1), (2, 0)), dilation_rate=2, groups=2), inputs)


def test_gradcheck_depthwise_and_separable():
    rng = np.random.default_rng(6)
    x, dk, pk, b = (rng.standard_normal(s) for s in ((1, 5, 6, 2), (3, 2, 2, 2), (1, 1, 4, 3), (3,)))
    gradcheck(lambda x, k, b: ops.depthwise_conv2d(x, k, b, strides=2, padding="same"), [x, dk, rng.standard_normal(4)])
    gradcheck(lambda x, d, p, b: ops.separable_conv2d(x, d, p, b, padding="same", dilation_rate=2), [x, dk, pk, b])


def test_conv2d_activation_fuses_relu_and_applies_any_other_activation():
    from kernelscope.ops.conv import conv2d_activation

    rng = np.random.default_rng(8)
    x, k, b = (rng.standard_normal(s) for s in ((2, 5, 4, 4), (3, 2, 2, 2), (2,)))
    tx, tk, tb = torch.tensor(nchw(x)), torch.tensor(k.transpose(3, 2, 0, 1)), torch.tensor(b)
    conv = F.conv2d(tx, tk, tb, stride=(2, 1), groups=2)
    for activation, reference in ((ks.ops.relu, F.relu), (ks.ops.sigmoid, torch.sigmoid), (None, lambda t: t)):
        y = conv2d_activation(x, k, b, activation, strides=(2, 1), groups=2)
        np.testing.assert_allclose(y.numpy(), nhwc(reference(conv)), rtol=1e-12, atol=1e-12)
    # no output of these inputs lies within eps=1e-6 of ReLU's kink, where central differences would straddle it
    assert np.abs(conv.numpy()).min() > 1e-3
    gradcheck(lambda x, k, b: conv2d_activation(x, k, b, ks.ops.relu, strides=(2, 1), groups=2), [x, k, b])


def test_gradcheck_conv2d_transpose():
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal(s) for s in ((2, 3, 4, 2), (3, 2, 3, 2), (3,))]
    gradcheck(lambda x, k, b: ops.conv2d_transpose(x, k, b, strides=2, padding="same"), inputs)
    gradcheck(lambda x, k, b: ops.conv2d_transpose(x, k, b, strides=(2, 3), output_padding=1), inputs)


# ------------------------------------------------------------------- errors
X = np.zeros((1, 6, 6, 4))
K3 = np.zeros((3, 3, 4, 2))


@pytest.mark.parametrize("call,error,match", [
    (lambda: ops.conv2d(X, np.zeros((3, 3, 3, 2))), ValueError, r"kernel's input channels .*Received: kernel.shape=\(3, 3, 3, 2\)"),
    (lambda: ops.conv2d(X, np.zeros((3, 3, 4, 2)), groups=2), ValueError, r"kernel's input channels .*4 // 2 = 2"),
    (lambda: ops.conv2d(X, np.zeros((3, 3, 1, 2)), groups=3), ValueError, r"evenly divisible .*groups=3, input channels=4"),
    (lambda: ops.conv2d(X, np.zeros((3, 3, 2, 3)), groups=2), ValueError, r"evenly divisible .*filters=3"),
    (lambda: ops.conv2d(X, K3, groups=0), ValueError, r"`groups` must be a positive integer. Received: groups=0"),
    (lambda: ops.conv2d(X, K3, padding=-1), ValueError, r"`padding` must be .*Received: padding=-1"),
    (lambda: ops.conv2d(X, K3, padding="full"), ValueError, r"`padding` must be .*Received: padding='full'"),
    (lambda: ops.conv2d(X, K3, padding=((1, 2), (3,))), ValueError, r"`padding` must be"),
    (lambda: ops.conv2d(X, np.zeros((7, 3, 4, 2))), ValueError, r"window is larger than the padded input.*kernel_size=\(7, 3\)"),
    (lambda: ops.conv2d(X, K3, dilation_rate=3), ValueError, r"window is larger .*dilation_rate=\(3, 3\)"),
    (lambda: ops.conv2d(X[0], K3), ValueError, r"`x` must be a 4-D array \(batch, height, width, channels\). Received: shape=\(6, 6, 4\)"),
    (lambda: ops.conv2d(X, K3[0]), ValueError, r"`kernel` must be a 4-D array .*Received: shape=\(3, 4, 2\)"),
    (lambda: ops.conv2d(X.astype(str), K3), TypeError, r"`x` must hold numbers. Received: dtype=<U"),
    (lambda: ops.conv2d(X, K3.astype(complex)), TypeError, r"`kernel` must hold numbers. Received: dtype=complex128"),
    (lambda: ops.conv2d(X, K3, bias=np.zeros(3)), ValueError, r"`bias` must have shape \(filters,\) = \(2,\). Received: bias.shape=\(3,\)"),
    (lambda: ops.conv2d(X, K3, bias=["a", "b"]), TypeError, r"`bias` must hold numbers"),
    (lambda: ops.conv2d(X, K3, strides=0), ValueError, r"`strides` must be >= 1. Received: strides=0"),
    (lambda: ops.conv2d(X, K3, strides=(1, 2, 3)), ValueError, r"`strides` must be an integer or a tuple of 2"),
    (lambda: ops.conv2d(X, K3, dilation_rate=(1, 0)), ValueError, r"`dilation_rate` must be >= 1. Received: dilation_rate=\(1, 0\)"),
    (lambda: ops.depthwise_conv2d(X, np.zeros((3, 3, 3, 1))), ValueError, r"depthwise kernel's input channels .*kernel.shape=\(3, 3, 3, 1\)"),
    (lambda: ops.depthwise_conv2d(X, np.zeros((3, 3, 4, 2)), bias=np.zeros(4)), ValueError, r"\(filters,\) = \(8,\)"),
    (lambda: ops.separable_conv2d(X, np.zeros((3, 3, 4, 2)), np.zeros((1, 1, 4, 5))), ValueError,
     r"`pointwise_kernel` must have shape \(1, 1, 8, 'filters'\)"),
    (lambda: ops.separable_conv2d(X, np.zeros((3, 3, 4, 2)), np.zeros((8, 5))), ValueError, r"`pointwise_kernel` must be a 4-D"),
    (lambda: ops.conv2d_transpose(X, np.zeros((3, 3, 2, 3))), ValueError, r"kernel's input channels \(kernel.shape\[3\]\)"),
    (lambda: ops.conv2d_transpose(X, np.zeros((3, 3, 2, 4)), strides=2, output_padding=2), ValueError,
     r"`output_padding` must be < `strides`. Received: output_padding=\(2, 2\), strides=\(2, 2\)"),
    (lambda: ops.conv2d_transpose(X, np.zeros((3, 3, 2, 4)), output_padding=-1), ValueError, r"`output_padding` must be >= 0"),
    (lambda: ops.conv2d_transpose(X, np.zeros((1, 1, 2, 4)), padding=((3, 3), (0, 0))), ValueError,
     r"`padding` removes the whole transposed-convolution output"),
    (lambda: ops.conv2d_transpose(X, np.zeros((3, 3, 2, 4)), bias=np.zeros(4)), ValueError, r"\(filters,\) = \(2,\)"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("groups", [1, 2])
def test_kept_columns_give_the_recomputed_kernel_gradient(groups, monkeypatch):
    from kernelscope.kernels import conv as K

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9, 8, 4)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, 4 // groups, 6)).astype(np.float32)
    pads = ((1, 1), (0, 1))
    y_kept, kept = K.conv2d_forward(x, kernel, (1, 2), pads, (1, 1), groups, keep_cols=True)
    y_plain, plain = K.conv2d_forward(x, kernel, (1, 2), pads, (1, 1), groups)
    assert kept.cols is not None and plain.cols is None
    np.testing.assert_array_equal(y_kept, y_plain)
    dy = rng.standard_normal(y_kept.shape).astype(np.float32)
    # one chunk either way: the same GEMM on the same columns
    np.testing.assert_array_equal(K.conv2d_backward(dy, kept, False, True)[1], K.conv2d_backward(dy, plain, False, True)[1])
    weight = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()).requires_grad_()
    padded = F.pad(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), (0, 1, 1, 1))  # (left, right, top, bottom)
    F.conv2d(padded, weight, stride=(1, 2), groups=groups).backward(torch.from_numpy(dy.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(K.conv2d_backward(dy, kept, False, True)[1], weight.grad.numpy().transpose(2, 3, 1, 0),
                               rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(K, "_KEEP_COLS_BYTES", 100)  # above the limit the columns are recomputed
    assert K.conv2d_forward(x, kernel, (1, 2), pads, (1, 1), groups, keep_cols=True)[1].cols is None


def test_columns_are_kept_only_when_the_kernel_gradient_is_recorded(monkeypatch):
    from kernelscope import autograd
    from kernelscope.kernels import conv as K

    seen = []
    original = K.conv2d_forward

    def spy(*args, **kwargs):
        y, cache = original(*args, **kwargs)
        seen.append(cache.cols is not None)
        return y, cache

    monkeypatch.setattr(K, "conv2d_forward", spy)
    x, kernel = np.ones((2, 5, 5, 1), np.float32), Tensor(np.ones((3, 3, 1, 2), np.float32), requires_grad=True)
    ops.conv2d(x, kernel)
    with autograd.no_grad():
        ops.conv2d(x, kernel)
    ops.conv2d(x, kernel.data)
    assert seen == [True, False, False]
