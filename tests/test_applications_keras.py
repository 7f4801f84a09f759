"""ks.applications against real Keras 3 (keras==3.15.1, torch backend), the weights cache and download.

References, none from the code under test:
- parameter totals of the seven builders added for issue 18: the lecture slide's (Keras's published
  table); the trainable / non-trainable split, the model names and the layer names (in Keras's
  ``model.layers`` order, as a SHA-256) of all 18 Keras builders: what Keras 3.15.1 itself builds,
  stored in fixtures/keras/applications_reference.json by the script beside it;
- predictions: real Keras models with random weights (BatchNormalization statistics perturbed so
  they matter), saved in Keras's legacy HDF5 layout (the layout of its ImageNet files), loaded here
  and run on the same images: equal to 1e-4 of the output scale;
- downloads: a local http.server on 127.0.0.1 (no internet), with and without Keras's pinned hash.
"""

import hashlib
import json
import os
import pathlib
import re

import numpy as np
import pytest

import kernelscope as ks

A = ks.applications
REFERENCE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "keras" /
                        "applications_reference.json").read_text())["models"]
# the slide's table (Keras's published counts)
SLIDE = {"ResNet101V2": 44_675_560, "ResNet152V2": 60_380_648, "InceptionResNetV2": 55_873_736,
         "DenseNet169": 14_307_880, "DenseNet201": 20_242_984, "NASNetMobile": 5_326_716, "NASNetLarge": 88_949_818}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_counts_model_and_layer_names_match_keras(name):
    ref = REFERENCE[name]
    ks.layers.clear_session()  # automatic names count from a fresh session, as in the reference script
    model = getattr(A, name)(weights=None)
    assert model.count_params() == ref["total"] == SLIDE.get(name, ref["total"])
    lines = []
    model.summary(print_fn=lines.append)
    assert f" Trainable params: {ref['trainable']:,} (" in lines[-2]
    assert f" Non-trainable params: {ref['non_trainable']:,} (" in lines[-1]
    assert model.name == ref["name"] and len(model.layers) == ref["layers"]
    names = "\n".join(layer.name for layer in ks.interop.keras_layer_order(model))
    assert hashlib.sha256(names.encode()).hexdigest() == ref["names_sha256"]
    assert model.output_shape == (None, 1000)


# ------------------------------------------------------------------ real Keras weights
@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    assert keras.__version__ == "3.15.1" and keras.backend.backend() == "torch"
    return keras


def _keras_model(keras, name, **kwargs):
    if name.startswith("NASNet"):  # Keras 3.15.1 refuses the wrappers on torch; the generic builder is the same
        from keras.src.applications import nasnet

        return nasnet.NASNet(kwargs.pop("input_shape"), penultimate_filters=1056, num_blocks=4,
                             stem_block_filters=32, skip_reduction=False, filter_multiplier=2, default_size=224,
                             name="nasnet_mobile", **kwargs)
    return getattr(keras.applications, name)(**kwargs)


def _save_legacy_h5(keras, model, path, seed=0) -> None:
    """Perturb the BN statistics, then write Keras's legacy weight layout (that of its ImageNet files)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            values = layer.get_weights()
            values[-2] = rng.normal(size=values[-2].shape).astype("float32") * 0.1   # moving_mean
            values[-1] = rng.uniform(0.5, 1.5, values[-1].shape).astype("float32")   # moving_variance
            layer.set_weights(values)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _assert_close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))


@pytest.mark.parametrize("name, size", [("ResNet101V2", 32), ("InceptionResNetV2", 75), ("DenseNet169", 32),
                                        ("NASNetMobile", 32)])
def test_keras_weights_load_and_predict_as_keras(keras, name, size, tmp_path):
    kwargs = {"include_top": False, "pooling": "avg", "input_shape": (size, size, 3)}
    keras.backend.clear_session()  # automatic names (conv2d, conv2d_1, ...) from zero in both libraries
    keras_model = _keras_model(keras, name, weights=None, **kwargs)
    path = tmp_path / "weights.h5"
    _save_legacy_h5(keras, keras_model, path)
    x = np.random.default_rng(1).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    want = np.asarray(keras_model.predict(x, verbose=0))
    model = getattr(A, name)(weights=str(path), **kwargs)   # paired by position, as Keras loads legacy files
    _assert_close(model.predict(x, verbose=0), want)
    if name != "NASNetMobile":  # one by-name check (the most unnamed layers) keeps the test short
        return
    ks.layers.clear_session()
    by_name = getattr(A, name)(weights=None, **kwargs)
    ks.interop.load_keras_weights(by_name, path, by_name=True)  # paired by the layer names the file records
    _assert_close(by_name.predict(x, verbose=0), want)


# ------------------------------------------------------------------ the model cache and download
@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELSCOPE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


MOBILENET_V2_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"


@pytest.fixture(scope="module")
def mobilenet_v2_file(keras, tmp_path_factory):
    """A Keras MobileNetV2 (alpha 0.35, 96x96, no top) with random weights, in the ImageNet file's layout."""
    keras.backend.clear_session()
    model = keras.applications.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), include_top=False, weights=None,
                                           pooling="avg")
    path = tmp_path_factory.mktemp("keras") / MOBILENET_V2_FILE
    _save_legacy_h5(keras, model, path)
    x = np.random.default_rng(2).uniform(-1, 1, (2, 96, 96, 3)).astype("float32")
    return path, x, np.asarray(model.predict(x, verbose=0))


