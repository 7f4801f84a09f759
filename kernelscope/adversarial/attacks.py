"""Gradient attacks on one batch: FGSM and its iterated, projected form (iterative FGSM / PGD).

FGSM (Goodfellow et al. 2015) moves every pixel by ``eps`` in the direction that
raises the loss: ``x + eps * sign(d loss / d x)``. PGD (Madry et al. 2018) takes
``steps`` smaller steps, each followed by a projection back into the ``eps`` ball
around ``x`` (L-inf or L2) and into the valid pixel range; without a random start
and with the L-inf norm it is Kurakin et al.'s iterative FGSM. A targeted attack
lowers the loss of the target class instead of raising the true one's.
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

import numpy as np

from ..rng import make_rng
from . import _core

__all__ = ["fgsm", "pgd"]


def _setup(model, x, y, eps: float, targeted: bool, clip, loss) -> tuple:
    """Checked (batch, was_one_image, labels, eps, clip) for an attack."""
    eps = _core.check_eps(eps)
    clip = _core.check_clip(clip)
    batch, single = _core.as_batch(model, x)
    _core.check_in_range(batch, clip)
    if y is None:
        if targeted:
            raise ValueError("A targeted attack needs `y`: the class each image should be taken to. "
                             "Received: y=None with targeted=True.")
        labels = _core.predict_classes(model, batch)  # no label leaking (Kurakin et al. 2017)
    elif loss is None:
        labels = _core.check_labels(y, len(batch), _core.n_classes(model, batch), "y")  # one label: one image
    else:
        labels = y  # a custom loss takes y as given
    return batch, single, labels, eps, clip


def fgsm(model, x, y=None, *, eps: float, targeted: bool = False, clip=(0.0, 1.0), loss=None) -> np.ndarray:
    """The fast gradient sign method: ``clip(x + eps * sign(grad_x loss(model(x), y)))``.

    Parameters
    ----------
    model : a built kernelscope model (ends in a softmax or outputs class scores)
    x : images (N, H, W, C), or one image (H, W, C), inside ``clip``
    y : class numbers (N,) or one-hot rows, optional
        The true classes (default: the model's predictions); with ``targeted=True`` the targets.
    eps : float >= 0
        The L-inf budget, in the units of ``x``: ``|x_adv - x| <= eps`` holds exactly.
    targeted : bool
        Step down the loss of class ``y`` (towards it) instead of up.
    clip : (low, high) or None
        The valid pixel range; ``x`` must lie in it and ``x_adv`` stays in it.
    loss : a loss name, ``ks.losses`` object or function ``loss(y, y_pred)``, optional
        Default: cross-entropy of the pre-softmax scores.

    Returns
    -------
    ndarray shaped like ``x``: the adversarial images.

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> model = ks.Sequential([ks.Input((4, 4, 1)), ks.layers.Flatten(), ks.layers.Dense(3, activation="softmax")])
    >>> x = np.full((2, 4, 4, 1), 0.5, dtype="float32")
    >>> x_adv = ks.adversarial.fgsm(model, x, [0, 1], eps=0.1)
    >>> float(np.abs(x_adv - x).max()) <= 0.1
    True
    """
    batch, single, labels, eps, clip = _setup(model, x, y, eps, targeted, clip, loss)
    grad = _core.loss_gradient(model, batch, labels, loss)
    direction = -np.sign(grad) if targeted else np.sign(grad)
    adv = _core.project(batch, batch + eps * direction.astype(batch.dtype), eps, "inf", clip)
    return adv[0] if single else adv


def pgd(model, x, y=None, *, eps: float, steps: int = 10, step_size=None, norm="inf", random_start: bool = True,
        targeted: bool = False, clip=(0.0, 1.0), loss=None, seed=None) -> np.ndarray:
    """Projected gradient descent (Madry et al.); iterative FGSM with ``random_start=False``.

    Parameters
    ----------
    model, x, y, eps, targeted, clip, loss : as :func:`fgsm`; ``eps`` is the radius in ``norm``
    steps : int
        Gradient steps, each followed by the projection into the ``eps`` ball and ``clip``.
    step_size : float, optional
        Length of one step in ``norm`` (default ``2.5 * eps / steps``, as Madry et al.).
    norm : "inf" or 2
        L-inf steps move each pixel by ``step_size * sign(grad)``; L2 steps move the image by
        ``step_size * grad / ||grad||_2`` (per image).
    random_start : bool
        Start from a uniform draw inside the ball (drawn from ``seed``) instead of ``x``.
    seed : int or numpy Generator, optional

    Returns
    -------
    ndarray shaped like ``x``.
    """
    norm = _core.check_norm(norm)
    steps = _core.check_positive_int(steps, "steps")
    batch, single, labels, eps, clip = _setup(model, x, y, eps, targeted, clip, loss)
    step_size = 2.5 * eps / steps if step_size is None else _core.check_eps(step_size, "step_size")
    adv = batch
    if random_start and eps > 0:
        adv = _core.project(batch, batch + _random_in_ball(batch.shape, eps, norm, make_rng(seed), batch.dtype),
                            eps, norm, clip)
    for _ in range(steps):
        direction = _core.step_direction(_core.loss_gradient(model, adv, labels, loss), norm)
        adv = _core.project(batch, adv + step_size * (-direction if targeted else direction), eps, norm, clip)
    return adv[0] if single else adv


def _random_in_ball(shape: tuple, eps: float, norm, rng: np.random.Generator, dtype) -> np.ndarray:
    """Uniform draws from the ``norm`` ball of radius ``eps``, one per image."""
    if norm == "inf":
        return rng.uniform(-eps, eps, size=shape).astype(dtype)
    direction = rng.standard_normal(shape)
    direction /= np.sqrt((direction ** 2).reshape(shape[0], -1).sum(axis=1)).reshape((-1,) + (1,) * (len(shape) - 1))
    radius = eps * rng.uniform(size=shape[0]) ** (1.0 / np.prod(shape[1:]))
    return (direction * radius.reshape((-1,) + (1,) * (len(shape) - 1))).astype(dtype)
