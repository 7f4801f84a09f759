"""``ks.GradientTape``: TensorFlow's tape on top of kernelscope's autograd graph.

kernelscope records a graph for every operation on a tensor that requires a
gradient (trainable variables do), so the tape does not record anything
itself: it turns graph recording on inside its block, marks the tensors it
is asked to ``watch`` as requiring a gradient, and ``gradient`` walks the graph
back from the target with :func:`kernelscope.autograd.grad`, which leaves every
``.grad`` untouched. Gradients are first order only.

>>> import kernelscope as ks
>>> x = ks.Tensor([1.0, 2.0, 3.0])
>>> with ks.GradientTape() as tape:
...     tape.watch(x)
...     y = (x * x).sum()
>>> tape.gradient(y, x).numpy()
array([2., 4., 6.], dtype=float32)
"""

from __future__ import annotations

import numpy as np

from . import autograd
from ._tree import flatten as _flatten
from ._tree import pack_sequence_as as _pack
from .autograd import Tensor

__all__ = ["GradientTape"]

_UNCONNECTED = ("none", "zero")


def _check_tensors(target, sources) -> tuple:
    targets, leaves = _flatten(target), _flatten(sources)
    for t in targets:
        if not isinstance(t, Tensor):
            raise TypeError("GradientTape.gradient() needs `target` computed from ks.Tensor objects inside the "
                            f"tape. Received: target of type {type(t).__name__}.")
    for s in leaves:
        if not isinstance(s, Tensor):
            raise TypeError("GradientTape.gradient() `sources` must be ks.Variable or watched ks.Tensor "
                            f"objects. Received: an object of type {type(s).__name__}.")
    return targets, leaves


class GradientTape:
    """Record operations for automatic differentiation, as ``tf.GradientTape``.

    Parameters
    ----------
    persistent : bool
        Allow several ``gradient`` calls; by default a tape gives gradients once.
    watch_accessed_variables : bool
        Differentiate with respect to every trainable variable used in the block
        (the default); if False only what ``watch`` was given.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> layer = ks.layers.Dense(1, kernel_initializer="ones")
    >>> with ks.GradientTape() as tape:
    ...     loss = layer(np.ones((2, 3))).sum()
    >>> [g.shape for g in tape.gradient(loss, layer.trainable_weights)]
    [(3, 1), (1,)]
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._watched: dict[int, Tensor] = {}
        self._switched_on: list[Tensor] = []  # tensors whose requires_grad this tape turned on
        self._used = False
        self._recording = None

    def __enter__(self) -> "GradientTape":
        self._recording = autograd.enable_grad()
        self._recording.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._recording.__exit__(*exc_info)
        self._recording = None

    def watch(self, tensor) -> None:
        """Differentiate with respect to ``tensor`` (a Tensor, a Variable, or a structure of them)."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise ValueError("GradientTape.watch() takes ks.Tensor or ks.Variable objects; convert the data "
                                 "first with ks.ops.convert_to_tensor(x) and compute from that tensor. "
                                 f"Received: an object of type {type(t).__name__}.")
            if t.dtype.kind != "f":
                raise ValueError(f"GradientTape.watch() needs a floating-point tensor. Received: dtype={t.dtype}.")
            self._watched[id(t)] = t
            if not t.requires_grad:
                t.requires_grad = True
                self._switched_on.append(t)

    def watched_variables(self) -> tuple:
        """The tensors given to ``watch``."""
        return tuple(self._watched.values())

    def reset(self) -> None:
        """Forget what was watched, as if the tape had just been created."""
        self._release()
        self._watched = {}
        self._used = False

    def stop_recording(self):
        """A context in which operations are not recorded (``ks.no_grad``)."""
        return autograd.no_grad()

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradient of ``target`` (summed over its elements) with respect to each source.

        Parameters
        ----------
        target : Tensor or list of Tensors
            A list is differentiated as the sum of its entries.
        sources : Variable, Tensor, or a list/tuple/dict structure of them
        output_gradients : array_like or list, optional
            Upstream gradient(s) of ``target``; ones by default.
        unconnected_gradients : {"none", "zero"}
            What a source that ``target`` does not depend on gets.

        Returns
        -------
        The same structure as ``sources``, with a Tensor (or None) per source.
        """
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients "
                               "(or jacobians). Use ks.GradientTape(persistent=True) to call gradient() again.")
        mode = getattr(unconnected_gradients, "value", unconnected_gradients)
        if mode not in _UNCONNECTED:
            raise ValueError(f"`unconnected_gradients` must be one of {list(_UNCONNECTED)}. "
                             f"Received: unconnected_gradients={unconnected_gradients!r}.")
        targets, leaves = _check_tensors(target, sources)
        self._used = True
        reachable = [s for s in leaves if self._is_source(s)]
        found = autograd.grad(targets, reachable, output_gradients, retain_graph=True) if reachable else []
        by_id = {id(s): g for s, g in zip(reachable, found)}
        grads = []
        for s in leaves:
            g = by_id.get(id(s))
            if g is None and mode == "zero":
                g = np.zeros_like(s.data)
            grads.append(None if g is None else Tensor(g))
        if not self.persistent:
            self._release()
        return _pack(sources, iter(grads))

    def _is_source(self, tensor: Tensor) -> bool:
        if id(tensor) in self._watched:
            return True
        # an unwatched variable counts only if trainable variables are watched automatically
        return self.watch_accessed_variables and tensor.requires_grad

    def _release(self) -> None:
        for t in self._switched_on:
            t.requires_grad = False
        self._switched_on = []

    def __del__(self):
        self._release()