def _mobilenet_v2(**kwargs):
    return A.MobileNetV2(alpha=0.35, input_shape=(96, 96, 3), include_top=False, pooling="avg", **kwargs)


def test_models_dir_follows_kernelscope_home(home, monkeypatch):
    assert A.models_dir() == home / "models"
    monkeypatch.delenv("KERNELSCOPE_HOME")
    assert A.models_dir() == pathlib.Path.home() / ".kernelscope" / "models"


def test_imagenet_default_reads_the_keras_file_from_the_cache(home, mobilenet_v2_file):
    path, x, want = mobilenet_v2_file
    (home / "models").mkdir(parents=True)
    (home / "models" / MOBILENET_V2_FILE).write_bytes(path.read_bytes())
    _assert_close(_mobilenet_v2().predict(x, verbose=0), want)   # weights="imagenet" is the default


def test_missing_file_names_file_url_and_folder(home):
    cached = home / "models" / "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(FileNotFoundError, match=re.escape(
            "put Keras's file `densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5` (from https://storage."
            "googleapis.com/tensorflow/keras-applications/densenet/densenet169_weights_tf_dim_ordering_tf_kernels_"
            f"notop.h5) at {cached} (the cache is $KERNELSCOPE_HOME/models, else ~/.kernelscope/models), pass "
            "download=True to fetch it, or pass weights=None for random weights.")):
        A.DenseNet169(include_top=False)


