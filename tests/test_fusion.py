"""Conv2D(relu) -> MaxPooling2D() fused into one op (models/fusion.py, ops.conv.conv2d_relu_max_pool2d).

References: the same three ops run one after another (each checked against PyTorch in
test_ops_conv.py / test_ops_pooling.py), PyTorch itself for the whole block, and a
hand-made near-tie whose routing is worked out in the test.
"""

import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernelscope as ks
from kernelscope import autograd, backend
from kernelscope.autograd import Tensor
from kernelscope.models import fusion

C = importlib.import_module("kernelscope.ops.conv")
A = importlib.import_module("kernelscope.ops.activations")
POOL = importlib.import_module("kernelscope.ops.pooling")
LAYERS_CONV = importlib.import_module("kernelscope.layers.conv")


@pytest.fixture(autouse=True)
def _defaults_back():
    yield
    ks.config.set_fast(True)
    ks.config.set_fusion(True)
    ks.config.set_num_workers(None)
    backend.set_floatx("float32")


def _tensors(dtype, x_shape=(5, 9, 10, 3), kernel_shape=(3, 3, 3, 4), seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(x_shape).astype(dtype), requires_grad=True)
    k = Tensor(rng.standard_normal(kernel_shape).astype(dtype), requires_grad=True)
    b = Tensor(rng.standard_normal(kernel_shape[3]).astype(dtype), requires_grad=True) if bias else None
    return x, k, b


def _forward_and_grads(op, x, k, b, seed=1):
    out = op()
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    parents = [t for t in (x, k, b) if t is not None]
    return out.data, autograd.grad((out * Tensor(g)).sum(), parents)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("geometry", [{}, {"padding": "same"}, {"strides": 2, "padding": 1},
                                      {"dilation_rate": 2}, {"groups": 1}])
def test_fused_block_equals_the_three_ops(fast, dtype, geometry):
    ks.config.set_fast(fast)
    x, k, b = _tensors(dtype, x_shape=(5, 11, 10, 3))
    ref, ref_grads = _forward_and_grads(
        lambda: POOL.max_pool2d(C.conv2d_activation(x, k, b, A.relu, **geometry), 2), x, k, b)
    out, grads = _forward_and_grads(lambda: C.conv2d_relu_max_pool2d(x, k, b, **geometry), x, k, b)
    np.testing.assert_array_equal(out, ref)  # pooling before the bias changes no value
    np.testing.assert_array_equal(grads[0], ref_grads[0])  # dx, dw: the same cells get the same terms
    np.testing.assert_array_equal(grads[1], ref_grads[1])
    tol = 1e-6 if dtype == "float32" else 1e-14  # db: the same terms summed in another order
    np.testing.assert_allclose(grads[2], ref_grads[2], rtol=tol, atol=tol)
    assert [g.dtype for g in grads] == [np.dtype(dtype)] * 3


def test_fused_block_without_bias_and_with_a_frozen_input():
    x, k, _ = _tensors("float64", bias=False)
    x.requires_grad = False
    ref, ref_grads = _forward_and_grads(lambda: POOL.max_pool2d(C.conv2d_activation(x, k, None, A.relu), 2), x, k,
                                        None)
    out, grads = _forward_and_grads(lambda: C.conv2d_relu_max_pool2d(x, k, None), x, k, None)
    np.testing.assert_array_equal(out, ref)
    assert grads[0] is None or not np.any(grads[0])
    np.testing.assert_array_equal(grads[1], ref_grads[1])


