"""Views into models (feature maps, kernels, saliency, Grad-CAM, occlusion, overlay) and model arithmetic.

References: Keras's parameter formulas and the receptive-field recurrence by hand,
ks.ops / sub-models for activations, central finite differences for gradients,
the CAM identity for global-average-pooling heads (Selvaraju et al. 2017, sec. 3.1),
and a trained CNN on a synthetic task where the evidence's location is known.
"""

import numpy as np
import pytest

import kernelscope as ks

L = ks.layers


# --------------------------------------------------------------- parameters


def test_parameters_formulas_and_totals():
    model = ks.Sequential([ks.Input((9, 9, 32)), L.Conv2D(64, 3, name="conv"), L.BatchNormalization(name="bn"),
                           L.DepthwiseConv2D(3, name="dw"), L.Flatten(name="flat"), L.Dense(128, name="fc")])
    table = ks.explain.parameters(model)
    rows = {row.name: row for row in table.rows}
    assert str(rows["conv"]) == "Conv2D: (3x3x32 + 1) x 64 = 18,496"
    assert str(rows["bn"]) == "BatchNormalization: 4 x 64 = 256 (128 trainable)"
    assert str(rows["dw"]) == "DepthwiseConv2D: (3x3 + 1) x 64 = 640"
    assert str(rows["fc"]) == "Dense: (1600 + 1) x 128 = 204,928"  # 5x5x64 = 1600 inputs
    assert rows["flat"].count == 0 and rows["flat"].formula == "0"
    assert table.total == 18_496 + 256 + 640 + 204_928 == model.count_params()
    assert table.trainable == table.total - 128 and table.non_trainable == 128
    assert "Total: 224,320 parameters (224,192 trainable, 128 non-trainable)" in str(table)
    assert "| fc | Dense | `(1600 + 1) x 128 = 204,928` | 204,928 |" in table.to_markdown()


def test_parameters_other_layers():
    inputs = ks.Input((8, 8, 3))
    x = L.SeparableConv2D(16, 3, depth_multiplier=2, name="sep")(inputs)
    x = L.Conv2DTranspose(4, 3, name="up")(x)
    x = L.Conv2D(2, 1, use_bias=False, name="pw")(x)
    outputs = L.Normalization(name="norm")(x)
    model = ks.Model(inputs, outputs)
    rows = {row.name: row for row in ks.explain.parameters(model).rows}
    # Depthwise 3*3*3*2 = 54, pointwise (6 + 1) * 16 = 112: 166 as Keras counts.
    assert rows["sep"].formula == "3x3x3x2 + (6 + 1) x 16 = 166"
    assert rows["up"].formula == "(3x3x16 + 1) x 4 = 580"
    assert rows["pw"].formula == "(1x1x4) x 2 = 8"
    assert rows["norm"].formula == "mean 2 + variance 2 + count 1 = 5 (0 trainable)"
    assert ks.explain.parameters(model).total == model.count_params() == 166 + 580 + 8 + 5


def test_parameters_unbuilt_model():
    with pytest.raises(ValueError, match="is not built, so its weights do not exist yet"):
        ks.explain.parameters(ks.Sequential([L.Dense(3)]))


# ---------------------------------------------------------- receptive field


def test_receptive_field_by_hand():
    model = ks.Sequential([ks.Input((32, 32, 1)), L.Conv2D(4, 3, name="c1"), L.MaxPooling2D(2, name="p1"),
                           L.Conv2D(4, 3, name="c2"), L.Conv2D(4, 3, padding="same", dilation_rate=2, name="c3")])
    # size 1 -> 3 (c1) -> 3 + 1*1 = 4 (p1, jump 2) -> 4 + 2*2 = 8 (c2) -> 8 + 4*2 = 16 (c3: dilated 5-tap)
    # start 0 -> 1 -> 1 + 0.5 = 1.5 -> 1.5 + 1*2 = 3.5 -> 3.5 + (2 - 2)*2 = 3.5 ("same" pads 2 before)
    field = ks.explain.receptive_field(model, "c3")
    assert field.size == (16, 16) and field.jump == (2, 2) and field.start == (3.5, 3.5)
    assert ks.explain.receptive_field(model, "c2").size == (8, 8)
    assert ks.explain.receptive_field(model, "p1").start == (1.5, 1.5)
    assert [s[0] for s in field.steps] == ["c1", "p1", "c2", "c3"]
    assert "c3" in str(field) and "16x16" in str(field)


