"""``ks.adversarial``: adversarial and fooling examples, robust accuracy, adversarial training.

The lecture notes' "do neural networks understand what they see?": FGSM and PGD
(L-inf and L2, targeted or not), fooling images grown from noise, universal
perturbations (Moosavi-Dezfooli et al.'s scheme with an FGSM inner step), and
training on adversarial examples to resist them. Every attack works in the units
of the model's input: ``eps`` and ``clip`` are pixel values (``clip=(0, 255)`` for
a model that starts with ``Rescaling(1/255)``).
"""

from .attacks import fgsm, pgd
from .figures import triptych
from .fooling import fooling_image, fooling_rate, universal_perturbation
from .training import AdversarialModel, robust_accuracy

__all__ = ["fgsm", "pgd", "fooling_image", "universal_perturbation", "fooling_rate", "robust_accuracy",
           "AdversarialModel", "triptych"]
