"""Images that fool a model without looking like anything, and one perturbation that fools it on most images.

``fooling_image`` grows "high confidence predictions for unrecognizable images"
(Nguyen et al. 2015) by signed gradient ascent on the target class's log-probability,
starting from uniform noise. ``universal_perturbation`` is Moosavi-Dezfooli et al.'s
(2017) iterative scheme with an FGSM inner step (not DeepFool): pass over the images in
mini-batches; for the images of a batch the current perturbation ``v`` does not fool yet,
add one FGSM step on their summed loss gradient to ``v`` and project ``v`` back into the
``eps`` ball; stop once ``v`` fools the wanted fraction of the images or after
``max_passes`` passes (the step shrinks as 1/pass).
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

import warnings

import numpy as np

from ..rng import make_rng
from . import _core

__all__ = ["fooling_image", "universal_perturbation", "fooling_rate"]


def _target_class(target_class, classes: int) -> int:
    if isinstance(target_class, bool) or not isinstance(target_class, (int, np.integer)) \
            or not 0 <= target_class < classes:
        raise ValueError(f"`target_class` must be an integer in [0, {classes}) for a model with {classes} classes. "
                         f"Received: target_class={target_class!r}.")
    return int(target_class)


def _input_shape(model) -> tuple:
    inputs = getattr(model, "inputs", None) or []
    shape = tuple(inputs[0].shape[1:]) if len(inputs) == 1 else ()
    if not shape or any(d is None for d in shape):
        raise ValueError("fooling_image needs a built model with one input of known shape (start it with "
                         f"ks.Input(shape)). Received: a model with input shape {shape or None}.")
    return shape


def fooling_image(model, target_class: int, *, confidence: float = 0.99, steps: int = 200, step_size=None,
                  clip=(0.0, 1.0), seed=None) -> np.ndarray:
    """An image grown from noise that the model gives ``target_class`` with >= ``confidence``.

    Parameters
    ----------
    model : a built model with one image input (ending in a softmax or outputting class scores)
    target_class : int
        The class to fool the model into, in ``[0, classes)``.
    confidence : float in (0, 1)
        Stop as soon as the class's probability reaches it (a warning if ``steps`` did not suffice).
    steps : int
        The most gradient steps to take.
    step_size : float, optional
        Change of each pixel per step (default 1/100 of the ``clip`` range).
    clip : (low, high)
        The pixel range: the noise is drawn from it and the image never leaves it.
    seed : int or numpy Generator, optional
        For the starting noise.

    Returns
    -------
    ndarray of the model's input shape (H, W, C).
    """
    clip = _core.check_clip(clip)
    if clip is None:
        raise ValueError("`clip` must be the pixel range (low, high) the starting noise is drawn from. "
                         "Received: clip=None.")
    if not isinstance(confidence, (int, float, np.floating)) or not 0 < confidence < 1:
        raise ValueError(f"`confidence` must be a probability in (0, 1). Received: confidence={confidence!r}.")
    steps = _core.check_positive_int(steps, "steps")
    step_size = (clip[1] - clip[0]) / 100 if step_size is None else _core.check_eps(step_size, "step_size")
    shape = _input_shape(model)
    image = make_rng(seed).uniform(*clip, size=(1,) + shape).astype(np.dtype(getattr(model, "dtype", "float32")))
    target = np.array([_target_class(target_class, _core.n_classes(model, image))])
    reached = 0.0
    for _ in range(steps):
        reached = float(_core.probabilities(model, image)[0, target[0]])
        if reached >= confidence:
            return image[0]
        grad = _core.loss_gradient(model, image, target)  # down the target's cross-entropy
        image = np.clip(image - step_size * np.sign(grad), *clip).astype(image.dtype)
    reached = float(_core.probabilities(model, image)[0, target[0]])
    if reached < confidence:
        warnings.warn(f"fooling_image reached a probability of {reached:.4f} for class {target[0]} in {steps} steps, "
                      f"below confidence={confidence}; raise `steps` or `step_size`.", stacklevel=2)
    return image[0]


def fooling_rate(model, x, x_adv) -> float:
    """The fraction of images whose predicted class differs between ``x`` and ``x_adv``."""
    batch, _ = _core.as_batch(model, x)
    adv, _ = _core.as_batch(model, x_adv, "x_adv")
    if batch.shape != adv.shape:
        raise ValueError(f"`x` and `x_adv` must have the same shape. Received: {batch.shape} and {adv.shape}.")
    return float(np.mean(_core.predict_classes(model, batch) != _core.predict_classes(model, adv)))


def universal_perturbation(model, images, *, eps: float, norm="inf", fooling_target: float = 0.8,
                           max_passes: int = 6, batch_size: int = 128, step_size=None, clip=(0.0, 1.0),
                           seed=None) -> np.ndarray:
    """One perturbation ``v`` (``||v|| <= eps``) that changes the model's class of many ``images``.

    Parameters
    ----------
    model : a built model with one image input
    images : (N, H, W, C) inside ``clip``
    eps : float >= 0
        Radius of ``v`` in ``norm`` (pixel units).
    norm : "inf" or 2
    fooling_target : float in (0, 1]
        Stop once this fraction of ``images`` is fooled (``1 - delta`` in the paper).
    max_passes : int
        Passes over the images (in an order drawn from ``seed``) at most.
    batch_size : int
        Images visited together: ``batch_size=1`` is the paper's one-image-at-a-time loop; larger
        batches take one FGSM step on the summed gradient of the batch's not-yet-fooled images,
        which fools far more images for the same ``eps`` (an update for one image no longer
        overwrites what the previous ones needed).
    step_size : float, optional
        The FGSM step in pass ``p`` (from 0) is ``step_size / (p + 1)``; default ``eps / 4``.
    clip : (low, high) or None
        Images are perturbed as ``clip(x + v)``.
    seed : int or numpy Generator, optional

    Returns
    -------
    ndarray (H, W, C): add it to any image (and clip) to fool the model.
    """
    eps, norm, clip = _core.check_eps(eps), _core.check_norm(norm), _core.check_clip(clip)
    if not isinstance(fooling_target, (int, float, np.floating)) or not 0 < fooling_target <= 1:
        raise ValueError(f"`fooling_target` must be a fraction in (0, 1]. Received: fooling_target={fooling_target!r}.")
    max_passes = _core.check_positive_int(max_passes, "max_passes")
    batch_size = _core.check_positive_int(batch_size, "batch_size")
    step_size = eps / 4 if step_size is None else _core.check_eps(step_size, "step_size")
    batch, _ = _core.as_batch(model, images, "images")  # one image is a batch of one
    _core.check_in_range(batch, clip, "images")
    original = _core.predict_classes(model, batch)
    v, rng = np.zeros(batch.shape[1:], batch.dtype), make_rng(seed)
    for p in range(max_passes):
        order = rng.permutation(len(batch))
        for start in range(0, len(batch), batch_size):
            index = order[start:start + batch_size]
            v = _push(model, batch[index], original[index], v, eps, norm, clip, step_size / (p + 1))
        if _fooled(model, batch, original, v, clip).mean() >= fooling_target:
            break
    return v


def _perturbed(x: np.ndarray, v: np.ndarray, clip) -> np.ndarray:
    out = x + v
    return (np.clip(out, *clip) if clip is not None else out).astype(x.dtype)


def _fooled(model, x, original, v, clip) -> np.ndarray:
    return _core.predict_classes(model, _perturbed(x, v, clip)) != original


def _push(model, x, labels, v, eps, norm, clip, step_size: float) -> np.ndarray:
    """The FGSM inner step: ``v`` moved up the loss of the images ``v`` does not fool yet, projected."""
    current = _perturbed(x, v, clip)
    keep = _core.predict_classes(model, current) == labels
    if not keep.any():
        return v
    grad = _core.loss_gradient(model, current[keep], labels[keep]).sum(axis=0, keepdims=True)
    moved = v[None] + step_size * _core.step_direction(grad, norm)
    return _core.project(np.zeros_like(moved), moved, eps, norm, None)[0]