def test_receptive_field_functional_branches():
    inputs = ks.Input((16, 16, 1))
    a = L.Conv2D(2, 3, padding="same", name="a")(inputs)
    b = L.Conv2D(2, 5, padding="same", name="b")(inputs)
    added = L.Add(name="add")([a, b])
    out = L.Conv2D(2, 3, strides=2, padding="same", name="out")(L.ReLU(name="relu")(added))
    model = ks.Model(inputs, L.Flatten(name="flat")(out))
    assert ks.explain.receptive_field(model, "add").size == (5, 5)  # the wider branch
    field = ks.explain.receptive_field(model, "out")
    assert field.size == (7, 7) and field.jump == (2, 2)
    with pytest.raises(ValueError, match=r"Layer 'flat' \(Flatten\) has no receptive-field rule"):
        ks.explain.receptive_field(model, "flat")
    with pytest.raises(ValueError, match=r"Layer 'nope' not found in model '.*'. Its layers are: "):
        ks.explain.receptive_field(model, "nope")


# ------------------------------------------------------------ feature maps


def small_cnn(seed=0, channels=1, activation="relu"):
    ks.utils.set_random_seed(seed)
    return ks.Sequential([ks.Input((8, 8, channels)), L.Conv2D(4, 3, padding="same", activation=activation, name="c1"),
                          L.MaxPooling2D(2, name="p1"), L.Conv2D(6, 3, activation=activation, name="c2"),
                          L.Flatten(name="flat"), L.Dense(3, activation="softmax", name="out")])


def test_feature_maps_sequential():
    model = small_cnn()
    image = np.random.default_rng(1).uniform(size=(8, 8, 1)).astype(np.float32)
    maps = ks.explain.feature_maps(model, image)
    assert list(maps) == ["c1", "p1", "c2"]  # the layers with (h, w, channels) outputs
    conv = model.get_layer("c1")
    expected = np.maximum(ks.ops.conv2d(image[None], conv.kernel.numpy(), conv.bias.numpy(), padding="same").numpy(), 0)
    np.testing.assert_allclose(maps["c1"], expected[0], rtol=1e-6, atol=1e-7)
    assert maps["c2"].shape == (2, 2, 6)
    batch = ks.explain.feature_maps(model, np.stack([image, image]), layers=["flat", "out"])
    assert batch["flat"].shape == (2, 24)
    np.testing.assert_allclose(batch["out"][0], model.predict(image[None], verbose=0)[0], rtol=1e-6)
    assert ks.explain.feature_maps(model, image[:, :, 0], layers="c2")["c2"].shape == (2, 2, 6)


def test_feature_maps_functional_equal_sub_models():
    ks.utils.set_random_seed(3)
    inputs = ks.Input((6, 6, 2))
    a = L.Conv2D(3, 3, padding="same", activation="relu", name="a")(inputs)
    b = L.Conv2D(3, 1, name="b")(inputs)
    merged = L.Add(name="add")([a, b])
    outputs = L.Dense(2, name="head")(L.GlobalAveragePooling2D(name="gap")(merged))
    model = ks.Model(inputs, outputs)
    image = np.random.default_rng(0).normal(size=(6, 6, 2)).astype(np.float32)
    maps = ks.explain.feature_maps(model, image, layers=["a", "add", "gap"])
    for name in ("a", "add", "gap"):
        sub = ks.Model(inputs, model.get_layer(name).output)
        np.testing.assert_allclose(maps[name], sub.predict(image[None], verbose=0)[0], rtol=1e-6, atol=1e-6)


