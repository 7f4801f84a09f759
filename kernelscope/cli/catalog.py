"""What the command line trains on: datasets by name and builtin architectures.

Every builtin model reads raw pixel values 0..255 (it starts with
``Rescaling(1/255)``), so the loaders here return float32 pixel values 0..255
(the 8x8 digits, values 0..16, are scaled up) and ``predict`` feeds image files
unscaled.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np

DATASETS = ("digits", "mnist", "fashion-mnist")
ARCHITECTURES = ("small-cnn", "lenet5", "mlp")


class UsageError(Exception):
    """A bad name or option value: exit code 2."""


class CommandError(Exception):
    """A runtime failure (missing file, unwritable folder, ...): exit code 1."""


# ----------------------------------------------------------------- data


def load_data(name: str, image_size=(64, 64), seed: int = 0, color_mode: str = "rgb", download: bool = False):
    """``(x_train, y_train), (x_test, y_test), class_names`` with pixel values 0..255 as float32.

    ``name`` is a builtin dataset or a folder of class subfolders (with
    ``train/`` and ``test/`` subfolders, or else split 80/20 with ``seed``);
    ``download`` fetches missing MNIST / Fashion-MNIST files.
    """
    from .. import datasets

    if name == "digits":
        (x_train, y_train), (x_test, y_test) = datasets.load_digits()
        return (x_train * 255, y_train), (x_test * 255, y_test), [str(i) for i in range(10)]
    if name in ("mnist", "fashion-mnist"):
        loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        try:
            (x_train, y_train), (x_test, y_test) = loader(download=download)
        except FileNotFoundError as error:
            raise CommandError(f"{error} On the command line: add --download.") from None
        names = [str(i) for i in range(10)] if name == "mnist" else list(datasets.FASHION_MNIST_CLASS_NAMES)
        as_images = lambda x: x[..., None].astype(np.float32)
        return (as_images(x_train), y_train), (as_images(x_test), y_test), names
    folder = pathlib.Path(name)
    if not folder.is_dir():
        raise UsageError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)} or an image folder")
    return _load_folder(folder, tuple(image_size), seed, color_mode)


def _load_folder(folder: pathlib.Path, size: tuple, seed: int, color: str):
    from ..datasets import image_folder

    try:
        if (folder / "train").is_dir() and (folder / "test").is_dir():
            train = image_folder(folder / "train", image_size=size, color_mode=color, seed=seed)
            test = image_folder(folder / "test", image_size=size, color_mode=color, shuffle=False,
                                class_names=train.class_names)
        else:
            train, test = image_folder(folder, image_size=size, color_mode=color, seed=seed,
                                       validation_split=0.2, subset="both")
    except (ValueError, FileNotFoundError) as error:
        raise CommandError(str(error)) from None
    return (train.images, train.labels), (test.images, test.labels), train.class_names


# --------------------------------------------------------------- models


def build_model(name: str, input_shape: tuple, n_classes: int):
    """A builtin architecture (or a model config JSON file) for ``input_shape`` and ``n_classes``."""
    import kernelscope as ks

    if name.endswith(".json"):
        return _model_from_json(pathlib.Path(name))
    builders = {"small-cnn": small_cnn, "lenet5": lenet5, "mlp": mlp}
    if name not in builders:
        raise UsageError(f"unknown model {name!r}: expected one of {', '.join(ARCHITECTURES)} or a FILE.json config")
    return builders[name](ks, tuple(input_shape), n_classes)


def small_cnn(ks, input_shape, n_classes):
    """Two conv/pool blocks (a third and fourth for images larger than 32 pixels), dropout, softmax."""
    L = ks.layers
    blocks = [L.Conv2D(32, 3, padding="same", activation="relu", name="conv1"), L.MaxPooling2D(2, name="pool1"),
              L.Conv2D(64, 3, padding="same", activation="relu", name="conv2"), L.MaxPooling2D(2, name="pool2")]
    side = min(input_shape[:2]) // 4
    for i in range(3, 5):
        if side > 8:
            blocks += [L.Conv2D(64, 3, padding="same", activation="relu", name=f"conv{i}"),
                       L.MaxPooling2D(2, name=f"pool{i}")]
            side //= 2
    return ks.Sequential([ks.Input(input_shape), L.Rescaling(1 / 255, name="rescale"), *blocks,
                          L.Flatten(name="flatten"), L.Dropout(0.25, name="dropout"),
                          L.Dense(n_classes, activation="softmax", name="predictions")], name="small_cnn")


def lenet5(ks, input_shape, n_classes):
    """LeNet-5 (tanh, average pooling); the second conv keeps "same" padding on inputs under 20 pixels."""
    L = ks.layers
    second = "valid" if min(input_shape[:2]) >= 20 else "same"
    return ks.Sequential([
        ks.Input(input_shape), L.Rescaling(1 / 255, name="rescale"),
        L.Conv2D(6, 5, padding="same", activation="tanh", name="conv1"), L.AveragePooling2D(2, name="pool1"),
        L.Conv2D(16, 5, padding=second, activation="tanh", name="conv2"), L.AveragePooling2D(2, name="pool2"),
        L.Flatten(name="flatten"), L.Dense(120, activation="tanh", name="fc1"),
        L.Dense(84, activation="tanh", name="fc2"), L.Dense(n_classes, activation="softmax", name="predictions"),
    ], name="lenet5")


def mlp(ks, input_shape, n_classes):
    """Flatten, two hidden ReLU layers, softmax."""
    L = ks.layers
    return ks.Sequential([
        ks.Input(input_shape), L.Rescaling(1 / 255, name="rescale"), L.Flatten(name="flatten"),
        L.Dense(128, activation="relu", name="dense1"), L.Dropout(0.2, name="dropout"),
        L.Dense(64, activation="relu", name="dense2"), L.Dense(n_classes, activation="softmax", name="predictions"),
    ], name="mlp")


def _model_from_json(path: pathlib.Path):
    from .._io import open_regular_file
    from .._safe_load import MAX_CONFIG_BYTES
    from ..saving.serialization import deserialize_layer

    try:
        with open_regular_file(path, "a model config") as handle:
            text = handle.read(MAX_CONFIG_BYTES + 1)  # bounded: a hostile file is never read whole
        if len(text) > MAX_CONFIG_BYTES:
            raise CommandError(f"{path} is larger than the cap for a model config ({MAX_CONFIG_BYTES:,} bytes)")
        config = json.loads(text.decode("utf-8"))
    except ValueError as error:
        if isinstance(error, (UnicodeDecodeError, json.JSONDecodeError)):
            raise CommandError(f"{path} is not a JSON model config: {error}") from None
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"cannot read model config {path}: {error.strerror or error}") from None
    if isinstance(config, dict) and "class_name" not in config and "model" in config:
        config = config["model"]  # the config.json of a saved model file
    elif isinstance(config, dict) and "class_name" not in config and "layers" in config:
        # a bare model.get_config(): a functional config lists its input layers
        config = {"class_name": "Functional" if "input_layers" in config else "Sequential", "config": config}
    try:
        return deserialize_layer(config)
    except (KeyError, TypeError, ValueError) as error:
        raise CommandError(f"{path} is not a valid model config: {error}") from None


def load_model_file(path: str):
    """``ks.models.load_model`` with one-line errors."""
    import kernelscope as ks

    from .common import require_regular_file  # common imports this module's errors

    require_regular_file(path, "model file")
    file = pathlib.Path(path)
    try:
        return ks.models.load_model(file)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CommandError(_loader_message(path, str(file), str(error))) from None


def _loader_message(path: str, loaded: str, message: str) -> str:
    """The loader's message, said once: it already names the file (quoted as ``loaded``), so only unquote it."""
    quoted = f"'{loaded}'"
    if message.startswith(quoted + " "):
        return path + message[len(quoted):]
    if quoted in message:
        return message
    return f"{path} is not a kernelscope model file: {message}"


def model_input_shape(model) -> tuple:
    """The model's (single) input shape without the batch axis, e.g. ``(8, 8, 1)``."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or any(d is None for d in inputs[0].shape[1:]):
        shapes = [tuple(t.shape) for t in inputs] or "unknown"
        raise CommandError(f"the model must take one batch of images of fixed size (batch, height, width, "
                           f"channels); its inputs are {shapes}")
    return tuple(inputs[0].shape[1:])


def check_compatible(model, x: np.ndarray, n_classes: int, what: str) -> None:
    """One-line errors when ``x`` or the class count does not fit the model."""
    expected = model_input_shape(model)
    if tuple(x.shape[1:]) != expected:
        raise CommandError(f"the model expects input of shape {expected}, but {what} has images of shape "
                           f"{tuple(x.shape[1:])}")
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) != 1 or outputs[0].shape[-1] != n_classes:
        shapes = [tuple(t.shape) for t in outputs]
        raise CommandError(f"the model must have one output of {n_classes} class probabilities for {what}; "
                           f"its outputs are {shapes}")


