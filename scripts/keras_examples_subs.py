"""The allowed substitutions for each keras-io yardstick example, as data.

Each example lists every change made to the original file, with the reason. The kinds
of change are the ones issue 13 allows: import lines, ``tf.GradientTape`` ->
``keras.GradientTape``, ``tf.<math>`` -> ``keras.ops.<math>``, local stand-in data (no
network here: ``_standin`` is ``keras_examples_standin``, put in scope by the runner),
fewer epochs / samples / steps and smaller images, and skipped Sequence/1-D parts.
A substitution must match exactly ``count`` times and keep the line count, so an
error's line number in the runner's output is the line of the original file.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sub:
    """Replace ``old`` with ``new`` (exactly ``count`` matches; whole lines if ``line``)."""

    old: str
    new: str
    why: str
    count: int = 1
    line: bool = False

    def __post_init__(self) -> None:
        if self.old.count("\n") != self.new.count("\n"):
            raise ValueError(f"substitution must keep the line count: {self.old!r} -> {self.new!r}")

    def apply(self, source: str, example: str) -> str:
        """Return ``source`` with the substitution made; raise if it matched a wrong number of times."""
        pattern = re.escape(self.old)
        if self.line:
            pattern = rf"(?m)^{pattern}$"
        found = len(re.findall(pattern, source))
        if found != self.count:
            raise ValueError(f"{example}: substitution {self.old!r} matched {found} time(s), "
                             f"expected {self.count} (has the source changed?)")
        return re.sub(pattern, lambda _: self.new, source)


@dataclass(frozen=True)
class Cut:
    """Blank out the text from ``start`` up to ``end`` (exclusive; ``None``: end of file)."""

    start: str
    end: str | None
    why: str

    def apply(self, source: str, example: str) -> str:
        """Return ``source`` with the part commented out, keeping its line count."""
        for marker in (self.start, self.end):
            if marker is not None and source.count(marker) != 1:
                raise ValueError(f"{example}: cut marker {marker!r} found {source.count(marker)} "
                                 f"time(s), expected once (has the source changed?)")
        begin = source.index(self.start)
        stop = len(source) if self.end is None else source.index(self.end)
        if stop <= begin:
            raise ValueError(f"{example}: cut end {self.end!r} comes before its start")
        removed = source[begin:stop]
        filler = f"# [run_keras_examples] skipped: {self.why}" + "\n" * removed.count("\n")
        return source[:begin] + filler + source[stop:]


@dataclass(frozen=True)
class Example:
    """One yardstick example: its substitutions, in the order they are applied."""

    subs: list = field(default_factory=list)

    @property
    def skipped(self) -> list[str]:
        """Why each left-out part is left out (the cuts' reasons)."""
        return [sub.why for sub in self.subs if isinstance(sub, Cut)]


def leftover_tensorflow(source: str) -> list[int]:
    """Lines whose code (not strings or comments) still uses TensorFlow or imports ``keras``."""
    names = {"tf", "tensorflow", "tf_image", "tf_io", "tensorflow_datasets"}
    lines, previous = set(), None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.NAME:
            continue
        imported = previous in ("import", "from") and tok.string.split(".")[0] == "keras"
        if tok.string in names or imported:
            lines.add(tok.start[0])
        previous = tok.string
    return sorted(lines)


# --- building blocks -------------------------------------------------------------------

IMPORT = "import line"


def imp(old: str, new: str) -> Sub:
    """An import line, matched as a whole line."""
    return Sub(old, new, IMPORT, line=True)


KERAS = imp("import keras", "import kernelscope as keras")
LAYERS = imp("from keras import layers", "from kernelscope import layers")
OPS = imp("from keras import ops", "from kernelscope import ops")
TF_DATA = imp("from tensorflow import data as tf_data", "from kernelscope import data as tf_data")
# `tf` is used only for tf.data (renamed below) and tf.<math> (mapped to keras.ops).
TF_AS_DATA = imp("import tensorflow as tf", "from kernelscope import data as tf_data")
NO_TF = imp("import tensorflow as tf", "# import tensorflow as tf: every tf.<name> is mapped below")
TAPE = "tf.GradientTape -> keras.GradientTape"
NO_TF_FUNCTION = Sub("@tf.function\n", "# @tf.function (graph compilation; kernelscope runs eagerly)\n",
                     "tf.function only compiles; removing it keeps the semantics")


def tape(count: int = 1) -> Sub:
    """``tf.GradientTape()`` -> ``keras.GradientTape()``."""
    return Sub("tf.GradientTape()", "keras.GradientTape()", TAPE, count)


def tf_op(tf_name: str, ops_name: str, count: int = 1, prefix: str = "keras.ops") -> Sub:
    """``tf.X(`` -> ``keras.ops.Y(`` (the Keras 3 name of the same math)."""
    return Sub(f"{tf_name}(", f"{prefix}.{ops_name}(", f"tf.<math> -> keras.ops: {tf_name}", count)


def tf_data_rename(count: int) -> Sub:
    """``tf.data.`` -> ``tf_data.`` (the tf.data-like ``kernelscope.data``)."""
    return Sub("tf.data.Dataset.", "tf_data.Dataset.", "tf.data -> kernelscope.data", count)


def data(old: str, new: str, count: int = 1) -> Sub:
    return Sub(old, new, "local stand-in data (no network here)", count)


def smaller(old: str, new: str, count: int = 1) -> Sub:
    return Sub(old, new, "fewer epochs / samples / steps, smaller images (2-core CPU)", count)


def mnist(n_train: int, n_test: int, call: str = "keras.datasets.mnist.load_data()") -> Sub:
    return data(call, f"_standin.mnist_load_data(n_train={n_train}, n_test={n_test})")




def decode(old: str, new: str) -> Sub:
    return Sub(old, new, "TensorFlow's file reading/decoding (tf.io, tf.image.decode_*) -> keras.utils.load_img / "
                         "img_to_array: no TensorFlow here and no ops equivalent; same pixels, channels and dtype")


def weights_none(old: str, new: str, count: int = 1) -> Sub:
    return Sub(old, new, 'no download here: weights="imagenet" -> weights=None (random weights)', count)


def skip(start: str, end: str | None, what: str) -> Cut:
    return Cut(start, end, f"{what} (Sequence/1-D layers are out of scope)")


# --- the 16 examples -------------------------------------------------------------------

EXAMPLES: dict[str, Example] = {}

EXAMPLES["mnist_convnet"] = Example([
    KERAS, LAYERS,
    mnist(1000, 200),
    smaller("epochs = 15", "epochs = 1"),
])

EXAMPLES["image_classification_from_scratch"] = Example([
    KERAS, LAYERS, TF_DATA,
    # PetImages/{Cat,Dog} are written by the runner (curl/unzip are shell blocks, not code).
    smaller("image_size = (180, 180)", "image_size = (48, 48)"),
    smaller("batch_size = 128", "batch_size = 16"),
    smaller("epochs = 25", "epochs = 1"),
])

EXAMPLES["autoencoder"] = Example([
    LAYERS,
    imp("from keras.datasets import mnist", "from kernelscope.datasets import mnist"),
    imp("from keras.models import Model", "from kernelscope.models import Model"),
    mnist(1000, 200, call="mnist.load_data()"),
    smaller("    epochs=50,", "    epochs=1,"),
    smaller("    epochs=100,", "    epochs=1,"),
])

EXAMPLES["siamese_contrastive"] = Example([
    KERAS, OPS,
    mnist(600, 100),
    smaller("epochs = 10", "epochs = 1"),
    smaller("x_train, x_val = x_train_val[:30000], x_train_val[30000:]",
            "x_train, x_val = x_train_val[:300], x_train_val[300:]"),
    smaller("y_train, y_val = y_train_val[:30000], y_train_val[30000:]",
            "y_train, y_val = y_train_val[:300], y_train_val[300:]"),
])

EXAMPLES["siamese_network"] = Example([
    # ~/.keras/left and right are written by the runner into the sandbox HOME.
    imp("import tensorflow as tf", "import kernelscope as keras; from kernelscope import data as tf_data"),
    imp("from keras import applications", "from kernelscope import applications"),
    LAYERS,
    imp("from keras import losses", "from kernelscope import losses"),
    OPS,
    imp("from keras import optimizers", "from kernelscope import optimizers"),
    imp("from keras import metrics", "from kernelscope import metrics"),
    imp("from keras import Model", "from kernelscope import Model"),
    imp("from keras.applications import resnet", "from kernelscope.applications import resnet"),
    smaller("target_shape = (200, 200)", "target_shape = (32, 32)"),
    # JPEG file -> float image in [0, 1]: TensorFlow's file decoding done by keras.utils.
    decode("image_string = tf.io.read_file(filename)", "image_string = keras.utils.load_img(filename)"),
    decode("image = tf.image.decode_jpeg(image_string, channels=3)",
           "image = keras.utils.img_to_array(image_string)"),
    Sub("image = tf.image.convert_image_dtype(image, tf.float32)", "image = image / 255.0",
        "convert_image_dtype uint8 -> float32 is a division by 255"),
    tf_op("tf.image.resize", "image.resize", prefix="ops"),
    tf_data_rename(4),
    Sub("tf.data.AUTOTUNE", "tf_data.AUTOTUNE", "tf.data -> kernelscope.data", 2),
    weights_none('weights="imagenet", input_shape=target_shape', 'weights=None, input_shape=target_shape'),
    tf_op("tf.square", "square", 2, prefix="ops"),
    tape(),
    tf_op("tf.maximum", "maximum", prefix="ops"),
    smaller("siamese_model.fit(train_dataset, epochs=10,", "siamese_model.fit(train_dataset, epochs=1,"),
])

EXAMPLES["grad_cam"] = Example([
    NO_TF, KERAS,
    smaller("img_size = (299, 299)", "img_size = (96, 96)"),
    data('img_path = keras.utils.get_file(\n    "african_elephant.jpg", "https://i.imgur.com/Bvro0YD.png"\n)',
         'img_path = _standin.image_file(\n    "african_elephant.jpg", 120, 160\n)'),
    tape(),
    tf_op("tf.argmax", "argmax"),
    tf_op("tf.reduce_mean", "mean"),
    Sub("[..., tf.newaxis]", "[..., None]", "tf.newaxis is None"),
    tf_op("tf.squeeze", "squeeze"),
    tf_op("tf.maximum", "maximum"),
    tf_op("tf.math.reduce_max", "max"),
    weights_none('model = model_builder(weights="imagenet")',
                 'model = model_builder(weights=None, input_shape=img_size + (3,))'),
    data('img_path = keras.utils.get_file(\n    "cat_and_dog.jpg",\n'
         '    "https://storage.googleapis.com/petbacker/images/blog/2017/dog-and-cat-cover.jpg",\n)',
         'img_path = _standin.image_file(\n    "cat_and_dog.jpg",\n    130, 170,\n)'),
])

EXAMPLES["integrated_gradients"] = Example([
    NO_TF, KERAS, LAYERS,
    imp("from keras.applications import xception", "from kernelscope.applications import xception"),
    smaller("img_size = (299, 299, 3)", "img_size = (96, 96, 3)"),
    weights_none('model = xception.Xception(weights="imagenet")',
                 "model = xception.Xception(weights=None, input_shape=img_size)"),
    data('img_path = keras.utils.get_file("elephant.jpg", "https://i.imgur.com/Bvro0YD.png")',
         'img_path = _standin.image_file("elephant.jpg", 120, 160)'),
    smaller("def get_img_array(img_path, size=(299, 299)):", "def get_img_array(img_path, size=(96, 96)):"),
    Sub("tf.cast(img_input, tf.float32)", 'keras.ops.cast(img_input, "float32")', "tf.<math> -> keras.ops: tf.cast"),
    tape(),
    tf_op("tf.expand_dims", "expand_dims"),
    Sub("tf.convert_to_tensor(grads, dtype=tf.float32)", 'keras.ops.convert_to_tensor(grads, dtype="float32")',
        "tf.<math> -> keras.ops: tf.convert_to_tensor"),
    tf_op("tf.reduce_mean", "mean", 2),
    tf_op("tf.convert_to_tensor", "convert_to_tensor"),
    Sub("tf.cast(xception.preprocess_input(img), dtype=tf.float32)",
        'keras.ops.cast(xception.preprocess_input(img), dtype="float32")', "tf.<math> -> keras.ops: tf.cast"),
    tf_op("tf.argmax", "argmax"),
    smaller("top_pred_idx=top_pred_idx, num_steps=50, num_runs=2",
            "top_pred_idx=top_pred_idx, num_steps=3, num_runs=2"),
])

EXAMPLES["visualizing_what_convnets_learn"] = Example([
    KERAS, NO_TF,
    smaller("img_width = 180", "img_width = 64"),
    smaller("img_height = 180", "img_height = 64"),
    weights_none('keras.applications.ResNet50V2(weights="imagenet", include_top=False)',
                 "keras.applications.ResNet50V2(weights=None, include_top=False)"),
    tf_op("tf.reduce_mean", "mean"),
    NO_TF_FUNCTION,
    tape(),
    Sub("tf.math.l2_normalize(grads)", "keras.ops.normalize(grads, axis=None)",
        "tf.<math> -> keras.ops: l2_normalize over all axes is normalize(axis=None)"),
    Sub("tf.random.uniform(", "keras.random.uniform(", "tf.random -> keras.random"),
    smaller("    iterations = 30", "    iterations = 3"),
    smaller("for filter_index in range(64):", "for filter_index in range(4):"),
    Sub("n = 8", "n = 2", "fewer filters: a 2x2 grid of the 4 computed", line=True),
])

EXAMPLES["oxford_pets_image_segmentation"] = Example([
    # images/ and annotations/trimaps/ are written by the runner (wget/tar are shell blocks).
    imp("from keras.utils import load_img", "from kernelscope.utils import load_img"),
    KERAS, TF_DATA,
    LAYERS,
    imp("from tensorflow import image as tf_image", "# tf_image.resize -> keras.ops.image.resize below"),
    imp("from tensorflow import io as tf_io", "# tf_io file decoding -> keras.utils.load_img below"),
    decode("input_img = tf_io.read_file(input_img_path)", "input_img = keras.utils.load_img(input_img_path)"),
    decode("input_img = tf_io.decode_png(input_img, channels=3)", "input_img = keras.utils.img_to_array(input_img)"),
    Sub("tf_image.resize(input_img, img_size)", "keras.ops.image.resize(input_img, img_size)",
        "tf.<math> -> keras.ops: tf.image.resize"),
    Sub('tf_image.convert_image_dtype(input_img, "float32")', 'keras.ops.cast(input_img, "float32")',
        "convert_image_dtype float32 -> float32 is a cast (no rescaling)"),
    decode("target_img = tf_io.read_file(target_img_path)",
           'target_img = keras.utils.load_img(target_img_path, color_mode="grayscale")'),
    decode("target_img = tf_io.decode_png(target_img, channels=1)", "target_img = keras.utils.img_to_array(target_img)"),
    Sub('tf_image.resize(target_img, img_size, method="nearest")',
        'keras.ops.image.resize(target_img, img_size, interpolation="nearest")',
        "tf.<math> -> keras.ops: tf.image.resize (method= is Keras's interpolation=)"),
    Sub('tf_image.convert_image_dtype(target_img, "uint8")', 'keras.ops.cast(target_img, "uint8")',
        "tf's nearest resize keeps uint8, so convert_image_dtype uint8 -> uint8 is a cast"),
    smaller("img_size = (160, 160)", "img_size = (64, 64)"),
    smaller("batch_size = 32", "batch_size = 8"),
    smaller("val_samples = 1000", "val_samples = 12"),
    smaller("epochs = 50", "epochs = 1"),
])

EXAMPLES["neural_style_transfer"] = Example([
    KERAS, NO_TF,
    imp("from keras.applications import vgg19", "from kernelscope.applications import vgg19"),
    data('base_image_path = keras.utils.get_file("paris.jpg", "https://i.imgur.com/F28w3Ac.jpg")',
         'base_image_path = _standin.image_file("paris.jpg", 96, 128)'),
    data('keras.utils.get_file(\n    "starry_night.jpg", "https://i.imgur.com/9ooB60I.jpg"\n)',
         '_standin.image_file(\n    "starry_night.jpg", 90, 120\n)'),
    smaller("img_nrows = 400", "img_nrows = 64"),
    tf_op("tf.convert_to_tensor", "convert_to_tensor"),
    tf_op("tf.transpose", "transpose", 2),
    tf_op("tf.reshape", "reshape"),
    tf_op("tf.shape", "shape"),
    tf_op("tf.matmul", "matmul"),
    tf_op("tf.reduce_sum", "sum", 3),
    tf_op("tf.square", "square", 4),
    tf_op("tf.pow", "power"),
    tf_op("tf.concat", "concatenate"),
    tf_op("tf.zeros", "zeros"),
    weights_none('vgg19.VGG19(weights="imagenet", include_top=False)', "vgg19.VGG19(weights=None, include_top=False)"),
    NO_TF_FUNCTION,
    tape(),
    Sub("tf.Variable(", "keras.Variable(", "tf.Variable -> keras.Variable"),
    smaller("iterations = 4000", "iterations = 2"),
    smaller("    if i % 100 == 0:", "    if i % 1 == 0:"),
    smaller('"_at_iteration_4000.png"', '"_at_iteration_2.png"'),
])

EXAMPLES["sequential_model"] = Example([KERAS, LAYERS, OPS])

EXAMPLES["functional_api"] = Example([
    KERAS, LAYERS, OPS,
    mnist(2000, 500),
    smaller("x_train.reshape(60000, 784)", "x_train.reshape(2000, 784)"),
    smaller("x_test.reshape(10000, 784)", "x_test.reshape(500, 784)"),
    skip("num_tags = 12  # Number of unique issue tags", '"""\nWhen calling fit with a `Dataset` object',
         "multi-input ticket model (Embedding, LSTM)"),
    data("keras.datasets.cifar10.load_data()", "_standin.cifar10_load_data(n_train=500, n_test=100)"),
    skip("# Embedding for 1000 unique words mapped to 128-dimensional vectors", '"""\n## Extract and reuse nodes',
         "shared Embedding layer"),
    weights_none("vgg19 = keras.applications.VGG19()", "vgg19 = keras.applications.VGG19(weights=None)"),
    skip("units = 32\ntimesteps = 10\ninput_dim = 5\n\n# Define a Functional model",
         '"""\nYou can use any subclassed layer or model in the functional API',
         "mix-and-match: the functional model with GlobalAveragePooling1D and the CustomRNN wrapping it"),
    skip("inputs = keras.Input(batch_shape=(batch_size, timesteps, input_dim))",
         "rnn_model = CustomRNN()\n_ = rnn_model(ops.zeros((1, 10, 5)))",
         "mix-and-match: the Conv1D front of the custom-RNN functional model (the CustomRNN itself still runs)"),
])

EXAMPLES["training_with_built_in_methods"] = Example([
    TF_AS_DATA, KERAS, LAYERS, OPS,
    mnist(6000, 1000),
    smaller("x_train.reshape(60000, 784)", "x_train.reshape(6000, 784)"),
    smaller("x_test.reshape(10000, 784)", "x_test.reshape(1000, 784)"),
    smaller("x_val = x_train[-10000:]", "x_val = x_train[-1000:]"),
    smaller("y_val = y_train[-10000:]", "y_val = y_train[-1000:]"),
    smaller("x_train = x_train[:-10000]", "x_train = x_train[:-1000]"),
    smaller("y_train = y_train[:-10000]", "y_train = y_train[:-1000]"),
    skip('image_input = keras.Input(shape=(32, 32, 3), name="img_input")', '"""\n## Using callbacks',
         "multi-input / multi-output section (its model has a Conv1D + GlobalMaxPooling1D branch)"),
    tf_data_rename(8),
])

EXAMPLES["writing_your_own_callbacks"] = Example([
    KERAS,
    mnist(1000, 1000),
    Sub("np.Inf", "np.inf", "NumPy 2 removed the np.Inf alias (environment, not Keras)"),
])

EXAMPLES["transfer_learning"] = Example([
    KERAS, LAYERS,
    imp("import tensorflow_datasets as tfds", "tfds = _standin.tfds  # stand-in cats_vs_dogs (no download)"),
    TF_DATA,
    smaller("resize_fn = keras.layers.Resizing(150, 150)", "resize_fn = keras.layers.Resizing(80, 80)"),
    smaller("batch_size = 64", "batch_size = 8"),
    weights_none('weights="imagenet",  # Load weights pre-trained on ImageNet.',
                 "weights=None,  # no download here: random weights"),
    # Twice each: once in the guide's prose code block, once in the code that runs.
    smaller("    input_shape=(150, 150, 3),", "    input_shape=(80, 80, 3),", count=2),
    smaller("inputs = keras.Input(shape=(150, 150, 3))", "inputs = keras.Input(shape=(80, 80, 3))", count=2),
])

EXAMPLES["custom_train_step_in_tensorflow"] = Example([
    TF_AS_DATA, KERAS, LAYERS,
    tape(5),
    tf_op("tf.shape", "shape", 2),
    tf_op("tf.concat", "concatenate", 2),
    tf_op("tf.ones", "ones"),
    tf_op("tf.zeros", "zeros", 2),
    tf_data_rename(1),
    mnist(256, 64),
    Sub("batch_size = 64", "batch_size = 16", "smaller batches (2-core CPU)", line=True),
    smaller("gan.fit(dataset.take(100), epochs=1)", "gan.fit(dataset.take(2), epochs=1)"),
])
