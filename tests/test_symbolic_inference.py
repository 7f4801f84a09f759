"""Custom layers in functional graphs (shapes inferred by running ``call`` on stand-ins), models
built for unknown sizes called on known ones, the missing channel axis, preprocess_input on
KerasTensors, augmentation defaults, and huge window sizes refused by name."""

import numpy as np
import pytest

import kernelscope as ks

L = ks.layers


def _rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


class Pair(L.Layer):
    """Two positional tensors in, a list out."""

    def call(self, a, b):
        return [a + b, (a * b).mean(axis=(1, 2))]


class ListDistance(L.Layer):
    """A list in (the siamese pattern), one tensor out; keeps one axis."""

    def call(self, inputs):
        a, b = inputs
        return ((a - b) ** 2).sum(axis=-1, keepdims=True)


@ks.saving.register_keras_serializable(package="SymbolicTest")
class Scaled(L.Layer):
    """A keyword tensor in, a dict out."""

    def call(self, x, scale=None, offset=0.0):
        return {"out": x * scale + offset, "total": x.sum(axis=-1)}


def test_several_positional_tensors_list_and_none_spatial_dims():
    a, b = ks.Input((None, None, 3)), ks.Input((None, None, 3))
    summed, pooled = Pair()(a, b)
    assert summed.shape == (None, None, None, 3) and pooled.shape == (None, 3)
    assert ListDistance()([pooled, pooled]).shape == (None, 1)
    c = ks.Input((5, 7, 3))
    assert Pair()(c, c)[0].shape == (None, 5, 7, 3)  # known sizes stay known


def test_keyword_tensors_and_dict_outputs_train_predict_and_save(tmp_path):
    x, s = ks.Input((4,)), ks.Input((4,))
    first = Scaled()(x, scale=s, offset=1.0)
    assert first["out"].shape == (None, 4) and first["total"].shape == (None,)
    second = Scaled(name="again")(x=first["out"], scale=s)  # the first argument by name too
    out = L.Dense(1)(L.concatenate([second["out"], first["out"]]))
    model = ks.Model([x, s], out)
    model.compile("sgd", "mse")
    data = [_rand((16, 4), 1), _rand((16, 4), 2)]
    y = (data[0] * data[1]).sum(axis=1, keepdims=True)
    history = model.fit(data, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    x1, s1 = data[0][:3], data[1][:3]
    expected_out = (x1 * s1 + 1.0) * s1
    hidden = ks.Model([x, s], second["out"]).predict([x1, s1], verbose=0)
    np.testing.assert_allclose(hidden, expected_out, rtol=1e-6)
    path = tmp_path / "kw.keras"
    model.save(path)
    loaded = ks.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6)


def test_siamese_custom_layer_fits_with_a_shared_embedding():
    left, right = ks.Input((6, 6, 1)), ks.Input((6, 6, 1))
    embed = ks.Sequential([ks.Input((6, 6, 1)), L.Conv2D(2, 3), L.Flatten(), L.Dense(4)])
    distance = ListDistance()([embed(left), embed(right)])
    model = ks.Model([left, right], L.Dense(1, activation="sigmoid")(distance))
    model.compile("adam", "binary_crossentropy")
    xs = [_rand((12, 6, 6, 1), 3), _rand((12, 6, 6, 1), 4)]
    model.fit(xs, np.arange(12) % 2, epochs=1, batch_size=4, verbose=0)
    assert model.predict(xs, verbose=0).shape == (12, 1)


def test_compute_output_spec_written_as_in_keras_answers_without_running_call():
    class Split(L.Layer):
        def call(self, x, y):
            raise AssertionError("not run for shapes")

        def compute_output_spec(self, x, y):
            return [L.KerasTensor(x.shape[:-1] + (2,)), L.KerasTensor(y.shape, dtype="int64")]

    first, second = Split()(ks.Input((5, 3)), ks.Input((4,)))
    assert (first.shape, second.shape, second.dtype) == ((None, 5, 2), (None, 4), np.dtype("int64"))