def test_feature_map_grid_and_kernels():
    grid = ks.explain.feature_map_grid(np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5))
    assert grid.shape == (2 * 3 - 1, 3 * 4 - 1)  # 2x3 maps, ceil(sqrt(5)) = 3 columns, 2 rows, 1-pixel gaps
    np.testing.assert_allclose(grid[:2, :3], [[0, 0.2, 0.4], [0.6, 0.8, 1.0]])  # channel 0 min..max
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((8, 8, 3)), L.Conv2D(8, 3, name="rgb"), L.Conv2D(5, 2, name="grey")])
    tiles = ks.explain.kernels(model)  # first conv layer, 3 input channels: RGB tiles
    assert tiles.shape == (3 * 4 - 1, 3 * 4 - 1, 3) and tiles.min() >= 0 and tiles.max() <= 1
    w = model.get_layer("rgb").kernel.numpy()[:, :, :, 0]
    np.testing.assert_allclose(tiles[:3, :3], (w - w.min()) / (w.max() - w.min()), rtol=1e-5, atol=1e-6)
    assert ks.explain.kernels(model, "grey").shape == (8 * 3 - 1, 5 * 3 - 1)  # rows: channels, columns: filters
    assert ks.explain.kernels(model, "grey", channel=2).shape == (2 * 3 - 1, 3 * 3 - 1)


# ---------------------------------------------------------------- saliency


