"""``keras.callbacks.TensorBoard`` without TensorFlow: event files written here, read by TensorBoard.

An event file is a sequence of TFRecords (length, masked CRC-32C of the
length, payload, masked CRC-32C of the payload), each payload one ``Event``
protocol buffer. Only the few messages TensorBoard's scalar, histogram, image
and Keras-graph dashboards read are encoded, by hand, so no protobuf package is
needed. Field numbers are those of tensorflow/core/util/event.proto and
tensorflow/core/framework/summary.proto.

Tags and directories are Keras 3's (keras/src/callbacks/tensorboard.py):
``LOG_DIR/train`` holds ``epoch_loss``, ``epoch_<metric>``,
``epoch_learning_rate`` (and ``batch_<name>`` every ``update_freq`` batches);
``LOG_DIR/validation`` holds ``epoch_<metric>`` of the validation data and
``evaluation_<name>_vs_iterations``.
"""

from __future__ import annotations

import itertools
import numbers
import os
import socket
import struct
import time
import zlib

import numpy as np

from .base import Callback

__all__ = ["TensorBoard", "EventFileWriter", "crc32c"]

# ------------------------------------------------------------------ records

_CRC32C_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0x82F63B78 if _crc & 1 else _crc >> 1  # Castagnoli polynomial, reflected
    _CRC32C_TABLE.append(_crc)


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum of TFRecord framing."""
    crc = 0xFFFFFFFF
    table = _CRC32C_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return header + struct.pack("<I", _masked_crc(header)) + payload + struct.pack("<I", _masked_crc(payload))


# --------------------------------------------------------- protocol buffers


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64 values are ten-byte two's complement varints
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _field(number: int, wire: int, body: bytes) -> bytes:
    return _varint(number << 3 | wire) + body


def _int(number: int, value: int) -> bytes:
    return _field(number, 0, _varint(int(value)))


def _double(number: int, value: float) -> bytes:
    return _field(number, 1, struct.pack("<d", value))


def _float(number: int, value: float) -> bytes:
    return _field(number, 5, struct.pack("<f", value))


def _bytes(number: int, value: bytes) -> bytes:
    return _field(number, 2, _varint(len(value)) + value)


def _packed_doubles(number: int, values) -> bytes:
    return _bytes(number, np.asarray(values, dtype="<f8").tobytes())


def _event(step: int, summary_values: list[bytes] = (), file_version: str | None = None) -> bytes:
    body = _double(1, time.time()) + _int(2, step)
    if file_version is not None:
        body += _bytes(3, file_version.encode())
    if summary_values:
        body += _bytes(5, b"".join(_bytes(1, value) for value in summary_values))  # Summary.value
    return body


def _scalar_value(tag: str, value: float) -> bytes:
    return _bytes(1, tag.encode()) + _float(2, value)  # Summary.Value.tag, .simple_value


def _histogram_value(tag: str, values: np.ndarray, buckets: int = 30) -> bytes:
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=buckets if high > low else 1)
    histo = (_double(1, low) + _double(2, high) + _double(3, values.size) + _double(4, float(values.sum()))
             + _double(5, float(np.square(values).sum())) + _packed_doubles(6, edges[1:])
             + _packed_doubles(7, counts))
    return _bytes(1, tag.encode()) + _bytes(5, histo)  # Summary.Value.histo (a HistogramProto)


def _png(image: np.ndarray) -> bytes:
    """A grayscale 8-bit PNG of a 2-D uint8 array."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    height, width = image.shape
    rows = b"".join(b"\x00" + image[r].tobytes() for r in range(height))  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _image_value(tag: str, image: np.ndarray) -> bytes:
    low, high = float(image.min()), float(image.max())
    scaled = np.zeros(image.shape) if high == low else (image - low) / (high - low)
    pixels = np.round(scaled * 255).astype(np.uint8)
    body = _int(1, pixels.shape[0]) + _int(2, pixels.shape[1]) + _int(3, 1) + _bytes(4, _png(pixels))
    return _bytes(1, tag.encode()) + _bytes(4, body)  # Summary.Value.image


def _keras_model_value(model_json: str) -> bytes:
    # What keras_model_summary writes: a string tensor with the graph_keras_model plugin's metadata.
    plugin = _bytes(1, b"graph_keras_model") + _bytes(2, b"1")
    tensor = _int(1, 7) + _bytes(2, b"") + _bytes(8, model_json.encode())  # DT_STRING, scalar shape, string_val
    return _bytes(1, b"keras") + _bytes(9, _bytes(1, plugin)) + _bytes(8, tensor)


_file_counter = itertools.count()


class EventFileWriter:
    """Appends events to a new ``events.out.tfevents.*`` file in ``log_dir`` (created lazily, as TensorFlow's)."""

    def __init__(self, log_dir: str):
        self.log_dir = log_dir
        self._file = None

    def _open(self):
        if self._file is None:
            os.makedirs(self.log_dir, exist_ok=True)
            name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}."
                    f"{next(_file_counter)}.v2")
            self.path = os.path.join(self.log_dir, name)
            self._file = open(self.path, "ab")
            self._file.write(_record(_event(0, file_version="brain.Event:2")))
        return self._file

    def add(self, step: int, values: list[bytes]) -> None:
        self._open().write(_record(_event(int(step), values)))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# ----------------------------------------------------------------- callback


def _non_negative_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"`{name}` must be a non-negative integer. Received: {name}={value!r}.")
    return int(value)