def test_inference_leaves_weights_and_random_state_untouched():
    class Stateful(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.norm = L.BatchNormalization()
            self.flip = L.RandomFlip(seed=3)

        def _sublayers(self):
            return [self.norm, self.flip]

        def call(self, x):
            return self.flip(self.norm(x, training=True))  # in a stand-in run both run as inference

    layer = Stateful()
    layer.norm.build((None, 4, 4, 2))
    before = [w.copy() for w in layer.norm.get_weights()]
    state = layer.flip._generator.bit_generator.state
    assert layer(ks.Input((4, 4, 2))).shape == (None, 4, 4, 2)
    for old, new in zip(before, layer.norm.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert layer.flip._generator.bit_generator.state == state


def test_inference_failure_names_the_layer_and_the_remedy():
    class Broken(L.Layer):
        def call(self, x):
            raise RuntimeError("boom")

    with pytest.raises(ValueError, match=r"Could not infer the output shape of layer 'broken' \(Broken\) by running "
                                         r"its `call` on stand-in inputs of shapes \[\(None, 3\)\].*RuntimeError: "
                                         r"boom. Implement `compute_output_shape\(input_shape\)`"):
        Broken(name="broken")(ks.Input((3,)))

    class RankChanges(L.Layer):
        def call(self, x):
            return x if x.shape[0] == 2 else x[0]

    with pytest.raises(ValueError, match=r"Could not infer the output shape of layer 'rank_changes': the output "
                                         r"rank depends on the input size"):
        RankChanges(name="rank_changes")(ks.Input((3,)))
    with pytest.raises(TypeError, match=r"must be called on at least one input \(positional, or by the name of the "
                                        r"first argument of its `call`\). Received: keyword arguments \['y'\]"):
        Pair()(y=np.ones(2))
    with pytest.raises(TypeError, match=r"compute_output_shape must return a shape tuple, or a list, tuple or "
                                        r"dict of them"):
        from kernelscope.layers.symbolic import shapes_to_tensors
        shapes_to_tensors("(3,)", tuple)


# ------------------------------------------------ unknown sizes made known
def test_models_built_for_unknown_sizes_give_concrete_shapes():
    seq = ks.Sequential([ks.Input((None, None, 3)), L.Conv2D(4, 3, padding="same"), L.MaxPooling2D(),
                         L.Conv2D(2, 3)])
    inputs = ks.Input((180, 180, 3))
    assert seq(inputs).shape == (None, 88, 88, 2)
    i = ks.Input((None, None, 3))
    x = L.Conv2D(4, 3, strides=2)(i)
    nested = ks.Model(i, [x, Pair()(x, x)[0]])
    assert [t.shape for t in nested(inputs)] == [(None, 89, 89, 4), (None, 89, 89, 4)]
    outer = ks.Model(inputs, L.GlobalAveragePooling2D()(seq(inputs)))
    assert outer.predict(_rand((1, 180, 180, 3)), verbose=0).shape == (1, 2)
    with pytest.raises(ValueError, match=r"Input 0 of model '.*' is incompatible with the model: expected "
                                         r"shape=\(None, 180, 180, 3\), received shape=\(None, 10, 10, 3\)"):
        outer(ks.Input((10, 10, 3)))


def test_application_without_top_on_a_concrete_input():
    base = ks.applications.MobileNetV2(include_top=False, weights=None, input_shape=(None, None, 3), alpha=0.35)
    inputs = ks.Input((96, 96, 3))
    features = base(inputs)
    want = base.predict(_rand((1, 96, 96, 3)), verbose=0).shape
    assert features.shape == (None,) + want[1:] and None not in features.shape[1:]


# --------------------------------------------------- missing channel axis
def test_missing_channel_axis_added_only_where_keras_adds_it():
    inp = ks.Input((28, 28, 1))
    model = ks.Model(inp, L.Dense(3)(L.Flatten()(inp)))
    x = _rand((4, 28, 28), 5)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x[..., None], verbose=0), rtol=1e-6)
    seq = ks.Sequential([ks.Input((28, 28, 1)), L.Flatten(), L.Dense(2)])
    seq.compile("sgd", "mse")
    seq.fit(x, np.zeros((4, 2)), verbose=0)  # (n, 28, 28) into Input((28, 28, 1)), as keras-io's mnist_convnet
    flat = ks.Model(i := ks.Input((10,)), L.Dense(1)(i))
    np.testing.assert_allclose(flat.predict(_rand((2, 10, 1), 6), verbose=0),
                               flat.predict(_rand((2, 10, 1), 6)[..., 0], verbose=0), rtol=1e-6)
    rgb = ks.Model(j := ks.Input((8, 8, 3)), L.Flatten()(j))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 8, 8, 3\), received shape=\(2, 8, 8\)"):
        rgb.predict(_rand((2, 8, 8), 7), verbose=0)  # not a missing size-1 axis: refused


