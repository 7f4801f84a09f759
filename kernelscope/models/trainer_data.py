"""The data half of the Trainer: checked arrays, in the structure the user gave, and batch sources.

Arrays are checked whole before the first step (a bad value never leaves a
half-trained model); batches from a PyDataset, a generator or an iterable are
checked the same way one at a time. Values are cast to the model's dtype
before the NaN/inf check, so float64 data beyond float32's range is caught.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import no_grad
from ..layers.base import KerasTensor
from . import data_adapter as da
from .._tree import flatten as _leaves
from .._tree import map_structure as _map
from . import epoch_iterator as ei

__all__ = ["DataMixin", "flat_outputs"]


def flat_outputs(structure, names: list) -> list:
    """Model outputs (or targets) as a list in output order: a dict by name, a list, or one value."""
    if isinstance(structure, dict):
        if all(name in structure for name in names):
            return [structure[name] for name in names]
        return list(structure.values())
    if isinstance(structure, (list, tuple)):
        return list(structure)
    return [structure]


class DataMixin:
    """Turns ``x``, ``y``, ``sample_weight`` (arrays or a dataset) into checked batches."""

    # ---------------------------------------------------------------- inputs
    def _prepare_x(self, x, prefix: str = ""):
        """``(structure, flat list)`` of checked input arrays, in the model's input dtypes."""
        if x is None:
            raise ValueError(f"`{prefix}x` is required. Received: {prefix}x=None.")
        specs = self._input_specs()
        if specs:  # functional / built Sequential: inputs by name, in input order
            names = self.input_names
            flat = da.flatten_data(x, names, f"{prefix}x", [s.dtype for s in specs])
            structure = dict(zip(names, flat)) if isinstance(x, dict) else flat[0] if len(flat) == 1 else flat
        else:  # subclassed or unbuilt: the structure arrives in call() as given (Keras 3)
            dtype = np.dtype(self.dtype)
            if isinstance(x, (list, tuple)) and len(x) == 1 and hasattr(x[0], "shape") and hasattr(self, "_stack"):
                x = x[0]
            structure = _map(lambda v: da.to_array(v, f"{prefix}x", None), x)
            with np.errstate(over="ignore"):
                structure = _map(lambda a: a.astype(dtype) if a.dtype.kind in "biuf" and a.dtype != dtype else a,
                                 structure)
            flat = _leaves(structure)
        da.check_finite(flat, f"{prefix}x")
        return structure, flat

    def _build_for(self, x_struct, flat: list) -> None:
        """Build an unbuilt Sequential from the data's shape (Keras's deferred build)."""
        if not self.built and hasattr(self, "_stack"):
            self.build((None,) + tuple(flat[0].shape[1:]))
        elif not self._output_specs():  # a subclassed model: one probe call gives its outputs
            with no_grad():
                out = self(_map(lambda a: a[:1], x_struct), training=False)
            self._probed_outputs = [KerasTensor((None,) + t.shape[1:], t.dtype) for t in _leaves(out)]

    # --------------------------------------------------------------- targets
    def _loss_list(self) -> list:
        n = len(self.output_names)
        return self._compiled_loss.losses if self._compiled_loss is not None else [None] * n

    def _prepare_y(self, y, prefix: str = "", custom_step: bool = False):
        """``(structure, flat list)`` of checked targets; sparse labels become int64 class indices.

        A user's own step decides what it needs: without ``y`` it gets ``(x,)``, as in Keras."""
        if y is None:
            if self._compiled_loss is not None and not custom_step:
                raise ValueError(f"`{prefix}y` is required to train or evaluate with a compiled loss. "
                                 f"Received: {prefix}y=None.")
            return None, None
        specs = self._output_specs()
        names = self.output_names
        arrays = da.flatten_data(y, names, f"{prefix}y", None)
        losses = self._loss_list()
        out = []
        for array, spec, loss in zip(arrays, specs or [None] * len(arrays), losses):
            if da.loss_kind(loss) != "sparse" and array.dtype.kind == "f":
                with np.errstate(over="ignore"):  # out-of-range values become inf, reported below
                    array = array.astype(spec.dtype if spec is not None else self.dtype, copy=False)
            out.append(array)
        da.check_finite(out, f"{prefix}y")  # after the cast: float64 1e39 is inf in float32
        if self._compiled_loss is not None:
            out = da.check_targets(out, specs, losses, names, prefix)
        structure = dict(zip(names, out)) if isinstance(y, dict) else out[0] if len(out) == 1 else out
        return structure, out

    def _prepare(self, x, y, sample_weight=None, class_weight=None, prefix: str = "",
                 custom_step: bool = False) -> tuple:
        """Checked ``(x, y, sample_weight, n)``: structures of arrays and a float32 weight vector."""
        x_struct, xs = self._prepare_x(x, prefix)
        da.check_same_length(xs, [] if y is not None else None, None, prefix)  # before the probe call
        self._build_for(x_struct, xs)
        self._ensure_compiled_objects()
        y_struct, ys = self._prepare_y(y, prefix, custom_step)
        if ys is not None:
            self._ensure_metrics(ys)
        sw = da.sample_weight_array(sample_weight, len(xs[0]), f"{prefix}sample_weight")
        da.check_same_length(xs, ys, sw, prefix)
        if class_weight is not None:
            if ys is None:
                raise ValueError("`class_weight` needs targets `y` to weight. Received: y=None.")
            sw = da.class_weights_to_sample(class_weight, ys, sw)
        return x_struct, y_struct, sw, len(xs[0])

    # --------------------------------------------------------- batch sources
    def _batches(self, x, y, sample_weight, class_weight, batch_size, shuffle, steps, rng, prefix: str = "",
                 x_only: bool = False, custom_step: bool = False):
        """An ArrayBatches or StreamBatches over the data, checked before the first step.

        ``x_only`` (predict): a dataset's targets are dropped unchecked, as Keras ignores them.
        ``custom_step``: the step is user code, so a dataset's batches reach it as they come (only
        converted to arrays): a 3-tuple of images is not read as ``(x, y, sample_weight)``.
        """
        if ei.is_dataset(x):
            for name, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise ValueError(f"`{prefix}{name}` argument is not supported when using a dataset, generator "
                                     f"or PyDataset as `{prefix}x`: each batch gives (x, y, sample_weight). "
                                     f"Received: {prefix}{name} of type {type(value).__name__}.")
            if batch_size is not None:  # Keras 3 ignores it silently (its guide passes one); say so
                warnings.warn(f"`{'validation_' if prefix else ''}batch_size={batch_size!r}` is ignored: `{prefix}x` "
                              "is a dataset, generator or PyDataset, which yields whole batches.", stacklevel=4)
            if class_weight is not None:
                da.check_class_weight(class_weight)

            def convert(batch):
                if custom_step and class_weight is None:
                    return _map(self._convert_leaf, batch)
                bx, by, bsw = ei.unpack_x_y_sample_weight(batch)
                if x_only:
                    xb, flat = self._prepare_x(bx, prefix)
                    self._build_for(xb, flat)
                    return ei.pack_x_y_sample_weight(xb)
                return ei.pack_x_y_sample_weight(*self._prepare(bx, by, bsw, class_weight, prefix)[:3])

            return ei.StreamBatches(x, convert, steps, bool(shuffle), rng)
        x_struct, y_struct, sw, n = self._prepare(x, y, sample_weight, class_weight, prefix, custom_step)
        return ei.ArrayBatches(x_struct, y_struct, sw, n, da.check_batch_size(batch_size), shuffle, rng, steps)

    def _convert_leaf(self, value):
        """A batch entry as an ndarray (torch tensors included); floats in the model's dtype."""
        if not (hasattr(value, "__array__") or hasattr(value, "numpy")):
            return value
        array = da.to_array(value, "x", None) if not isinstance(value, np.ndarray) else value
        if array.dtype.kind == "f" and array.dtype != self.dtype:
            array = array.astype(self.dtype)
        return array

    def _validation_batches(self, validation_data, batch_size, steps, custom_step: bool = False):
        if ei.is_dataset(validation_data):
            return self._batches(validation_data, None, None, None, batch_size, False, steps, None, "validation_",
                                 custom_step=custom_step)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                             "val_sample_weight), or a dataset, generator or PyDataset. "
                             f"Received: {type(validation_data).__name__}.")
        sw = validation_data[2] if len(validation_data) == 3 else None
        batches = self._batches(validation_data[0], validation_data[1], sw, None, da.check_batch_size(batch_size),
                                False, steps, None, "validation_")
        self._probe_validation(batches.x)  # a shape error must come before any training, not after an epoch
        return batches

    def _probe_validation(self, x_struct) -> None:
        """Run one sample through the model; an error names the validation data's shapes, not the probe's."""
        from .model import adjust_input_rank, check_input_shape  # model.py imports this module

        flat = _leaves(x_struct)
        for i, (spec, array) in enumerate(zip(self._input_specs(), flat)):
            try:
                # the channel axis the model's call adds (Keras's _adjust_input_rank) is no mismatch
                check_input_shape(self.name, i, spec, adjust_input_rank(spec, array))
            except ValueError as err:
                raise ValueError(f"`validation_data` does not fit the model: {err}") from None
        try:
            with no_grad():
                self(_map(lambda a: a[:1], x_struct), training=False)
        except (ValueError, TypeError) as err:
            shapes = [tuple(a.shape) for a in flat]
            raise type(err)(f"`validation_data` x of shape {shapes[0] if len(shapes) == 1 else shapes} does not "
                            f"fit the model: {err}") from err