class TensorBoard(Callback):
    """Write losses, metrics, the learning rate, weight histograms and images for TensorBoard.

    Parameters are Keras 3's. ``histogram_freq``: every that many epochs, a
    histogram of each weight (``write_images=True`` adds each 1-D/2-D/3x3-style
    kernel as a grayscale image, as Keras). ``write_graph``: the model's JSON
    config for the graph dashboard's conceptual graph. ``update_freq``:
    ``"epoch"``, ``"batch"`` or every N batches for ``batch_<name>`` scalars.
    ``write_steps_per_second``: the training speed as a scalar. Profiling
    (``profile_batch``) and embeddings (kernelscope has no Embedding layer) are
    refused with an error, as Keras refuses profiling on its NumPy/torch backends.

    >>> import kernelscope as ks
    >>> tensorboard = ks.callbacks.TensorBoard(log_dir="logs")  # model.fit(..., callbacks=[tensorboard])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"`log_dir` must be a path. Received: log_dir={log_dir!r}.")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _non_negative_int("histogram_freq", histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch" and (isinstance(update_freq, bool) or not isinstance(update_freq, numbers.Integral)
                                         or update_freq < 1):
            raise ValueError('`update_freq` must be "epoch", "batch" or a positive integer (a number of batches). '
                             f"Received: update_freq={update_freq!r}.")
        self.update_freq = update_freq
        if profile_batch not in (0, None, "0", (0, 0), [0, 0]):
            raise ValueError("Profiling is not available in kernelscope (as in Keras's NumPy and torch backends). "
                             f"Received: profile_batch={profile_batch!r} (must be 0).")
        if embeddings_freq or embeddings_metadata is not None:
            raise ValueError("Embedding visualisations need an Embedding layer, which kernelscope does not have. "
                             f"Received: embeddings_freq={embeddings_freq!r}, "
                             f"embeddings_metadata={embeddings_metadata!r}.")
        self.embeddings_freq = 0
        self._writers: dict[str, EventFileWriter] = {}

    def _writer(self, kind: str) -> EventFileWriter:
        if kind not in self._writers:
            self._writers[kind] = EventFileWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def set_model(self, model) -> None:
        super().set_model(model)
        self._close_writers()  # a new model (or a new fit) writes new files, as Keras resets its writers
        self._global_train_batch = 0
        self._global_test_batch = 0
        if self.write_graph and hasattr(model, "to_json"):
            self._writer("train").add(0, [_keras_model_value(model.to_json())])

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = (time.perf_counter(), self._iterations())

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        values = [_scalar_value(f"batch_{k}", v) for k, v in _scalars(logs).items()]
        if self.write_steps_per_second:
            values.append(_scalar_value("batch_steps_per_second",
                                        1.0 / max(time.perf_counter() - self._batch_start, 1e-9)))
        self._writer("train").add(step, values)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations") and logs:
            values = [_scalar_value(f"evaluation_{k}_vs_iterations", v) for k, v in _scalars(logs).items()]
            self._writer("validation").add(int(optimizer.iterations), values)
            self._writer("validation").flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = _scalars(logs)
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            start, iterations = self._epoch_start
            train["steps_per_second"] = (self._iterations() - iterations) / max(time.perf_counter() - start, 1e-9)
        if train:
            self._writer("train").add(epoch, [_scalar_value(f"epoch_{k}", v) for k, v in train.items()])
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if val:
            self._writer("validation").add(epoch, [_scalar_value(f"epoch_{k}", v) for k, v in val.items()])
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        self._close_writers()

    def _iterations(self) -> int:
        optimizer = getattr(self.model, "optimizer", None)
        return int(getattr(optimizer, "iterations", 0) or 0)

    def _log_weights(self, epoch: int) -> None:
        values = []
        for layer in self.model.layers:
            for weight in layer.weights:
                array = np.asarray(weight.numpy())
                if array.size == 0:
                    continue
                tag = f"{layer.name}/{weight.name}".replace(":", "_")
                values.append(_histogram_value(f"{tag}/histogram", array))
                if self.write_images:
                    images = _weight_images(array)
                    if len(images) == 1:
                        values.append(_image_value(f"{tag}/image", images[0]))
                    else:  # tf.summary.image's default max_outputs=3 and its per-image tags
                        values += [_image_value(f"{tag}/image/{i}", im) for i, im in enumerate(images[:3])]
        if values:
            self._writer("train").add(epoch, values)

    def _close_writers(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


def _scalars(logs) -> dict:
    """The finite-or-not float values of ``logs`` (non-scalar entries are skipped, as they are not summaries)."""
    out = {}
    for key, value in (logs or {}).items():
        array = np.asarray(value)
        if array.size == 1 and array.dtype.kind in "biuf":
            out[str(key)] = float(array.reshape(()))
    return out


def _weight_images(weight: np.ndarray) -> list:
    """A weight as 2-D grayscale pictures, laid out as Keras's ``_log_weight_as_image``.

    A bias is one row, a Dense kernel one picture with its long side across, a
    3-D weight one picture per last-axis slice (Keras's channels-first view). A
    4-D kernel is left out: Keras writes it only when its last axis has 1, 3 or
    4 entries (as colour channels), which this grayscale writer does not do.
    """
    w = np.squeeze(weight)
    if w.ndim == 1:
        return [w.reshape(1, -1)]
    if w.ndim == 2:
        return [w.T if w.shape[0] > w.shape[1] else w]
    if w.ndim == 3:
        return list(np.moveaxis(w, 2, 0))
    return []
