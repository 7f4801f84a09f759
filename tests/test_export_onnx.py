"""ks.export.to_onnx: every layer type, checked with onnx.checker and run in onnxruntime.

Reference values are the kernelscope model's own predict (whose layers are
checked against PyTorch and Keras elsewhere); the ONNX graph is an independent
implementation of the same semantics in onnxruntime's kernels, so the two must
agree for batch sizes 1 and 3 (the batch dimension is dynamic).
"""

import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import kernelscope as ks
from kernelscope import layers as L
from kernelscope.cli import main


def randomize(model, seed=0):
    """Random weights, with positive variances, so every weight matters."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if w.data.dtype.kind != "f":
            continue
        values = rng.normal(size=w.data.shape) * 0.5
        if "variance" in w.name:
            values = rng.uniform(0.5, 1.5, size=w.data.shape)
        w.data[...] = values
    return model


def perturb_statistics(model, seed=0):
    """Keep the initializers' weights (deep networks stay finite) but make biases and BatchNormalization
    statistics non-trivial."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if w.name in ("gamma", "moving_variance"):
            w.data[...] = rng.uniform(0.5, 1.5, size=w.data.shape)
        elif w.name in ("beta", "moving_mean", "bias"):
            w.data[...] = rng.normal(size=w.data.shape) * 0.1
    return model


def run_onnx(model, path, xs, opset=None):
    proto = ks.export.to_onnx(model, path, opset=opset)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return proto, session.run(None, dict(zip(names, xs)))


def assert_export_matches(model, tmp_path, batch_sizes=(1, 3), seed=0, opset=None):
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    rng = np.random.default_rng(seed)
    for batch in batch_sizes:
        xs = [rng.normal(size=(batch,) + s).astype(np.float32) for s in shapes]
        expected = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        _, outputs = run_onnx(model, tmp_path / "model.onnx", xs, opset)
        assert len(outputs) == len(expected)
        for got, want in zip(outputs, expected):
            assert got.shape == want.shape
            scale = max(float(np.max(np.abs(want))), 1e-6)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * scale)


def seq(input_shape, *layers):
    return randomize(ks.Sequential([ks.Input(input_shape), *layers]))


# ------------------------------------------------------------------ grids of small models
@pytest.mark.parametrize("kwargs,shape", [
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (8, 8, 3)),  # asymmetric TF pads
    ({"filters": 4, "kernel_size": (2, 4), "strides": (1, 3), "padding": "same"}, (7, 10, 2)),
    ({"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (9, 8, 2)),
    ({"filters": 6, "kernel_size": 3, "groups": 2, "activation": "relu"}, (6, 6, 4)),
    ({"filters": 2, "kernel_size": 3, "padding": ((1, 2), (0, 1)), "use_bias": False}, (5, 6, 3)),
])
def test_conv2d(tmp_path, kwargs, shape):
    assert_export_matches(seq(shape, L.Conv2D(**kwargs)), tmp_path)


@pytest.mark.parametrize("layer", [
    L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2),
    L.DepthwiseConv2D((3, 2), dilation_rate=2, activation="relu6"),
    L.SeparableConv2D(5, 3, padding="same", depth_multiplier=3, activation="swish"),
    L.SeparableConv2D(4, 3, strides=2, use_bias=False),
])
def test_depthwise_and_separable(tmp_path, layer):
    assert_export_matches(seq((8, 7, 3), layer), tmp_path)


@pytest.mark.parametrize("kernel,strides,padding,output_padding,dilation", [
    (3, 2, "same", None, 1), (3, 2, "valid", None, 1), (2, 3, "valid", None, 1), (4, 2, "same", None, 1),
    (3, 2, "same", 1, 1), (3, 2, "valid", 1, 1), (3, 1, "same", None, 2), ((2, 3), (3, 2), "same", None, 1),
])
def test_conv2d_transpose(tmp_path, kernel, strides, padding, output_padding, dilation):
    layer = L.Conv2DTranspose(3, kernel, strides=strides, padding=padding, output_padding=output_padding,
                              dilation_rate=dilation)
    assert_export_matches(seq((5, 4, 2), layer), tmp_path)


