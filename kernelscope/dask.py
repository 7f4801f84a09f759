"""Inference and feature extraction over many images on a Dask cluster (``pip install "kernelscope[dask]"``).

The model (or feature extractor) goes to every worker once, with ``client.scatter(...,
broadcast=True)``; each block of the input array, chunked along the batch axis only, is
predicted where it lives. Image folders are read lazily, one partition of files per task,
so no machine holds the whole folder. Hyperparameter search needs nothing from here: the
``ks.sklearn`` estimators pickle cleanly (a model pickles as its saved file), so
``GridSearchCV(..., n_jobs=-1)`` runs under ``joblib.parallel_backend("dask")``.

>>> import kernelscope as ks                                    # doctest: +SKIP
>>> from distributed import Client                              # doctest: +SKIP
>>> client = Client()                                           # doctest: +SKIP
>>> images, labels, names = ks.dask.image_folder("photos/", (224, 224))   # doctest: +SKIP
>>> probabilities = ks.dask.predict(model, images).compute()    # doctest: +SKIP
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["predict", "feature_extract", "image_folder"]


def _require():
    try:
        import dask.array as da
        import distributed
    except ImportError:
        raise ImportError('ks.dask needs Dask: pip install "kernelscope[dask]"') from None
    return da, distributed


def _client(client):
    _, distributed = _require()
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise TypeError(f"`client` must be a distributed.Client. Received: client={client!r}.")
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError("ks.dask needs a running Dask cluster: create one first, e.g. "
                         "`from distributed import Client; client = Client()` (a local cluster) or "
                         "`Client('tcp://scheduler:8786')`, or pass `client=`.") from None


def _batch_chunked(x, name: str):
    """``x`` as a dask array split along axis 0 only (one block holds whole images)."""
    da, _ = _require()
    if not hasattr(x, "ndim") or x.ndim < 2:
        raise ValueError(f"`{name}` must be an array of samples (batch first, at least 2-D). Received: {x!r:.100}.")
    x = x if isinstance(x, da.Array) else da.from_array(np.asarray(x), chunks=(256,) + np.shape(x)[1:])
    if any(len(c) > 1 for c in x.chunks[1:]):
        x = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
    return x


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}.")
    return int(value)


def _predict_block(block: np.ndarray, model, batch_size: int) -> np.ndarray:
    return np.asarray(model.predict(block, batch_size=batch_size, verbose=0))


def _transform_block(block: np.ndarray, extractor) -> np.ndarray:
    return extractor.transform(block)


def predict(model, x, batch_size: int = 32, client=None):
    """``model.predict`` over a dask array, block by block on the workers.

    Parameters
    ----------
    model : ks.Model
        A built model with one output.
    x : dask.array.Array or array-like
        Samples, batch first; rechunked so that only the batch axis is split.
    batch_size : int, default=32
        The batch size inside each block.
    client : distributed.Client, optional
        Defaults to the current client.

    Returns
    -------
    dask.array.Array
        The predictions (lazy: call ``.compute()``), chunked as ``x`` along axis 0.
    """
    batch_size = _positive_int(batch_size, "batch_size")
    x = _batch_chunked(x, "x")
    out_shape = _single_output_shape(model, x.shape[1:])
    remote = _client(client).scatter(model, broadcast=True)
    return x.map_blocks(_predict_block, remote, batch_size, dtype=np.float32,
                        chunks=(x.chunks[0],) + tuple((d,) for d in out_shape), drop_axis=_dropped(x, out_shape),
                        new_axis=_added(x, out_shape))


def feature_extract(model, x, layer=None, pooling: str | None = "avg", batch_size: int = 32,
                    preprocess="auto", client=None):
    """:class:`ks.sklearn.FeatureExtractor`'s ``transform`` over a dask array, on the workers.

    ``layer``, ``pooling``, ``batch_size`` and ``preprocess`` mean what they mean for
    ``FeatureExtractor``; ``model`` may also be a FeatureExtractor already configured.
    Returns a lazy ``(n_samples, n_features)`` float32 dask array.
    """
    from .sklearn import FeatureExtractor

    x = _batch_chunked(x, "x")
    extractor = model if isinstance(model, FeatureExtractor) else FeatureExtractor(
        model, layer=layer, pooling=pooling, batch_size=batch_size, preprocess=preprocess)
    extractor.fit(np.asarray(x[:1].compute()))          # checks the parameters, learns the width
    remote = _client(client).scatter(extractor, broadcast=True)
    width = extractor.n_features_out_
    return x.map_blocks(_transform_block, remote, dtype=np.float32, chunks=(x.chunks[0], (width,)),
                        drop_axis=_dropped(x, (width,)), new_axis=_added(x, (width,)))


def _single_output_shape(model, sample_shape) -> tuple:
    if not getattr(model, "built", False) or not hasattr(model, "compute_output_shape"):
        raise ValueError(f"`model` must be a built kernelscope model. Received: model={model!r}.")
    shape = model.compute_output_shape((None,) + tuple(sample_shape))
    if isinstance(shape, (list, dict)) or (isinstance(shape, tuple) and shape and isinstance(shape[0], tuple)):
        raise ValueError(f"ks.dask.predict supports models with one output; model '{model.name}' has "
                         f"{len(shape)}. Predict each output with its own sub-model.")
    if any(d is None for d in shape[1:]):
        raise ValueError(f"The output shape of model '{model.name}' for inputs of shape {tuple(sample_shape)} is "
                         f"not fully known ({shape}); give the model a fixed input shape.")
    return tuple(int(d) for d in shape[1:])


def _dropped(x, out_shape):
    extra = x.ndim - 1 - len(out_shape)
    return list(range(1 + len(out_shape), x.ndim)) if extra > 0 else None


def _added(x, out_shape):
    extra = len(out_shape) - (x.ndim - 1)
    return list(range(x.ndim, x.ndim + extra)) if extra > 0 else None


def _load_files(paths: list, loader) -> np.ndarray:
    return np.stack([loader(path) for path in paths])


def image_folder(directory, image_size=(256, 256), labels="inferred", class_names=None, color_mode: str = "rgb",
                 interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False, partition_size: int = 64,
                 follow_links: bool = False):
    """The images of a folder as a lazy dask array, read ``partition_size`` files per task.

    Folders and files are listed (and labels inferred from subfolder names) as
    ``ks.utils.image_dataset_from_directory`` does, with the same arguments; pixels are
    read only when a partition is computed, on the worker that computes it.

    Returns
    -------
    images : dask.array.Array, float32, ``(n, height, width, channels)``
    labels : numpy.ndarray of int or None
    class_names : list of str or None
    """
    import pathlib

    from .utils.image_dataset import _CHANNELS, _INTERPOLATIONS, _check_arguments, _image_size, _index, _loader

    da, _ = _require()
    import dask

    partition_size = _positive_int(partition_size, "partition_size")
    size = _image_size(image_size)
    _check_arguments(labels, "int", class_names, color_mode, interpolation, None, crop_to_aspect_ratio, False, None)
    paths, label_list, class_names = _index(pathlib.Path(directory), labels, class_names, follow_links, False)
    if not paths:
        raise ValueError(f"No images found in {directory} (looked for .bmp, .gif, .jpeg, .jpg and .png files).")
    mode = _CHANNELS[color_mode][0]
    loader = _loader(size, mode, _INTERPOLATIONS[interpolation], crop_to_aspect_ratio, False)
    channels = _CHANNELS[color_mode][1]
    parts = []
    for start in range(0, len(paths), partition_size):
        chunk = paths[start:start + partition_size]
        block = dask.delayed(_load_files, pure=True)(chunk, loader)
        parts.append(da.from_delayed(block, shape=(len(chunk),) + size + (channels,), dtype=np.float32))
    labels_out = None if label_list is None else np.asarray(label_list, dtype=np.int64)
    return da.concatenate(parts, axis=0), labels_out, class_names
