"""How well a model resists an attack, and training it on adversarial examples so it resists better.

``AdversarialModel`` wraps a model and overrides ``train_step`` (the Keras way of
customizing ``fit``): each batch is attacked against the weights as they are at that
step, and the step minimises Goodfellow et al.'s mixed objective
``(1 - w) * loss(x, y) + w * loss(x_adv, y)``. The wrapped model's own weights are
the ones trained, so it is the model to save and use afterwards.
"""

# N batch, H/W height/width, C channels

from __future__ import annotations

import numpy as np

from ..models import Model
from ..models.epoch_iterator import unpack_x_y_sample_weight
from . import _core
from .attacks import fgsm, pgd

__all__ = ["robust_accuracy", "AdversarialModel"]

_ATTACKS = {"fgsm": fgsm, "pgd": pgd}


def _attack(attack):
    if callable(attack):
        return attack
    if isinstance(attack, str) and attack.lower() in _ATTACKS:
        return _ATTACKS[attack.lower()]
    raise ValueError(f'`attack` must be "fgsm", "pgd" or a function attack(model, x, y, eps=..., ...). '
                     f"Received: attack={attack!r}.")


def robust_accuracy(model, x, y, attack="fgsm", *, eps: float, batch_size: int = 256, **attack_kwargs) -> float:
    """Accuracy on ``attack(model, x, y, eps=eps, **attack_kwargs)``: the fraction still classified right.

    Parameters
    ----------
    model : a built classifier
    x, y : images inside the attack's ``clip`` range and their class numbers
    attack : "fgsm", "pgd" or a function with :func:`fgsm`'s signature
    eps : float >= 0
        ``eps=0`` gives the clean accuracy.
    batch_size : int
        Images attacked at once.
    **attack_kwargs : passed on (``clip``, ``steps``, ``norm``, ``seed`` ...)

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> model = ks.Sequential([ks.Input((2, 2, 1)), ks.layers.Flatten(), ks.layers.Dense(2, activation="softmax")])
    >>> x, y = np.zeros((4, 2, 2, 1), "float32"), np.array([0, 1, 0, 1])
    >>> 0.0 <= ks.adversarial.robust_accuracy(model, x, y, eps=0.1) <= 1.0
    True
    """
    run = _attack(attack)
    _core.check_eps(eps)
    batch_size = _core.check_positive_int(batch_size, "batch_size")
    batch, _ = _core.as_batch(model, x)
    labels = _core.check_labels(y, len(batch), _core.n_classes(model, batch))
    if len(batch) == 0:
        raise ValueError("robust_accuracy needs at least one image. Received: x with 0 images.")
    correct = 0
    for start in range(0, len(batch), batch_size):
        part, truth = batch[start:start + batch_size], labels[start:start + batch_size]
        adv = run(model, part, truth, eps=eps, **attack_kwargs)
        correct += int(np.sum(_core.predict_classes(model, np.asarray(adv, dtype=part.dtype)) == truth))
    return correct / len(batch)


class AdversarialModel(Model):
    """``model`` trained on clean and adversarial batches: ``fit`` attacks every batch first.

    Parameters
    ----------
    model : the kernelscope model to train (its weights are the ones updated)
    eps : float >= 0
        The attack's budget, in the units of the model's input.
    attack : "fgsm" (default), "pgd" or a function with :func:`fgsm`'s signature
    adversarial_weight : float in [0, 1]
        ``w`` in ``(1 - w) * loss(x, y) + w * loss(x_adv, y)`` (Goodfellow et al. use 0.5).
    **attack_kwargs : passed to the attack (``clip`` defaults to (0, 1) as in :func:`fgsm`)

    Examples
    --------
    >>> import numpy as np, kernelscope as ks
    >>> base = ks.Sequential([ks.Input((2, 2, 1)), ks.layers.Flatten(), ks.layers.Dense(2, activation="softmax")])
    >>> robust = ks.adversarial.AdversarialModel(base, eps=0.1)
    >>> robust.compile("adam", "sparse_categorical_crossentropy")
    >>> history = robust.fit(np.zeros((4, 2, 2, 1), "float32"), np.array([0, 1, 0, 1]), epochs=1, verbose=0)
    """

    def __init__(self, model, eps: float, attack="fgsm", adversarial_weight: float = 0.5, **attack_kwargs):
        if not isinstance(model, Model):
            raise TypeError(f"`model` must be a ks.Model or ks.Sequential. Received: {type(model).__name__}.")
        if isinstance(adversarial_weight, bool) or not isinstance(adversarial_weight, (int, float, np.floating)) \
                or not 0 <= adversarial_weight <= 1:
            raise ValueError("`adversarial_weight` must be a number in [0, 1]. "
                             f"Received: adversarial_weight={adversarial_weight!r}.")
        super().__init__(name=f"adversarial_{model.name}")
        self.model = model
        self.eps = _core.check_eps(eps)
        self.attack = _attack(attack)
        self.adversarial_weight = float(adversarial_weight)
        self.attack_kwargs = dict(attack_kwargs)

    def call(self, inputs, training: bool = False):
        return self.model(inputs, training=training)

    def train_step(self, data) -> dict:
        """Attack the batch against the current weights, then one step on clean + adversarial images."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        if y is None:
            raise ValueError("AdversarialModel.fit needs labels `y`: the attack raises the loss of the true class.")
        x = np.asarray(getattr(x, "data", x))
        labels = np.asarray(getattr(y, "data", y))
        x_adv = np.asarray(self.attack(self.model, x, labels, eps=self.eps, **self.attack_kwargs), dtype=x.dtype)
        w, n = self.adversarial_weight, len(x)
        # the compiled loss averages over the 2N rows, so weights 2(1-w) and 2w give the mixed objective
        weight = np.concatenate([np.full(n, 2 * (1 - w)), np.full(n, 2 * w)]).astype(x.dtype)
        if sample_weight is not None:
            weight = weight * np.tile(np.asarray(getattr(sample_weight, "data", sample_weight), x.dtype), 2)
        both = (np.concatenate([x, x_adv]), np.concatenate([labels, labels]), weight)
        return super().train_step(both)

    def get_config(self) -> dict:
        raise NotImplementedError("An AdversarialModel is a training wrapper: save the model it trains "
                                  "(`robust.model.save(path)`), not the wrapper.")