@pytest.mark.parametrize("layer,shape", [
    (L.MaxPooling2D(3, strides=2, padding="same"), (8, 7, 2)),
    (L.AveragePooling2D(3, strides=2, padding="same"), (8, 8, 2)),  # padded cells left out of the mean
    (L.AveragePooling2D((2, 3), strides=1, padding="same"), (5, 6, 2)),
    (L.MaxPooling2D(2), (7, 7, 3)),
    (L.AveragePooling2D(2, strides=(1, 2)), (6, 6, 1)),
    (L.GlobalAveragePooling2D(), (5, 4, 3)), (L.GlobalMaxPooling2D(keepdims=True), (5, 4, 3)),
    (L.GlobalAveragePooling2D(keepdims=True), (3, 4, 2)), (L.GlobalMaxPooling2D(), (3, 4, 2)),
])
def test_pooling(tmp_path, layer, shape):
    assert_export_matches(seq(shape, layer), tmp_path)


@pytest.mark.parametrize("layers,shape", [
    ([L.Conv2D(4, 3), L.BatchNormalization(epsilon=0.01)], (6, 6, 2)),
    ([L.BatchNormalization(center=False, scale=False)], (4, 4, 3)),
    ([L.BatchNormalization(scale=False)], (4, 4, 3)),
    ([L.Flatten(), L.Dense(6), L.BatchNormalization()], (3, 3, 2)),
    ([L.BatchNormalization(axis=1)], (4, 5, 3)),  # normalizes the height axis
    ([L.Dense(5, activation="tanh")], (4, 3, 2)),  # Dense on a 4-D input acts on the last axis
    ([L.Reshape((6, 4)), L.Dense(3)], (4, 3, 2)),
    ([L.Conv2D(3, 2), L.Flatten(), L.Dense(4, use_bias=False)], (5, 4, 2)),  # Flatten in NHWC order
    ([L.Conv2D(4, 1), L.Reshape((-1, 4)), L.Softmax(axis=1)], (3, 3, 2)),
    ([L.Conv2D(4, 1), L.Reshape((2, 9, 2))], (3, 3, 2)),
    ([L.Dropout(0.5), L.GaussianNoise(0.3), L.RandomFlip(), L.RandomRotation(0.2), L.RandomZoom(0.2),
      L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.3), L.Conv2D(2, 3)], (6, 6, 3)),
])
def test_core_and_normalization(tmp_path, layers, shape):
    assert_export_matches(seq(shape, *layers), tmp_path)


@pytest.mark.parametrize("activation", [
    "relu", "relu6", "leaky_relu", "elu", "gelu", ks.ops.gelu, "sigmoid", "hard_sigmoid", "tanh", "softmax",
    "log_softmax", "silu", "swish", "softplus", "log_sigmoid", "exponential", "linear",
])
def test_activations(tmp_path, activation):
    model = seq((4, 3, 2), L.Conv2D(3, 1, activation=activation), L.Activation(activation))
    assert_export_matches(model, tmp_path)


@pytest.mark.parametrize("layer", [
    L.ReLU(), L.ReLU(max_value=0.5), L.ReLU(threshold=0.3), L.ReLU(negative_slope=0.1),
    L.ReLU(max_value=0.8, negative_slope=0.2, threshold=0.1), L.ReLU(negative_slope=0.3, threshold=0.2),
    L.LeakyReLU(), L.LeakyReLU(negative_slope=0.05), L.Softmax(), L.Softmax(axis=1),
])
def test_activation_layers(tmp_path, layer):
    assert_export_matches(seq((4, 5, 3), L.Conv2D(3, 1), layer), tmp_path)


@pytest.mark.parametrize("layers,shape", [
    ([L.ZeroPadding2D(((1, 2), (3, 0))), L.Conv2D(2, 3)], (4, 5, 2)),
    ([L.Conv2D(2, 1), L.Cropping2D(((1, 0), (2, 1)))], (5, 6, 2)),
    ([L.Cropping2D(1)], (5, 6, 2)),
    ([L.UpSampling2D((2, 3))], (3, 4, 2)),
    ([L.Conv2D(2, 1), L.UpSampling2D(2, interpolation="bilinear")], (3, 4, 2)),
    ([L.UpSampling2D((3, 2), interpolation="bilinear")], (3, 4, 2)),
    ([L.Rescaling(1 / 255.0, offset=-0.5), L.Conv2D(2, 3)], (5, 5, 3)),
    ([L.RandomCrop(4, 4)], (6, 5, 2)),  # inference: centred crop
    ([L.RandomCrop(3, 5)], (6, 5, 2)),  # inference: centred crop resized (bilinear) to the target
])
def test_padding_cropping_resizing(tmp_path, layers, shape):
    assert_export_matches(seq(shape, *layers), tmp_path)


