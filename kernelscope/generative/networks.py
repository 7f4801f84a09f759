"""A VGG-shaped toy network to try style transfer in seconds (random weights, VGG19's layer names)."""

from __future__ import annotations

from .. import initializers, layers
from ..models import Model

__all__ = ["small_vgg"]


def small_vgg(input_shape: tuple = (None, None, 3), filters: int = 8, seed: int | None = 0) -> Model:
    """Five blocks of 3x3 "same" convolutions with ReLU and 2x2 pooling, ``filters`` each.

    The layers style transfer reads are named as in VGG19 (``block1_conv1`` ...
    ``block5_conv1``, ``block5_conv2``), so :class:`StyleTransfer`'s defaults find them.
    Its weights are random (He-normal, seeded): enough to test the machinery and to
    see texture statistics move, not for real results; for those, use
    ``ks.applications.VGG19(include_top=False, weights="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")``.

    Examples
    --------
    >>> [layer.name for layer in small_vgg().layers][1:4]
    ['block1_conv1', 'block1_pool', 'block2_conv1']
    """
    def conv(name: str, index: int):
        initializer = initializers.HeNormal(seed=None if seed is None else seed + index)
        return layers.Conv2D(filters, (3, 3), padding="same", activation="relu", kernel_initializer=initializer,
                             name=name)

    inputs = layers.Input(shape=input_shape)
    x = inputs
    for block in range(1, 6):
        x = conv(f"block{block}_conv1", block)(x)
        if block == 5:
            x = conv("block5_conv2", 6)(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    return Model(inputs, x, name="small_vgg")
