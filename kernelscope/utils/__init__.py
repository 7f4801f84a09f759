"""``keras.utils`` for kernelscope: seeding, one-hot labels, image files, image folders as datasets,
downloads (``get_file``), model plots, resetting layer names. One module per Keras module.

>>> import kernelscope as ks
>>> ks.utils.to_categorical([0, 2, 1], num_classes=3)
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]], dtype=float32)
"""

from __future__ import annotations

from ..layers.base import clear_session as _clear_names
from ..rng import set_random_seed as _set_seed
from .file_utils import get_file
from .image_dataset import image_dataset_from_directory
from .image_utils import array_to_img, img_to_array, load_img, save_img
from .model_visualization import model_to_dot, plot_model
from .numerical_utils import normalize, to_categorical

from .py_dataset import PyDataset, Sequence

__all__ = ["set_random_seed", "to_categorical", "clear_session", "PyDataset", "Sequence", "load_img",
           "img_to_array", "array_to_img", "save_img", "image_dataset_from_directory", "get_file", "normalize",
           "plot_model", "model_to_dot"]


def set_random_seed(seed: int) -> None:
    """Seed kernelscope's root generator (and Python's and NumPy's global ones, as Keras does).

    Built after this call, the same model trained on the same data repeats bit for bit.
    """
    _set_seed(seed)


def clear_session() -> None:
    """Reset automatic layer names so the next Dense is ``dense`` again (as ``keras.backend.clear_session``)."""
    _clear_names()
