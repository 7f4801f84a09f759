"""ks.GradientTape and autograd.grad: input gradients against central differences, TF's rules."""

import numpy as np
import pytest
import torch

import kernelscope as ks
from kernelscope.autograd import Tensor, grad, numerical_grad

L = ks.layers


def small_cnn():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((6, 6, 2)), L.Conv2D(3, 3, activation="tanh"), L.Flatten(), L.Dense(2)],
                          dtype="float64")
    return model


def test_input_gradient_of_a_cnn_matches_central_differences():
    model = small_cnn()
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 2))
    image = Tensor(x.copy())
    with ks.GradientTape() as tape:
        tape.watch(image)
        score = model(image)[:, 1].sum()
    g = tape.gradient(score, image)
    expected = numerical_grad(lambda t: model(t)[:, 1].sum(), [x.copy()], 0)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-6, atol=1e-6)
    assert image.grad is None and all(w.grad is None for w in model.weights)  # nothing written to .grad


def test_variable_gradients_match_torch_and_keep_the_structure():
    layer = L.Dense(3, dtype="float64")
    x = np.random.default_rng(2).standard_normal((4, 5))
    with ks.GradientTape() as tape:
        loss = (layer(x) ** 2).mean()
    grads = tape.gradient(loss, {"k": layer.kernel, "pair": [layer.bias]})
    assert set(grads) == {"k", "pair"} and isinstance(grads["pair"], list)
    kernel = torch.tensor(layer.kernel.numpy(), requires_grad=True)
    bias = torch.tensor(layer.bias.numpy(), requires_grad=True)
    ((torch.tensor(x) @ kernel + bias) ** 2).mean().backward()
    np.testing.assert_allclose(grads["k"].numpy(), kernel.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(grads["pair"][0].numpy(), bias.grad.numpy(), rtol=1e-10)


def test_unconnected_source_is_none_or_zero_and_non_persistent_tape_raises():
    a, b = L.Dense(2), L.Dense(2)
    x = np.ones((1, 3), "float32")
    a(x), b(x)
    with ks.GradientTape() as tape:
        y = a(x).sum()
    assert tape.gradient(y, b.kernel) is None
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        tape.gradient(y, a.kernel)
    with ks.GradientTape(persistent=True) as tape:
        y = a(x).sum()
    assert np.all(tape.gradient(y, b.kernel, unconnected_gradients="zero").numpy() == 0)
    assert tape.gradient(y, a.kernel).shape == (3, 2)  # a persistent tape answers again


def test_nested_tapes_and_watch_rules():
    x = Tensor(np.array([1.0, 2.0]))
    with ks.GradientTape() as outer:
        outer.watch(x)
        with ks.GradientTape() as inner:
            inner.watch(x)
            y = (x * x * x).sum()
        dy = inner.gradient(y, x)
        z = (x * 2.0).sum() + y
    np.testing.assert_allclose(dy.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(outer.gradient(z, x).numpy(), 2 + 3 * x.numpy() ** 2)
    assert not x.requires_grad  # watching was undone once both tapes gave their gradients


def test_watch_accessed_variables_false_only_watched_sources():
    layer = L.Dense(1)
    x = np.ones((2, 3), "float32")
    layer(x)
    with ks.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(layer.bias)
        y = layer(x).sum()
    kernel_grad, bias_grad = tape.gradient(y, [layer.kernel, layer.bias])
    assert kernel_grad is None and bias_grad.numpy().tolist() == [2.0]


def test_tape_records_inside_no_grad_and_refuses_numpy():
    x = Tensor(np.array([3.0]))
    with ks.no_grad():
        with ks.GradientTape() as tape:
            tape.watch(x)
            y = x * x
    assert tape.gradient(y, x).numpy().tolist() == [6.0]
    with ks.GradientTape() as tape:
        with pytest.raises(ValueError, match="convert the data first with ks.ops.convert_to_tensor"):
            tape.watch(np.ones(3))
    with pytest.raises(TypeError, match="`sources` must be ks.Variable or watched ks.Tensor"):
        tape.gradient(y, np.ones(3))
    with pytest.raises(ValueError, match="`unconnected_gradients` must be one of"):
        ks.GradientTape().gradient(y, x, unconnected_gradients="ones")


def test_grad_function_seeds_sums_and_frees():
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    y = x * x
    (g,) = grad(y, [x], grad_outputs=np.array([1.0, 10.0]))
    np.testing.assert_allclose(g, [2.0, -40.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="already freed"):
        grad(y, [x])
    with pytest.raises(ValueError, match="`grad_outputs` must have the output's shape"):
        grad(x * 2.0, [x], grad_outputs=np.ones(3))
