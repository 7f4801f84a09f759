"""The layers keras-io code uses beyond the slides: Lambda, the merge layers and their functional
forms, Dot, Resizing, CenterCrop, LayerNormalization, PReLU, ELU, RandomBrightness.

Each gets the layer harness (output shape, parameter count, get_config round trip, save/load
round trip) and values from an independent source (torch, NumPy float64); the differentiable
ones a float64 central-difference gradient check.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import kernelscope as ks
from kernelscope.autograd import Tensor, gradcheck

L = ks.layers


def _rand(shape, seed=0, low=-1.0, high=1.0, dtype="float32"):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def _save_load(model, tmp_path, **kwargs):
    path = tmp_path / "m.keras"
    model.save(path)
    return ks.models.load_model(path, **kwargs)


# (id, factory, per-sample input shapes (a list: a merge layer), output shape, parameter count)
HARNESS = [
    ("subtract", lambda: L.Subtract(), [(4, 3), (4, 3)], (4, 3), 0),
    ("average", lambda: L.Average(), [(5,), (5,), (5,)], (5,), 0),
    ("maximum", lambda: L.Maximum(), [(2, 2, 3), (1, 1, 3)], (2, 2, 3), 0),
    ("minimum", lambda: L.Minimum(), [(6,), (6,)], (6,), 0),
    ("dot", lambda: L.Dot(axes=1), [(5,), (5,)], (1,), 0),
    ("dot_normalize", lambda: L.Dot(axes=(2, 2), normalize=True), [(3, 4), (2, 4)], (3, 2), 0),
    ("resizing", lambda: L.Resizing(3, 5), [(6, 4, 2)], (3, 5, 2), 0),
    ("resizing_crop", lambda: L.Resizing(4, 4, crop_to_aspect_ratio=True), [(6, 8, 1)], (4, 4, 1), 0),
    ("resizing_pad", lambda: L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5), [(2, 4, 1)], (4, 4, 1), 0),
    ("center_crop", lambda: L.CenterCrop(3, 2), [(5, 6, 2)], (3, 2, 2), 0),
    ("layer_norm", lambda: L.LayerNormalization(), [(4, 6)], (4, 6), 12),
    ("layer_norm_axes", lambda: L.LayerNormalization(axis=[1, 2, 3]), [(3, 3, 2)], (3, 3, 2), 36),
    ("layer_norm_rms", lambda: L.LayerNormalization(rms_scaling=True), [(5,)], (5,), 5),
    ("prelu", lambda: L.PReLU(alpha_initializer="ones"), [(3, 4)], (3, 4), 12),
    ("prelu_shared", lambda: L.PReLU(shared_axes=[1, 2]), [(4, 4, 3)], (4, 4, 3), 3),
    ("elu", lambda: L.ELU(alpha=0.5), [(7,)], (7,), 0),
    ("lambda", lambda: L.Lambda(lambda t: t * 2.0 - 1.0), [(3, 2)], (3, 2), 0),
]


def _harness_inputs(shapes, seed=0):
    return [_rand((2,) + s, seed + i) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("case", HARNESS, ids=[c[0] for c in HARNESS])
def test_harness_shape_params_config_and_save_load(case, tmp_path):
    _, factory, shapes, out_shape, params = case
    layer = factory()
    data = _harness_inputs(shapes)
    arg = data if len(shapes) > 1 else data[0]
    out = layer(arg)
    assert out.shape == (2,) + out_shape
    assert layer.count_params() == params
    symbolic = [ks.Input(s) for s in shapes]
    assert layer.compute_output_shape([(None,) + s for s in shapes] if len(shapes) > 1
                                      else (None,) + shapes[0]) == (None,) + out_shape
    config = layer.get_config()
    if isinstance(layer, L.Lambda):  # marshal of reloaded code may differ in bytes, not in what it does
        clone = L.Lambda.from_config(config, safe_mode=False)
        np.testing.assert_array_equal(clone(arg).numpy(), out.numpy())
        config.pop("function")
        assert {k: v for k, v in clone.get_config().items() if k != "function"} == config
    else:
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    model = ks.Model(symbolic, factory()(symbolic if len(shapes) > 1 else symbolic[0]))
    assert model.output_shape == (None,) + out_shape
    loaded = _save_load(model, tmp_path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6)


# ------------------------------------------------------------------ merging
def test_merge_layers_match_numpy_and_functional_forms_match_layers():
    a, b, c = (_rand((3, 4), s, dtype="float64") for s in (1, 2, 3))
    expected = {L.Subtract: a - b, L.Average: (a + b + c) / 3, L.Maximum: np.maximum(np.maximum(a, b), c),
                L.Minimum: np.minimum(np.minimum(a, b), c)}
    for cls, want in expected.items():
        args = [a, b] if cls is L.Subtract else [a, b, c]
        np.testing.assert_allclose(cls(dtype="float64")(args).numpy(), want, rtol=1e-12)
    x, y = ks.Input((4,)), ks.Input((4,))
    helpers = {L.add: L.Add, L.subtract: L.Subtract, L.multiply: L.Multiply, L.average: L.Average,
               L.maximum: L.Maximum, L.minimum: L.Minimum, L.concatenate: L.Concatenate, L.dot: L.Dot}
    for fn, cls in helpers.items():
        out = fn([x, y], **({"axes": 1} if fn is L.dot else {}))
        assert type(out._keras_history[0]) is cls
    assert L.concatenate([x, y], axis=1).shape == (None, 8)
    assert L.dot([x, y], axes=-1, normalize=True).shape == (None, 1)


def test_merge_gradients_central_differences():
    a, b = _rand((2, 3), 4, dtype="float64"), _rand((2, 3), 5, dtype="float64")
    for cls in (L.Subtract, L.Average, L.Maximum, L.Minimum):
        layer = cls(dtype="float64")
        gradcheck(lambda p, q: layer([p, q]), [a, b])


def test_dot_matches_torch_batched_products_and_cosine_similarity():
    p, q = _rand((2, 3, 5), 1, dtype="float64"), _rand((2, 4, 5), 2, dtype="float64")
    got = L.Dot(axes=2, dtype="float64")([p, q]).numpy()
    want = torch.bmm(torch.tensor(p), torch.tensor(q).transpose(1, 2)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    u, v = _rand((4, 6), 3, dtype="float64"), _rand((4, 6), 4, dtype="float64")
    cos = F.cosine_similarity(torch.tensor(u), torch.tensor(v), dim=1).numpy()[:, None]
    np.testing.assert_allclose(L.Dot(1, normalize=True, dtype="float64")([u, v]).numpy(), cos, rtol=1e-10)
    r, s = _rand((2, 5, 3), 5, dtype="float64"), _rand((2, 5, 4), 6, dtype="float64")  # axes (1, 1): (2, 3, 4)
    np.testing.assert_allclose(L.Dot((1, 1), dtype="float64")([r, s]).numpy(), np.einsum("bkn,bkm->bnm", r, s),
                               rtol=1e-12)
    layer = L.Dot(axes=2, normalize=True, dtype="float64")
    gradcheck(lambda x, y: layer([x, y]), [p, q])


def test_merge_errors():
    with pytest.raises(ValueError, match=r"A `Subtract` layer should be called on exactly 2 inputs. Received: "
                                         r"input_shape="):
        L.Subtract()([np.ones((1, 2))] * 3)
    with pytest.raises(TypeError, match=r"Invalid type for argument `axes`: it should be a list or an int. "
                                        r"Received: axes='1'"):
        L.Dot("1")
    with pytest.raises(ValueError, match=r"it should contain two elements. Received: axes=\[1, 2, 3\]"):
        L.Dot([1, 2, 3])
    with pytest.raises(ValueError, match=r"list elements should be integers. Received: axes=\[1, 1.5\]"):
        L.Dot([1, 1.5])
    with pytest.raises(ValueError, match=r"A `Dot` layer should be called on a list of 2 inputs"):
        L.Dot(1)([ks.Input((3,))] * 3)
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4"):
        L.Dot(1)([ks.Input((3,)), ks.Input((4,))])
    with pytest.raises(ValueError, match=r"`axes` of a `Dot` layer must name non-batch axes"):
        L.Dot(0)([ks.Input((3,)), ks.Input((3,))])


# ------------------------------------------------------------- activations
def test_elu_matches_torch_and_gradcheck():
    x = _rand((3, 5), 7, -3, 3, dtype="float64")
    layer = L.ELU(alpha=0.7, dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), F.elu(torch.tensor(x), alpha=0.7).numpy(), rtol=1e-12)
    gradcheck(layer, [x])
    assert L.ELU().get_config()["alpha"] == 1.0
    with pytest.raises(ValueError, match=r"`alpha` of an ELU layer must be a number. Received: alpha='1'"):
        L.ELU(alpha="1")


def test_prelu_matches_torch_with_channel_slopes_and_gradcheck():
    x = _rand((2, 3, 3, 4), 8, dtype="float64")
    layer = L.PReLU(shared_axes=[1, 2], dtype="float64")
    layer.build((None, 3, 3, 4))
    alpha = np.array([0.1, -0.5, 2.0, 0.25])
    layer.set_weights([alpha.reshape(1, 1, 4)])
    want = F.prelu(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(alpha)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-12)
    assert [w.name for w in layer.weights] == ["alpha"] and layer.alpha.shape == (1, 1, 4)
    assert L.PReLU()(np.ones((1, 2))).numpy().tolist() == [[1.0, 1.0]]  # Keras's "Zeros": a plain ReLU

    def prelu(inputs, slope):
        layer.alpha = slope
        return layer.call(inputs)

    gradcheck(prelu, [x, alpha.reshape(1, 1, 4)])


def test_prelu_errors():
    with pytest.raises(ValueError, match=r"`shared_axes` must be axes of the input after the batch axis"):
        L.PReLU(shared_axes=[0])
    with pytest.raises(ValueError, match=r"`shared_axes` \[3\] of layer '.*' is out of range"):
        L.PReLU(shared_axes=3)(np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match=r"needs known sizes on the axes that get their own slope"):
        L.PReLU()(ks.Input((None, 3)))
    with pytest.raises(NotImplementedError, match=r"`alpha_constraint` is not supported"):
        L.PReLU(alpha_constraint="non_neg")


# ------------------------------------------------------ LayerNormalization
@pytest.mark.parametrize("axis, shape", [(-1, (3, 6)), ([1, 2, 3], (2, 3, 4, 5)), ([-2, -1], (2, 3, 4, 5))])
def test_layer_normalization_matches_torch(axis, shape):
    x = _rand(shape, 9, -2, 3, dtype="float64")
    layer = L.LayerNormalization(axis=axis, epsilon=1e-5, dtype="float64")
    layer.build(x.shape)
    gamma = _rand(layer.gamma.shape, 10, dtype="float64")
    beta = _rand(layer.beta.shape, 11, dtype="float64")
    layer.set_weights([gamma, beta])
    n = len(layer.gamma.shape)  # torch normalizes the trailing dimensions
    want = F.layer_norm(torch.tensor(x), x.shape[-n:], torch.tensor(gamma), torch.tensor(beta), eps=1e-5).numpy()
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-10, atol=1e-12)


def test_layer_normalization_rms_scaling_as_keras_and_gradcheck():
    x = _rand((3, 5), 12, 0, 2, dtype="float64")
    layer = L.LayerNormalization(rms_scaling=True, epsilon=1e-3, dtype="float64")
    out = layer(x).numpy()
    np.testing.assert_allclose(out, x / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-3), rtol=1e-12)
    assert [w.name for w in layer.weights] == ["gamma"]
    normal = L.LayerNormalization(axis=[1, 2], dtype="float64")
    y = _rand((2, 3, 4), 13, dtype="float64")
    normal.build(y.shape)
    g, b = _rand((3, 4), 14, dtype="float64"), _rand((3, 4), 15, dtype="float64")

    def norm(inputs, gamma, beta):
        normal.gamma, normal.beta = gamma, beta
        return normal.call(inputs)

    gradcheck(norm, [y, g, b])


def test_layer_normalization_errors():
    with pytest.raises(TypeError, match=r"Expected an int or a list/tuple of ints for the argument 'axis'. "
                                        r"Received: axis='x'"):
        L.LayerNormalization(axis="x")
    with pytest.raises(ValueError, match=r"`epsilon` must be a positive float. Received: epsilon=0"):
        L.LayerNormalization(epsilon=0)
    with pytest.raises(ValueError, match=r"Duplicate axes are not allowed. Received: axis=\[1, -1\]"):
        L.LayerNormalization(axis=[1, -1])(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"`axis`=3 is out of range for inputs of rank 2"):
        L.LayerNormalization(axis=3)(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"the normalized axes \[1\] of the input must be known"):
        L.LayerNormalization()(ks.Input((None,)))


# ------------------------------------------------------- Resizing, CenterCrop
@pytest.mark.parametrize("size", [(3, 5), (9, 2), (6, 4)])
@pytest.mark.parametrize("interpolation, mode", [("bilinear", "bilinear"), ("nearest", "nearest-exact")])
def test_resizing_matches_torch_interpolate(size, interpolation, mode):
    x = _rand((2, 6, 4, 3), 16, 0, 255)
    got = L.Resizing(*size, interpolation=interpolation)(x).numpy()
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    want = F.interpolate(torch.tensor(x).permute(0, 3, 1, 2), size=size, mode=mode, **kwargs).permute(0, 2, 3, 1)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-3)


def test_resizing_crop_and_pad_to_aspect_ratio_as_keras():
    x = _rand((1, 4, 8, 1), 17)
    cropped = L.Resizing(4, 4, crop_to_aspect_ratio=True, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(cropped, x[:, :, 2:6])  # centred 4x4 window, nothing to resize
    padded = L.Resizing(8, 8, pad_to_aspect_ratio=True, fill_value=-3.0, interpolation="nearest")(x).numpy()
    np.testing.assert_array_equal(padded[:, 2:6], x)
    assert (padded[:, :2] == -3.0).all() and (padded[:, 6:] == -3.0).all()
    assert L.Resizing(5, 5)(_rand((6, 7, 3), 1)).shape == (5, 5, 3)  # a single image


def test_center_crop_crops_or_resizes_as_keras():
    x = _rand((2, 7, 6, 3), 18)
    np.testing.assert_array_equal(L.CenterCrop(3, 4)(x).numpy(), x[:, 2:5, 1:5])
    small = _rand((1, 4, 4, 1), 19)
    # smaller than the target: the aspect-ratio window (all 4x4) resized to 8x8, as Keras
    want = F.interpolate(torch.tensor(small).permute(0, 3, 1, 2), size=(8, 8), mode="bilinear",
                         align_corners=False).permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(L.CenterCrop(8, 8)(small).numpy(), want, rtol=1e-5, atol=1e-6)


def test_resizing_errors():
    with pytest.raises(ValueError, match=r"`interpolation` must be one of \('bilinear', 'nearest'\) \(a Keras mode "
                                         r"kernelscope does not implement\). Received: interpolation='bicubic'"):
        L.Resizing(2, 2, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be"):
        L.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"`fill_mode` must be 'constant'"):
        L.Resizing(2, 2, fill_mode="reflect")
    with pytest.raises(ValueError, match=r"`fill_value` must be a number. Received: fill_value='0'"):
        L.Resizing(2, 2, fill_value="0")
    with pytest.raises(ValueError, match=r"`antialias=True` is not implemented by kernelscope"):
        L.Resizing(2, 2, antialias=True)
    with pytest.raises(ValueError, match=r"Expected a strictly positive integer. Received: height=0"):
        L.CenterCrop(0, 2)
    with pytest.raises(ValueError, match=r"Expected image tensor to have rank 3 \(single image\) or 4"):
        L.CenterCrop(1, 1)(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Expected image tensor to have rank 3 .* Received: input_shape"):
        L.Resizing(1, 1)(ks.Input((3,)))


# --------------------------------------------------------- RandomBrightness
def test_random_brightness_shifts_each_image_and_clips():
    x = _rand((4, 3, 3, 2), 20, 0, 255)
    layer = L.RandomBrightness((0.1, 0.1), seed=1)  # a fixed shift of 0.1 * 255
    np.testing.assert_allclose(layer(x).numpy(), np.clip(x + 25.5, 0, 255), rtol=1e-6)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    shifts = L.RandomBrightness(0.5, value_range=(0, 1), seed=2)(np.full((8, 2, 2, 1), 0.5, "float32")).numpy()
    assert np.ptp(shifts.reshape(8, -1), axis=1).max() == 0  # one shift per image
    assert len(np.unique(shifts[:, 0, 0, 0])) == 8 and shifts.min() >= 0 and shifts.max() <= 1
    with pytest.raises(ValueError, match=r"The `factor` argument should be a number \(or a list of two numbers\) "
                                         r"in the range \[-1.0, 1.0\]. Received: factor=2"):
        L.RandomBrightness(2)
    with pytest.raises(ValueError, match=r"`value_range` must be a pair of numbers \(low, high\) with low < high"):
        L.RandomBrightness(0.1, value_range=(1, 0))


# ------------------------------------------------------------------ Lambda
def test_lambda_arguments_output_shape_and_training():
    x = _rand((2, 3), 21)
    scale = L.Lambda(lambda t, factor: t * factor, arguments={"factor": 3.0})
    np.testing.assert_allclose(scale(x).numpy(), x * 3.0, rtol=1e-6)
    first_two = L.Lambda(lambda t: t[:, :2], output_shape=(2,))
    assert first_two(ks.Input((3,))).shape == (None, 2)
    whole = L.Lambda(lambda t: t[:, :1], output_shape=lambda s: (s[0], 1))
    assert whole(ks.Input((3,))).shape == (None, 1)
    seen = []
    spy = L.Lambda(lambda t, training=None: seen.append(training) or t)
    spy(x)
    spy(x, training=True)
    assert seen == [None, True]
    argmax = L.Lambda(lambda t: ks.ops.argmax(t, axis=-1) if hasattr(ks.ops, "argmax") else t.data.argmax(-1))
    assert argmax(ks.Input((4,))).dtype.kind == "i"  # inferred from the function, not the layer dtype


def test_lambda_bytecode_refused_on_load_unless_safe_mode_false(tmp_path):
    def make(factor):  # the closure value is saved with the bytecode
        return L.Lambda(lambda t: t * factor + 1.0)

    inp = ks.Input((3,))
    model = ks.Model(inp, L.Dense(2)(make(4.0)(inp)))
    path = tmp_path / "lambda.keras"
    model.save(path)
    config = model.get_config()["layers"][1]["config"]["function"]
    assert config["class_name"] == "__lambda__" and config["config"]["closure"] == [4.0]
    with pytest.raises(ValueError, match=r"Requested the deserialization of a `Lambda` layer whose `function` is a "
                                         r"Python lambda.*`safe_mode=False`"):
        ks.models.load_model(path)
    loaded = ks.models.load_model(path, safe_mode=False)
    x = _rand((5, 3), 22)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Requested the deserialization of a `Lambda` layer"):
        L.Lambda.from_config(model.layers[1].get_config())  # outside load_model: safe too


def _double(t):
    return t * 2.0


def test_lambda_named_function_found_only_in_custom_objects(tmp_path):
    inp = ks.Input((3,))
    model = ks.Model(inp, L.Lambda(_double)(inp))
    path = tmp_path / "named.keras"
    model.save(path)
    with pytest.raises(ValueError, match=r"named functions are looked up, never imported; pass "
                                         r"custom_objects=\{'_double': _double\}"):
        ks.models.load_model(path)
    loaded = ks.models.load_model(path, custom_objects={"_double": _double})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3)), verbose=0), [[2.0, 2.0, 2.0]])


def test_lambda_errors():
    with pytest.raises(TypeError, match=r"`function` must be callable. Received: function=3"):
        L.Lambda(3)
    with pytest.raises(ValueError, match=r"kernelscope has no masking: `mask` must be None"):
        L.Lambda(abs, mask=lambda x, m: m)
    with pytest.raises(TypeError, match=r"`arguments` must be a dict of keyword arguments"):
        L.Lambda(abs, arguments=[1])
    with pytest.raises(TypeError, match=r"`output_shape` must be a tuple \(without the batch axis\)"):
        L.Lambda(abs, output_shape="3")
    with pytest.raises(ValueError, match=r"Invalid input type for serialization"):
        from kernelscope.layers.lambda_layer import _dump_function
        _dump_function(3)