# ------------------------------------------------ preprocess_input inside
def test_preprocess_input_on_keras_tensors_records_a_layer(tmp_path):
    images = np.random.default_rng(8).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    for family in (ks.applications.resnet50, ks.applications.mobilenet_v2, ks.applications.densenet):
        inputs = ks.Input((8, 8, 3))
        model = ks.Model(inputs, family.preprocess_input(inputs))
        np.testing.assert_allclose(model.predict(images, verbose=0), family.preprocess_input(images), rtol=1e-6,
                                   atol=1e-4)
    path = tmp_path / "pre.keras"
    model.save(path)
    np.testing.assert_allclose(ks.models.load_model(path).predict(images, verbose=0),
                               model.predict(images, verbose=0), rtol=1e-6)
    layer = L.PreprocessInput(mode="caffe", dtype="float64")
    ks.autograd.gradcheck(layer, [images[:1, :2, :2].astype("float64")])
    with pytest.raises(ValueError, match=r"preprocess_input\(mode='caffe'\) expects 3 color channels"):
        ks.applications.vgg16.preprocess_input(ks.Input((8, 8, 1)))


# --------------------------------------------------- augmentation defaults
AUGMENTERS = [lambda: L.RandomFlip(seed=1), lambda: L.RandomRotation(0.3, seed=1), lambda: L.RandomZoom(0.4, seed=1),
              lambda: L.RandomTranslation(0.3, 0.3, seed=1), lambda: L.RandomContrast(0.6, seed=1),
              lambda: L.RandomBrightness(0.4, seed=1), lambda: L.RandomCrop(4, 4, seed=1)]


@pytest.mark.parametrize("factory", AUGMENTERS)
def test_augmentation_on_when_called_directly_off_in_predict(factory):
    x = np.random.default_rng(9).uniform(0, 255, (6, 6, 6, 2)).astype("float32")
    reference = factory()(x, training=False).numpy()
    assert not np.allclose(factory()(x).numpy(), reference)  # augment(x), dataset.map(augment)
    np.testing.assert_array_equal(factory()(x).numpy(), factory()(x).numpy())  # seeded: repeats
    model = ks.Sequential([ks.Input((6, 6, 2)), factory()])
    np.testing.assert_allclose(model.predict(x, verbose=0), reference, rtol=1e-6)
    assert not np.allclose(model(x).numpy(), reference)  # model(x): Keras 3 augments too


def test_training_false_reaches_layers_a_custom_layer_calls_without_it():
    class Wrap(L.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.flip = L.RandomFlip("horizontal", seed=0)

        def _sublayers(self):
            return [self.flip]

        def call(self, x):
            return self.flip(x)  # no training argument passed on

    inputs = ks.Input((4, 4, 1))
    model = ks.Model(inputs, Wrap()(inputs))
    x = np.arange(64.0, dtype="float32").reshape(4, 4, 4, 1)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    np.testing.assert_array_equal(model(x, training=False).numpy(), x)
    assert not np.array_equal(model(x, training=True).numpy(), x)


# ------------------------------------------------------------ huge windows
@pytest.mark.parametrize("factory, name", [
    (lambda: L.MaxPooling2D(10**9, padding="same"), "pool_size"),
    (lambda: L.AveragePooling2D(10**6, strides=1, padding="same"), "pool_size"),
    (lambda: L.Conv2D(1, 10**9, padding="same"), "kernel_size"),
    (lambda: L.DepthwiseConv2D(10**6, padding="same"), "kernel_size"),
    (lambda: L.SeparableConv2D(1, 10**6, padding="same"), "kernel_size"),
    (lambda: L.Conv2DTranspose(1, 10**6, padding="same"), "kernel_size"),
    (lambda: L.Conv2D(1, 3, dilation_rate=10**9, padding="same"), "dilation_rate"),
    (lambda: L.Conv2D(1, 3, padding=10**6), "padding"),
    (lambda: L.ZeroPadding2D(10**9), "padding"),
    (lambda: L.UpSampling2D(10**9), "size"),
])
def test_huge_sizes_are_refused_naming_the_argument(factory, name):
    with pytest.raises(ValueError, match=rf"`{name}`=.* would need .* values, more than the 4,294,967,296 "
                                         rf"kernelscope allocates at once. Use a smaller `{name}`"):
        factory()(np.zeros((1, 8, 8, 1), "float32"))


def test_big_batches_with_small_padding_are_not_refused():
    from kernelscope._checks import check_allocation

    check_allocation((700000, 30, 30, 8), "pool_size", 3, "a padded input", input_shape=(700000, 28, 28, 8))
    with pytest.raises(ValueError, match=r"`pool_size`=3 would need a padded input of shape"):
        check_allocation((700000, 30, 30, 8), "pool_size", 3, "a padded input")