@pytest.mark.parametrize("kwargs", [{}, {"axis": None}, {"invert": True},
                                    {"mean": [1.0, 2.0], "variance": [4.0, 0.25]}])
def test_normalization(tmp_path, kwargs):
    layer = L.Normalization(**kwargs)
    model = seq((4, 3, 2), layer, L.Conv2D(2, 2))
    if "mean" not in kwargs:
        layer.adapt(np.random.default_rng(3).normal(2.0, 3.0, size=(20, 4, 3, 2)))
    assert_export_matches(model, tmp_path)


def test_functional_merges_nested_and_shared(tmp_path):
    inputs = ks.Input((6, 6, 3), name="image")
    side = ks.Input((4,), name="side")
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    y = L.DepthwiseConv2D(3, padding="same")(x)
    added = L.Add()([x, y])
    multiplied = L.Multiply()([added, x])
    channels = L.Concatenate()([added, multiplied])
    rows = L.Concatenate(axis=1)([x, added])  # height axis
    inner = ks.Sequential([ks.Input((6, 6, 8)), L.Conv2D(2, 1), L.BatchNormalization()], name="inner_seq")
    branch_in = ks.Input((12, 6, 4))
    branch = ks.Model(branch_in, L.GlobalAveragePooling2D()(L.Conv2D(3, 3)(branch_in)), name="inner_functional")
    shared = L.Dense(3)
    pooled = L.GlobalMaxPooling2D()(inner(channels))
    merged = L.Concatenate()([shared(pooled), shared(L.Dense(2)(side)), branch(rows)])
    model = randomize(ks.Model([inputs, side], [L.Dense(2, activation="softmax")(merged), inner(channels)]))
    assert_export_matches(model, tmp_path)


# ------------------------------------------------------------------ applications
APPLICATIONS = [
    ("LeNet5", {}), ("VGG16", {"input_shape": (32, 32, 3)}), ("MobileNet", {"input_shape": (32, 32, 3)}),
    ("MobileNetV2", {"input_shape": (32, 32, 3)}), ("ResNet50", {"input_shape": (32, 32, 3)}),
    ("ResNet50V2", {"input_shape": (32, 32, 3)}), ("DenseNet121", {"input_shape": (32, 32, 3)}),
    ("Xception", {"input_shape": (71, 71, 3)}), ("InceptionV3", {"input_shape": (75, 75, 3)}),
    ("EfficientNetB0", {"input_shape": (32, 32, 3)}),
]


@pytest.mark.parametrize("name,kwargs", APPLICATIONS, ids=[a[0] for a in APPLICATIONS])
def test_applications(tmp_path, name, kwargs):
    builder = getattr(ks.applications, name)
    extra = {} if name == "LeNet5" else {"include_top": False, "pooling": "avg"}
    model = builder(weights=None, **extra, **kwargs)
    assert_export_matches(perturb_statistics(model), tmp_path, batch_sizes=(2,))


def test_opset_and_dynamic_batch(tmp_path):
    model = seq((6, 6, 2), L.Conv2D(2, 3, padding="same"), L.GlobalAveragePooling2D(), L.Dense(2))
    assert_export_matches(model, tmp_path, opset=13)  # ReduceMean with axes as an attribute
    proto, _ = run_onnx(model, tmp_path / "m.onnx", [np.zeros((1, 6, 6, 2), np.float32)], opset=18)
    assert proto.opset_import[0].version == 18
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim[1:]] == [6, 6, 2]


def test_unknown_spatial_size_uses_same_upper(tmp_path):
    model = seq((None, None, 2), L.Conv2D(3, 3, strides=2, padding="same"), L.MaxPooling2D(3, 2, padding="same"))
    proto = ks.export.to_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for hw in ((8, 8), (7, 10)):
        x = np.random.default_rng(1).normal(size=(2, *hw, 2)).astype(np.float32)
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)
    assert any(a.s == b"SAME_UPPER" for n in proto.graph.node for a in n.attribute)


# ------------------------------------------------------------------ errors
class Custom(L.Layer):
    def call(self, inputs):
        return inputs * 2


def test_error_unknown_layer(tmp_path):
    model = seq((4, 4, 1), Custom(name="doubler"))
    with pytest.raises(ValueError, match=r"Layer 'doubler' \(Custom\) cannot be exported to ONNX: there is no "
                                         r"converter for Custom"):
        ks.export.to_onnx(model, tmp_path / "m.onnx")