@pytest.mark.parametrize("build, keras_file", [
    (lambda: A.ResNet101V2(), "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.ResNet152V2(include_top=False), "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    (lambda: A.InceptionResNetV2(), "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.DenseNet201(), "densenet201_weights_tf_dim_ordering_tf_kernels.h5"),
    (lambda: A.NASNetMobile(), "nasnet_mobile.h5"),
    (lambda: A.NASNetMobile(include_top=False), "nasnet_mobile_no_top.h5"),
    (lambda: A.NASNetLarge(), "nasnet_large.h5"),
    (lambda: A.NASNetLarge(include_top=False, input_shape=(331, 331, 3)), "nasnet_large_no_top.h5"),
])
def test_new_builders_name_their_keras_files(build, keras_file, home):
    with pytest.raises(FileNotFoundError, match=rf"put Keras's file `{keras_file}` \(from https://storage."
                                                rf"googleapis.com/tensorflow/keras-applications/\S+\) at "):
        build()


@pytest.fixture
def server(local_http_server, monkeypatch):
    """Serves tmp_path/served as Keras's bucket (tests/conftest.py); .requests lists the paths asked for."""
    folder, url, requests = local_http_server
    monkeypatch.setattr(A._weights, "KERAS_BUCKET", url)
    return folder, requests


def test_download_fetches_into_the_cache_once(home, server, mobilenet_v2_file):
    folder, requests = server
    path, x, want = mobilenet_v2_file
    (folder / "mobilenet_v2").mkdir()
    (folder / "mobilenet_v2" / MOBILENET_V2_FILE).write_bytes(path.read_bytes())
    _assert_close(_mobilenet_v2(download=True).predict(x, verbose=0), want)
    assert (home / "models" / MOBILENET_V2_FILE).read_bytes() == path.read_bytes()
    _mobilenet_v2(download=True)
    assert requests == [f"/mobilenet_v2/{MOBILENET_V2_FILE}"]   # the second build used the cache


def test_download_checks_kerass_hash(home, server):
    folder, _ = server
    (folder / "densenet").mkdir()
    (folder / "densenet" / "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5").write_bytes(b"not it")
    with pytest.raises(ValueError, match=r"Incomplete or corrupted file detected from http://127\.0\.0\.1:\d+/"
                                         r"densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop\.h5"):
        A.DenseNet169(include_top=False, download=True)
    assert not any((home / "models").iterdir())   # nothing half-written is left in the cache


# ------------------------------------------------------------------ shapes, export, preprocessing, errors
@pytest.mark.parametrize("name, size, features", [
    ("ResNet152V2", 32, 2048), ("InceptionResNetV2", 75, 1536), ("DenseNet201", 32, 1920),
    ("NASNetMobile", 32, 1056), ("NASNetLarge", 32, 4032)])
def test_forward_pass_at_small_size(name, size, features):
    model = getattr(A, name)(weights=None, include_top=False, input_shape=(size, size, 3), pooling="max")
    out = model.predict(np.random.default_rng(0).uniform(-1, 1, (1, size, size, 3)).astype("float32"), verbose=0)
    assert out.shape == (1, features) and np.isfinite(out).all()


@pytest.mark.parametrize("name, size", [("NASNetMobile", 32), ("InceptionResNetV2", 75), ("DenseNet169", 32)])
def test_onnx_export_runs_in_onnxruntime(name, size, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = getattr(A, name)(weights=None, include_top=False, pooling="avg", input_shape=(size, size, 3))
    ks.export.to_onnx(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(3).uniform(-1, 1, (2, size, size, 3)).astype("float32")
    _assert_close(session.run(None, {session.get_inputs()[0].name: x})[0], model.predict(x, verbose=0))


def test_preprocess_and_decode_of_the_new_families(keras):
    x = np.random.default_rng(4).uniform(0, 255, (2, 4, 4, 3))
    for module in ("resnet_v2", "inception_resnet_v2", "densenet", "nasnet"):
        ours, theirs = getattr(A, module), getattr(keras.applications, module)
        np.testing.assert_allclose(ours.preprocess_input(x), np.asarray(theirs.preprocess_input(x.copy())),
                                   rtol=1e-12, atol=1e-12)
    preds = np.zeros((1, 1000))
    preds[0, 281] = 1.0
    assert A.nasnet.decode_predictions(preds, top=1)[0][0][:2] == ("n02123045", "tabby")
    assert A.inception_resnet_v2.decode_predictions is A.imagenet_utils.decode_predictions


def test_custom_scale_layer():
    a, r = ks.Tensor(np.ones((1, 2, 2, 3)), requires_grad=True), ks.Tensor(np.full((1, 2, 2, 3), 2.0))
    layer = A.inception_resnet_v2.CustomScaleLayer(0.17)
    np.testing.assert_allclose(layer([a, r]).numpy(), 1.34)
    assert layer.get_config()["scale"] == 0.17 and layer.name.startswith("custom_scale_layer")
    with pytest.raises(ValueError, match=r"takes a list of 2 inputs \(the shortcut and the residual\)"):
        layer.compute_output_shape([(None, 2, 2, 3)])
    with pytest.raises(ValueError, match=r"adds two tensors of the same shape. Received shapes \(None, 2, 2, 3\) "
                                         r"and \(None, 2, 2, 4\)"):
        layer.compute_output_shape([(None, 2, 2, 3), (None, 2, 2, 4)])


def test_argument_errors(home):
    with pytest.raises(ValueError, match=r"the `penultimate_filters` must be a multiple of 24 \* "
                                         r"\(`filter_multiplier` \*\* 2\). Current value: 1000"):
        A.nasnet.NASNet(penultimate_filters=1000, weights=None)
    with pytest.raises(ValueError, match=r"`filter_multiplier` must be a positive integer. Received: "
                                         r"filter_multiplier=0"):
        A.nasnet.NASNet(filter_multiplier=0, weights=None)
    with pytest.raises(ValueError, match=r"the input_shape argument must be static \(no None entries\)"):
        A.NASNetLarge(include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match=r"If using `weights='imagenet'` with `include_top=True`, `classes` "
                                         r"should be 1000. Received classes=10"):
        A.DenseNet169(classes=10)
    with pytest.raises(TypeError, match=r"`download` must be True or False. Received: download='yes'"):
        A.ResNet101V2(download="yes")
    with pytest.raises(ValueError, match=r"There are no ImageNet weights for this architecture: pass "
                                         r"weights=None .* Received: weights='imagenet'"):
        A.densenet.DenseNet((2, 2, 2, 2), include_top=False)
    with pytest.raises(ValueError, match=r"If imagenet weights are being loaded, alpha can be one of `0.35`, `0.5`, "
                                         r"`0.75`, `1.0`, `1.3`, `1.4` only. Received alpha=0.3"):
        A.MobileNetV2(alpha=0.3)
    with pytest.raises(ValueError, match=r"If imagenet weights are being loaded, depth multiplier must be 1.  "
                                         r"Received depth_multiplier=2"):
        A.MobileNet(depth_multiplier=2)
    with pytest.warns(UserWarning, match=r"`input_shape` is undefined or non-square, or `rows` is not in \[128, "
                                         r"160, 192, 224\]. Weights for input shape \(224, 224\) will be loaded"), \
            pytest.raises(FileNotFoundError, match="mobilenet_1_0_224_tf_no_top.h5"):
        A.MobileNet(include_top=False, input_shape=(100, 120, 3))
    with pytest.raises(ValueError, match=r'Unknown Inception-ResNet block type. Expects "block35", "block17" '
                                         r'or "block8", but got: block9'):
        A.inception_resnet_v2.inception_resnet_block(ks.Input((8, 8, 32)), 0.1, "block9", 1)