def central_differences(fn, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (fn(up) - fn(down)) / (2 * eps)
    return grad


def test_saliency_matches_finite_differences():
    model = small_cnn(seed=5, channels=2, activation="tanh")
    image = np.random.default_rng(2).normal(size=(8, 8, 2))  # float64 runs the model in float64

    def prob(x, k=1):  # a Tensor input keeps float64 (arrays are cast to the layer dtype, float32)
        return float(model(ks.Tensor(x[None])).numpy()[0, k])

    raw = ks.explain.saliency(model, image, class_index=1, reduce=None, logits=False)
    assert raw.dtype == np.float64 and raw.shape == (8, 8, 2)
    np.testing.assert_allclose(raw, central_differences(prob, image), rtol=1e-6, atol=1e-9)

    head = model.get_layer("out")
    features = ks.Model(model.inputs, model.get_layer("flat").output)

    def logit(x):  # the pre-softmax score by hand: flattened features @ W + b
        return float((features(ks.Tensor(x[None])).numpy() @ head.kernel.numpy() + head.bias.numpy())[0, 1])

    np.testing.assert_allclose(ks.explain.saliency(model, image, class_index=1, reduce=None),
                               central_differences(logit, image), rtol=1e-6, atol=1e-9)
    assert head.activation is not None  # switched back on
    times = ks.explain.saliency(model, image, 1, method="gradient_x_input", reduce=None, logits=False)
    np.testing.assert_allclose(times, raw * image, rtol=1e-12)
    np.testing.assert_allclose(ks.explain.saliency(model, image, 1, logits=False), np.abs(raw).max(axis=-1))
    assert all(w.grad is None and w.requires_grad for w in model.trainable_weights)


def test_smoothgrad():
    model = small_cnn(seed=6, channels=1, activation="tanh")
    image = np.random.default_rng(3).normal(size=(8, 8, 1))
    vanilla = ks.explain.saliency(model, image, 0)
    np.testing.assert_allclose(ks.explain.saliency(model, image, 0, method="smoothgrad", samples=3, noise=0.0),
                               vanilla, rtol=1e-12)
    one = ks.explain.saliency(model, image, method="smoothgrad", samples=8, seed=4)
    np.testing.assert_array_equal(one, ks.explain.saliency(model, image, method="smoothgrad", samples=8, seed=4))
    assert one.shape == (8, 8) and not np.allclose(one, vanilla)


# ------------------------------------------------------------------ Grad-CAM


def quadrant_images(n, rng, size=16, square=4):
    """A bright square in one of four quadrants (the class), on a dim noisy background.

    Channels: brightness, brightness x row and brightness x column (coordinates in -1..1).
    The gated coordinates let a network ending in global average pooling tell the
    quadrants apart; with a Flatten + Dense head Grad-CAM's channel weights (spatial
    means of the gradient) average the four quadrants' opposite weights away.
    """
    x = rng.uniform(0, 0.2, size=(n, size, size, 3)).astype(np.float32)
    labels = rng.integers(0, 4, size=n)
    corners = []
    half = size // 2
    for k, label in enumerate(labels):
        r = (label // 2) * half + rng.integers(0, half - square + 1)
        c = (label % 2) * half + rng.integers(0, half - square + 1)
        x[k, r:r + square, c:c + square, 0] = 1.0
        corners.append((r, c))
    rows, cols = np.mgrid[0:size, 0:size] / (size - 1) * 2 - 1
    x[..., 1], x[..., 2] = x[..., 0] * rows, x[..., 0] * cols
    return x, labels, np.array(corners)


@pytest.fixture(scope="module")
def quadrant_model():
    rng = np.random.default_rng(0)
    ks.utils.set_random_seed(0)
    x, y, _ = quadrant_images(400, rng)
    model = ks.Sequential([ks.Input((16, 16, 3)), L.Conv2D(8, 3, padding="same", activation="relu", name="c1"),
                           L.Conv2D(8, 3, padding="same", activation="relu", name="c2"),
                           L.GlobalAveragePooling2D(name="gap"), L.Dense(4, activation="softmax", name="out")])
    model.compile(optimizer=ks.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    return model


def test_grad_cam_peaks_inside_the_square(quadrant_model):
    x, y, corners = quadrant_images(100, np.random.default_rng(1))
    assert np.mean(quadrant_model.predict(x, verbose=0).argmax(axis=1) == y) >= 0.9
    cams = ks.explain.grad_cam(quadrant_model, x)  # last conv layer found automatically: c2
    assert cams.shape == (100, 16, 16) and cams.dtype == np.float32 and cams.max() == 1.0
    peaks = [np.unravel_index(np.argmax(cam), cam.shape) for cam in cams]
    inside = [r <= i < r + 4 and c <= j < c + 4 for (i, j), (r, c) in zip(peaks, corners)]
    assert np.mean(inside) >= 0.9
    np.testing.assert_allclose(ks.explain.grad_cam(quadrant_model, x[0], layer="c2"), cams[0], rtol=1e-5, atol=1e-6)
    drops = ks.explain.occlusion(quadrant_model, x[0], patch=4, stride=2)
    r, c = corners[0]
    assert drops[r:r + 4, c:c + 4].mean() > drops.mean()


def test_grad_cam_equals_cam_for_global_average_pooling_heads(quadrant_model):
    # For conv -> global average pooling -> linear scores, d(score_c)/dA_k = w_kc / (h*w) everywhere,
    # so Grad-CAM is ReLU(sum_k w_kc A_k) / (h*w): the class activation map, here at full resolution.
    image = quadrant_images(1, np.random.default_rng(5))[0][0].astype(np.float64)  # float64 all the way
    maps = ks.explain.feature_maps(quadrant_model, image, layers=["c2"])["c2"]
    w = quadrant_model.get_layer("out").kernel.numpy()
    for c in range(4):
        cam = np.maximum(maps @ w[:, c], 0)
        expected = cam / cam.max() if cam.max() > 0 else cam
        np.testing.assert_allclose(ks.explain.grad_cam(quadrant_model, image, class_index=c), expected,
                                   rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- occlusion


def test_occlusion_of_a_linear_model_by_hand():
    ks.utils.set_random_seed(2)
    model = ks.Sequential([ks.Input((4, 4, 1)), L.Flatten(), L.Dense(2, name="linear")])
    image = np.random.default_rng(0).normal(size=(4, 4, 1)).astype(np.float32)
    w = model.get_layer("linear").kernel.numpy()[:, 1].reshape(4, 4)
    # Hiding pixel p (fill 0) lowers the score w.x by w_p x_p.
    drops = ks.explain.occlusion(model, image, class_index=1, patch=1, stride=1, fill=0.0)
    np.testing.assert_allclose(drops, w * image[:, :, 0], rtol=1e-5, atol=1e-6)
    blocks = ks.explain.occlusion(model, image, class_index=1, patch=2, stride=2, fill=0.0)
    contribution = w * image[:, :, 0]
    np.testing.assert_allclose(blocks[0, 0], contribution[:2, :2].sum(), rtol=1e-5)
    np.testing.assert_allclose(blocks[3, 3], contribution[2:, 2:].sum(), rtol=1e-5)


# ------------------------------------------------------------------- overlay


def test_overlay():
    image = np.full((4, 6), 100, dtype=np.uint8)
    heat = np.linspace(0, 1, 24).reshape(4, 6)
    assert ks.explain.overlay(image, heat, alpha=0.0).tolist() == np.full((4, 6, 3), 100).tolist()
    colours = ks.explain.overlay(image, heat, alpha=1.0)
    assert colours.dtype == np.uint8 and colours.shape == (4, 6, 3)
    # Jet by hand: r, g, b = clip(1.5 - |4t - 3|), clip(1.5 - |4t - 2|), clip(1.5 - |4t - 1|).
    assert colours[0, 0].tolist() == [0, 0, 128] and colours[-1, -1].tolist() == [128, 0, 0]
    half = ks.explain.overlay(np.zeros((2, 2, 3)), np.array([[0.0, 0.5], [0.5, 1.0]]), alpha=1.0)
    assert half[0, 1].tolist() == [128, 255, 128]
    small = ks.explain.overlay(np.ones((8, 8, 1)), np.eye(2), alpha=0.5)  # floats in 0..1, heat map resized
    # Corner: heat 1 -> jet (0.5, 0, 0); image 1.0 -> 255: 0.5*255 + 0.5*127.5 = 191.25, 0.5*255 = 127.5.
    assert small.shape == (8, 8, 3) and small[0, 0].tolist() == [191, 128, 128]


# -------------------------------------------------------------------- errors


def test_view_errors(quadrant_model):
    image = np.zeros((16, 16, 3), np.float32)
    with pytest.raises(ValueError, match=r"Layer 'missing' not found in model"):
        ks.explain.feature_maps(quadrant_model, image, layers=["missing"])
    with pytest.raises(ValueError, match=r"`image` must have the model's input shape \(16, 16, 3\)"):
        ks.explain.feature_maps(quadrant_model, np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match=r"Grad-CAM needs a layer whose output is a feature map .* 'gap'"):
        ks.explain.grad_cam(quadrant_model, image, layer="gap")
    with pytest.raises(ValueError, match=r"Layer 'gap' \(GlobalAveragePooling2D\) has no convolution kernel"):
        ks.explain.kernels(quadrant_model, "gap")
    with pytest.raises(ValueError, match="`method` must be one of vanilla, gradient_x_input, smoothgrad"):
        ks.explain.saliency(quadrant_model, image, method="integrated")
    with pytest.raises(ValueError, match='`reduce` must be "max_abs", "sum", "abs_sum" or None'):
        ks.explain.saliency(quadrant_model, image, reduce="mean")
    with pytest.raises(ValueError, match=r"`class_index` must be an integer in \[0, 4\)"):
        ks.explain.saliency(quadrant_model, image, class_index=7)
    with pytest.raises(ValueError, match=r"`patch` must be a positive integer <= 16"):
        ks.explain.occlusion(quadrant_model, image, patch=20)
    with pytest.raises(ValueError, match=r"`alpha` must be in \[0, 1\]"):
        ks.explain.overlay(image, np.zeros((2, 2)), alpha=2)
    with pytest.raises(ValueError, match=r"`heatmap` must be 2-D"):
        ks.explain.overlay(image, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match='`normalize` must be "channel", "global" or None'):
        ks.explain.feature_map_grid(np.zeros((2, 2, 2)), normalize="max")
    with pytest.raises(ValueError, match=r"`channel` must be an input channel index in \[0, 3\)"):
        ks.explain.kernels(quadrant_model, "c1", channel=3)
    dense = ks.Sequential([ks.Input((4,)), L.Dense(2)])
    with pytest.raises(ValueError, match="has no convolution layer"):
        ks.explain.grad_cam(dense, np.zeros(4))


def test_more_view_errors(monkeypatch, quadrant_model):
    import sys

    image = np.zeros((16, 16, 3), np.float32)
    unbuilt = ks.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="has no known input yet: build it first"):
        ks.explain.feature_maps(unbuilt, np.zeros(3))
    a, b = ks.Input((4,)), ks.Input((4,))
    two = ks.Model([a, b], L.Add()([a, b]))
    with pytest.raises(ValueError, match="The views take models with one image input. Model '.*' has 2 inputs"):
        ks.explain.feature_maps(two, np.zeros(4))
    with pytest.raises(ValueError, match=r"Layer 'stranger' is not a layer of model"):
        ks.explain.feature_maps(quadrant_model, image, layers=[L.Dense(2, name="stranger")])
    with pytest.raises(ValueError, match=r"`layer` index 9 is out of range for model '.*' with 4 layers"):
        ks.explain.feature_maps(quadrant_model, image, layers=[9])
    with pytest.raises(TypeError, match="`image` must hold numbers"):
        ks.explain.saliency(quadrant_model, np.full((16, 16, 3), "a"))
    with pytest.raises(ValueError, match=r"`activation` must be one feature map \(height, width, channels\)"):
        ks.explain.feature_map_grid(np.zeros((1, 2, 2, 2)))
    with pytest.raises(ValueError, match='`normalize` must be "filter" or "global"'):
        ks.explain.kernels(quadrant_model, normalize="channel")
    with pytest.raises(ValueError, match="has no convolution layer to show kernels of"):
        ks.explain.kernels(ks.Sequential([ks.Input((4,)), L.Dense(2)]))
    with pytest.raises(ValueError, match="Unknown colormap 'rainbowish'"):
        ks.explain.overlay(image, np.zeros((2, 2)), colormap="rainbowish")
    with pytest.raises(ValueError, match=r"`image` must be \(H, W\), \(H, W, 1\) or \(H, W, 3\)"):
        ks.explain.overlay(np.zeros((4, 4, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="`samples` must be a positive integer. Received: samples=0"):
        ks.explain.saliency(quadrant_model, image, method="smoothgrad", samples=0)
    with pytest.raises(ValueError, match="`stride` must be a positive integer. Received: stride=0"):
        ks.explain.occlusion(quadrant_model, image, stride=0)
    with pytest.raises(ValueError, match=r"`class_index` must be an integer in \[0, 4\). Received: class_index=4"):
        ks.explain.occlusion(quadrant_model, image, class_index=4)
    multi_in = ks.Input((4, 4, 1))
    conv = L.Conv2D(2, 3, name="conv")(multi_in)
    pair = ks.Model(multi_in, [L.Flatten(name="f1")(conv), L.Flatten(name="f2")(conv)])
    with pytest.raises(ValueError, match="The attribution views need a model with one output. Model '.*' has 2"):
        ks.explain.saliency(pair, np.zeros((4, 4, 1)))
    maps = ks.Sequential([ks.Input((4, 4, 1)), L.Conv2D(2, 3, name="conv")])
    with pytest.raises(ValueError, match=r"The model's scores must have shape \(batch, classes\)"):
        ks.explain.saliency(maps, np.zeros((4, 4, 1)))
    with pytest.raises(ValueError, match=r"The model's output must have shape \(batch, classes\)"):
        ks.explain.occlusion(maps, np.zeros((4, 4, 1)))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'Colormap .viridis. needs matplotlib .* pip install "kernelscope\[plot\]"'):
        ks.explain.overlay(image, np.zeros((2, 2)), colormap="viridis")
    with pytest.raises(ImportError, match=r'show\(\) needs matplotlib: pip install "kernelscope\[plot\]"'):
        ks.explain.show(image)
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r'Writing PNG files needs Pillow: pip install "kernelscope\[image\]"'):
        ks.explain.model_report(quadrant_model, image, "unused")


def test_receptive_field_errors():
    inputs = ks.Input((16, 16, 1))
    strided = L.Conv2D(1, 1, strides=2, name="strided")(inputs)
    wide = L.Conv2D(1, 9, name="wide")(inputs)
    model = ks.Model(inputs, L.Add(name="add")([strided, wide]))
    with pytest.raises(ValueError, match=r"Layer 'add' merges inputs with different strides \[\(2, 2\), \(1, 1\)\]"):
        ks.explain.receptive_field(model, "add")
    free = ks.Sequential([ks.Input((None, None, 1)), L.Conv2D(1, 3, padding="same", name="same")])
    with pytest.raises(ValueError, match="Layer 'same' uses padding='same' on an input of unknown size"):
        ks.explain.receptive_field(free, "same")