def test_error_custom_activation(tmp_path):
    model = seq((4, 4, 1), L.Dense(2, activation=lambda x: x * 2, name="odd"))
    with pytest.raises(ValueError, match=r"Layer 'odd' \(Dense\) cannot be exported to ONNX: its activation "
                                         r"'<lambda>' is a custom function"):
        ks.export.to_onnx(model, tmp_path / "m.onnx")


def test_error_subclassed_model(tmp_path):
    class Net(ks.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = L.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    inputs = ks.Input((3,))
    outer = ks.Model(inputs, Net()(inputs))
    with pytest.raises(ValueError, match="subclassed models have no recorded graph"):
        ks.export.to_onnx(outer, tmp_path / "m.onnx")


def test_error_transpose_needs_known_size(tmp_path):
    model = seq((None, None, 2), L.Conv2DTranspose(2, 3, strides=2, name="up"))
    with pytest.raises(ValueError, match=r"Layer 'up' \(Conv2DTranspose\).*needs known input height and width"):
        ks.export.to_onnx(model, tmp_path / "m.onnx")


def test_error_same_dilated_needs_known_size(tmp_path):
    model = seq((None, None, 2), L.Conv2D(2, 3, padding="same", dilation_rate=2))
    with pytest.raises(ValueError, match="padding='same' with dilation needs known input height and width"):
        ks.export.to_onnx(model, tmp_path / "m.onnx")


def test_error_random_crop_needs_known_size(tmp_path):
    model = seq((None, None, 2), L.RandomCrop(2, 2))
    with pytest.raises(ValueError, match="RandomCrop needs known input height and width"):
        ks.export.to_onnx(model, tmp_path / "m.onnx")


def test_error_opset(tmp_path):
    model = seq((3,), L.Dense(2))
    with pytest.raises(ValueError, match=r"`opset` must be an integer from 13 to \d+ .*Received: opset=7"):
        ks.export.to_onnx(model, tmp_path / "m.onnx", opset=7)


def test_error_not_a_model(tmp_path):
    with pytest.raises(TypeError, match="`model` must be a kernelscope Model"):
        ks.export.to_onnx(L.Dense(2), tmp_path / "m.onnx")


def test_error_unbuilt_model(tmp_path):
    with pytest.raises(ValueError, match="is not built, so it has no graph to export"):
        ks.export.to_onnx(ks.Sequential([L.Dense(2)]), tmp_path / "m.onnx")


def test_error_missing_folder_and_atomic_write(tmp_path):
    model = seq((3,), L.Dense(2))
    with pytest.raises(ValueError, match=r"`path` must be in an existing folder: folder '.*nowhere' does not exist"):
        ks.export.to_onnx(model, tmp_path / "nowhere" / "m.onnx")
    target = tmp_path / "m.onnx"
    target.write_bytes(b"old")
    with pytest.raises(ValueError, match=r"Layer '.*' \(Custom\) cannot be exported to ONNX: there is no converter"):
        ks.export.to_onnx(seq((3,), Custom()), target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no temporary file left


def test_error_onnx_missing(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r'pip install "kernelscope\[onnx\]"'):
        ks.export.to_onnx(seq((3,), L.Dense(2)), tmp_path / "m.onnx")


# ------------------------------------------------------------------ command line
def test_cli_export(tmp_path, capsys):
    model = seq((6, 6, 1), L.Conv2D(2, 3), L.Flatten(), L.Dense(3))
    model.save(tmp_path / "model.keras")
    assert main(["export", str(tmp_path / "model.keras"), "--onnx", str(tmp_path / "model.onnx"),
                 "--opset", "15"]) == 0
    assert "wrote" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 1)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0],
                               model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


def test_cli_export_errors(tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing.keras"), "--onnx", str(tmp_path / "m.onnx")]) == 1
    assert "model file not found" in capsys.readouterr().err
    seq((3,), L.Dense(2)).save(tmp_path / "model.keras")
    assert main(["export", str(tmp_path / "model.keras"), "--onnx", str(tmp_path / "m.onnx"), "--opset", "3"]) == 2
    assert "`opset` must be an integer" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "model.keras"), "--onnx", str(tmp_path / "no" / "m.onnx")]) == 1
    assert "does not exist" in capsys.readouterr().err
