"""TensorBoard callback: the files it writes are read back by TensorBoard's own event reader (the oracle)."""

import glob
import json
import os

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.callbacks.tensorboard import crc32c

from tensorboard.backend.event_processing import event_accumulator  # the test extra pins tensorboard


def _load(directory):
    files = glob.glob(os.path.join(directory, "events.out.tfevents.*"))
    assert len(files) == 1, files
    acc = event_accumulator.EventAccumulator(files[0], size_guidance={"scalars": 0, "histograms": 0,
                                                                      "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _model_and_data():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((4, 4, 1)), ks.layers.Conv2D(2, 3, activation="relu"), ks.layers.Flatten(),
                           ks.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=ks.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(20, 4, 4, 1)).astype("float32"), rng.integers(0, 3, size=20)


def test_crc32c_matches_the_rfc_3720_check_values():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43


def test_epoch_scalars_and_validation_are_what_tensorboard_reads(tmp_path):
    model, x, y = _model_and_data()
    history = model.fit(x, y, batch_size=5, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[ks.callbacks.TensorBoard(log_dir=tmp_path)])
    train, val = _load(tmp_path / "train"), _load(tmp_path / "validation")
    for key in ("loss", "accuracy"):
        events = train.Scalars(f"epoch_{key}")
        assert [e.step for e in events] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in events], history.history[key], rtol=1e-6)
        np.testing.assert_allclose([e.value for e in val.Scalars(f"epoch_{key}")], history.history[f"val_{key}"],
                                   rtol=1e-6)
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_learning_rate")], [0.05] * 3, rtol=1e-6)
    # write_graph=True (the default): the model's JSON config for the graph dashboard, as keras_model_summary
    tensor = train.Tensors("keras")[0]
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"
    assert json.loads(tensor.tensor_proto.string_val[0].decode()) == json.loads(model.to_json())


def test_batch_scalars_every_update_freq_batches_and_evaluation_tags(tmp_path):
    model, x, y = _model_and_data()
    callback = ks.callbacks.TensorBoard(log_dir=tmp_path, update_freq=2, write_graph=False,
                                        write_steps_per_second=True)
    model.fit(x, y, batch_size=5, epochs=2, verbose=0, callbacks=[callback])  # 4 batches an epoch
    train = _load(tmp_path / "train")
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]
    assert all(e.value > 0 for e in train.Scalars("epoch_steps_per_second"))
    assert "keras" not in train.Tags()["tensors"]
    callback.on_test_end({"loss": 0.25, "accuracy": 0.5})  # what evaluate()/validation report at the end
    callback.on_train_end()
    (event,) = _load(tmp_path / "validation").Scalars("evaluation_loss_vs_iterations")
    assert (event.step, event.value) == (8, 0.25)


def test_histograms_and_images_of_the_weights(tmp_path):
    model, x, y = _model_and_data()
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[
        ks.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, write_images=True, write_graph=False)])
    train = _load(tmp_path / "train")
    kernel = model.layers[-1].weights[0].numpy()
    name = f"{model.layers[-1].name}/{model.layers[-1].weights[0].name}"
    histo = train.Histograms(f"{name}/histogram")[-1].histogram_value
    assert histo.num == kernel.size and histo.min == pytest.approx(kernel.min()) and histo.max == pytest.approx(
        kernel.max())
    assert histo.sum == pytest.approx(float(kernel.astype(np.float64).sum()), rel=1e-6)
    assert sum(histo.bucket) == kernel.size and len(histo.bucket) == len(histo.bucket_limit) == 30
    image = train.Images(f"{name}/image")[-1]
    assert (image.height, image.width) == (kernel.shape[1], kernel.shape[0])  # the long side across (18 x 3)
    from PIL import Image
    import io
    picture = np.asarray(Image.open(io.BytesIO(image.encoded_image_string)))
    expected = np.round((kernel.T - kernel.min()) / (kernel.max() - kernel.min()) * 255)
    np.testing.assert_array_equal(picture, expected.astype(np.uint8))
    conv = model.layers[0]
    assert len([t for t in train.Tags()["images"] if t.startswith(f"{conv.name}/")]) == 2 + 1  # one picture per filter (3x3x1 kernels, 2 filters) + the bias


@pytest.mark.parametrize("kwargs, match", [
    ({"profile_batch": 2}, "Profiling is not available"),
    ({"embeddings_freq": 1}, "Embedding layer"),
    ({"update_freq": 0}, "update_freq"),
    ({"histogram_freq": -1}, "histogram_freq"),
    ({"log_dir": 3}, "log_dir"),
])
def test_refused_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ks.callbacks.TensorBoard(**kwargs)