def test_fused_block_matches_torch():
    x, k, b = _tensors("float32", x_shape=(4, 14, 13, 3), kernel_shape=(3, 3, 3, 6))
    out, grads = _forward_and_grads(lambda: C.conv2d_relu_max_pool2d(x, k, b), x, k, b)
    tx = torch.from_numpy(x.data.transpose(0, 3, 1, 2).copy()).requires_grad_()
    tk = torch.from_numpy(k.data.transpose(3, 2, 0, 1).copy()).requires_grad_()
    tb = torch.from_numpy(b.data.copy()).requires_grad_()
    ty = F.max_pool2d(F.relu(F.conv2d(tx, tk, tb)), 2)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    ty.backward(torch.from_numpy(g.transpose(0, 3, 1, 2).copy()))
    np.testing.assert_allclose(out, ty.detach().numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads[0], tx.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads[1], tk.grad.numpy().transpose(2, 3, 1, 0), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(grads[2], tb.grad.numpy(), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("geometry", [{}, {"padding": "same", "strides": (1, 2)}])
def test_fused_block_gradients_equal_central_differences_in_float64(fast, geometry):
    ks.config.set_fast(fast)
    rng = np.random.default_rng(4)  # continuous random values: no ties within eps, no ReLU kinks hit
    inputs = [rng.standard_normal((2, 8, 9, 3)), rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)]
    assert autograd.gradcheck(lambda x, k, b: C.conv2d_relu_max_pool2d(x, k, b, **geometry), inputs)


@pytest.mark.parametrize("fast", [False, True])
def test_a_near_tie_routes_to_the_larger_value_before_the_bias(fast):
    # A 1x1 kernel of 1 copies the input; float32 values near 2**25 are 4 apart, so with a bias of
    # 2**25 both 2**25 + 1 and 2**25 + 2 (a halfway case, to even) round to 2**25: both cells of
    # the window hold the same value after the bias. Three ops in turn route the gradient to the first cell (1.0); the
    # fused op pools first and routes it to the larger input (2.0). Both are subgradients.
    ks.config.set_fast(fast)
    x = Tensor(np.array([1.0, 2.0, 0.0, 0.0], np.float32).reshape(1, 2, 2, 1), requires_grad=True)
    k = Tensor(np.ones((1, 1, 1, 1), np.float32), requires_grad=True)
    b = Tensor(np.array([2.0**25], np.float32), requires_grad=True)
    unfused = POOL.max_pool2d(C.conv2d_activation(x, k, b, A.relu), 2)
    fused = C.conv2d_relu_max_pool2d(x, k, b)
    np.testing.assert_array_equal(fused.data, unfused.data)
    assert autograd.grad(unfused.sum(), [x])[0].ravel().tolist() == [1, 0, 0, 0]
    assert autograd.grad(fused.sum(), [x])[0].ravel().tolist() == [0, 1, 0, 0]


def test_fast_path_switched_off_between_forward_and_backward():
    # the fast path's fused op adds the bias in place on the pooled output (its backward routes by the
    # winner bytes, not by comparing with that output); switched off before backward, NumPy routes by them too
    x, k, b = _tensors("float32", x_shape=(3, 8, 10, 3))
    ks.config.set_fast(False)
    ref, ref_grads = _forward_and_grads(lambda: C.conv2d_relu_max_pool2d(x, k, b), x, k, b)
    ks.config.set_fast(True)
    out = C.conv2d_relu_max_pool2d(x, k, b)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    ks.config.set_fast(False)
    grads = autograd.grad((out * Tensor(g)).sum(), [x, k, b])
    np.testing.assert_array_equal(out.data, ref)
    for a, e in zip(grads, ref_grads):
        np.testing.assert_allclose(a, e, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- in models
def _lenet(**conv):
    L = ks.layers
    return ks.Sequential([ks.Input((12, 12, 1)), L.Conv2D(4, 3, activation="relu", **conv), L.MaxPooling2D(),
                          L.Conv2D(6, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(3)])


@pytest.fixture
def fused_calls(monkeypatch):
    calls = []
    original = LAYERS_CONV.conv2d_relu_max_pool2d
    monkeypatch.setattr(LAYERS_CONV, "conv2d_relu_max_pool2d", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def _fit(model, workers: int):
    ks.config.set_num_workers(workers)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((48, 12, 12, 1)), rng.integers(0, 3, 48)
    ks.utils.set_random_seed(0)
    model.compile(optimizer="adam", loss=ks.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=24, epochs=2, shuffle=False, verbose=0)
    return model, x


@pytest.mark.parametrize("workers", [1, 2])
def test_sequential_training_fuses_and_equals_unfused(fused_calls, workers):
    backend.set_floatx("float64")
    ks.utils.set_random_seed(3)
    ks.config.set_fusion(False)
    unfused, x = _fit(_lenet(), workers)
    assert fused_calls == []
    ks.config.set_fusion(True)
    ks.utils.set_random_seed(3)
    fused, _ = _fit(_lenet(), workers)
    # 2 epochs x 2 batches x 2 blocks, each batch on every worker: 1 call per worker and block
    assert len(fused_calls) == 2 * 2 * 2 * workers
    for a, b in zip(unfused.weights, fused.weights):  # the bias gradients differ by summation order
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12, err_msg=a.name)
    predictions = fused.predict(x, verbose=0)
    ks.config.set_fusion(False)  # the same weights: the same predictions, bit for bit
    np.testing.assert_array_equal(fused.predict(x, verbose=0), predictions)


def test_pairs_that_are_not_the_plain_block_run_layer_by_layer(fused_calls, monkeypatch):
    L = ks.layers

    class MyConv(L.Conv2D):
        pass

    x = np.random.default_rng(0).standard_normal((2, 9, 9, 1)).astype("float32")
    cases = [
        [L.Conv2D(2, 3), L.MaxPooling2D()],  # linear conv
        [L.Conv2D(2, 3, activation="tanh"), L.MaxPooling2D()],
        [MyConv(2, 3, activation="relu"), L.MaxPooling2D()],  # a subclass may change call
        [L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(3)],
        [L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(2, strides=1)],
        [L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(padding="same")],
        [L.Conv2D(2, 3, activation="relu"), L.AveragePooling2D()],
    ]
    for layers in cases:
        model = ks.Sequential([ks.Input((9, 9, 1))] + layers)
        expected = layers[1](layers[0](x)).numpy()
        np.testing.assert_array_equal(model(x).numpy(), expected)
    assert fused_calls == []
    model = _lenet()
    model(np.zeros((1, 12, 12, 1)))
    assert len(fused_calls) == 2
    ks.config.set_fusion(False)
    model(np.zeros((1, 12, 12, 1)))
    assert len(fused_calls) == 2
    ks.config.set_fusion(True)
    monkeypatch.setenv("KERNELSCOPE_FUSION", "0")
    model(np.zeros((1, 12, 12, 1)))
    assert len(fused_calls) == 2
    monkeypatch.delenv("KERNELSCOPE_FUSION")
    model.layers[0].call = lambda inputs: L.Conv2D.call(model.layers[0], inputs)  # patched on the instance
    model(np.zeros((1, 12, 12, 1)))
    assert len(fused_calls) == 3  # the second block still fuses


def test_a_too_small_input_gets_the_pool_layers_own_error(fused_calls):
    model = ks.Sequential([ks.Input((None, None, 1)), ks.layers.Conv2D(2, 3, activation="relu"),
                           ks.layers.MaxPooling2D(name="the_pool")])
    model(np.zeros((1, 8, 8, 1)))
    assert len(fused_calls) == 1
    with pytest.raises(ValueError, match="the_pool.*pooling window is larger than the input"):
        model(np.zeros((1, 3, 3, 1)))


def test_set_fusion_checks_its_argument():
    with pytest.raises(TypeError, match="`enabled` must be a bool. Received: enabled=1"):
        ks.config.set_fusion(1)
    assert ks.config.fusion_enabled()
    assert fusion.fusable(ks.layers.Conv2D(1, 1, activation="relu"), ks.layers.MaxPooling2D(), np.zeros(3)) is False


def test_functional_models_fuse_only_a_pool_that_alone_reads_the_conv(fused_calls):
    L = ks.layers
    inputs = ks.Input((12, 12, 1))
    conv_a = L.Conv2D(3, 3, activation="relu", name="a")(inputs)
    pooled_a = L.MaxPooling2D()(conv_a)  # the only reader of conv_a: fused
    conv_b = L.Conv2D(3, 3, activation="relu", name="b")(inputs)
    pooled_b = L.MaxPooling2D()(conv_b)
    side = L.GlobalAveragePooling2D()(conv_b)  # conv_b has a second reader: not fused
    conv_c = L.Conv2D(3, 3, activation="relu", name="c")(inputs)
    pooled_c = L.MaxPooling2D()(conv_c)  # conv_c is also a model output: not fused
    merged = L.Concatenate()([L.Flatten()(pooled_a), L.Flatten()(pooled_b), side, L.Flatten()(pooled_c)])
    model = ks.Model(inputs, [L.Dense(2)(merged), conv_c])
    x = np.random.default_rng(0).standard_normal((4, 12, 12, 1)).astype("float32")
    ks.config.set_fusion(False)
    expected = [t.numpy() for t in model(x)]
    assert fused_calls == []
    ks.config.set_fusion(True)
    got = [t.numpy() for t in model(x)]
    assert len(fused_calls) == 1
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    features = ks.Model(inputs, conv_a)  # the conv's own output, as explain and feature extractors read it
    np.testing.assert_array_equal(features(x).numpy(), model.get_layer("a")(x).numpy())
    assert len(fused_calls) == 1


def test_functional_training_fuses_and_equals_unfused(fused_calls):
    backend.set_floatx("float64")

    def build():
        L = ks.layers
        inputs = ks.Input((12, 12, 1))
        x = L.MaxPooling2D()(L.Conv2D(4, 3, activation="relu")(inputs))
        x = L.MaxPooling2D()(L.Conv2D(6, 3, activation="relu")(x))
        return ks.Model(inputs, L.Dense(3)(L.Flatten()(x)))

    ks.config.set_fusion(False)
    ks.utils.set_random_seed(3)
    unfused, _ = _fit(build(), 2)
    ks.config.set_fusion(True)
    ks.utils.set_random_seed(3)
    fused, _ = _fit(build(), 2)
    assert len(fused_calls) == 2 * 2 * 2 * 2
    for a, b in zip(unfused.weights, fused.weights):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12, err_msg=a.name)
