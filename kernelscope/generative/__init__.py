"""``ks.generative``: images made by gradient descent on the input, starting with neural style transfer.

>>> import kernelscope as ks
>>> ks.generative.gram_matrix([[[1.0, 2.0]]]).numpy()
array([[1., 2.],
       [2., 4.]], dtype=float32)

See :class:`StyleTransfer` for the whole loop and :func:`small_vgg` for a toy network
to try it on in seconds.
"""

from .images import deprocess_image
from .losses import content_loss, gram_matrix, style_loss, total_variation_loss
from .networks import small_vgg
from .style_transfer import CONTENT_LAYER, STYLE_LAYERS, StyleTransfer

__all__ = ["StyleTransfer", "gram_matrix", "content_loss", "style_loss", "total_variation_loss",
           "deprocess_image", "small_vgg", "CONTENT_LAYER", "STYLE_LAYERS"]
