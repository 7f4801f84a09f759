"""Graph-level fusion: a Sequential's Conv2D(activation="relu") -> MaxPooling2D() pair as one op.

LeNet, VGG and the course CNNs are stacks of conv -> ReLU -> 2x2 max-pool blocks. Run layer by
layer, each block makes full-size passes for the bias, the ReLU, its mask in the backward pass
and the bias gradient, then pools to a quarter of the size. Fused
(:func:`kernelscope.ops.conv.conv2d_relu_max_pool2d`), the pool comes first and those passes run
on the pooled tensor: the outputs are bit-identical, the kernel and input gradients too (the
bias gradient sums the same terms in another order). Measured on the lenet28 benchmark: see
the README's Performance section.

A pair is fused only when nothing can tell the difference: the two layers are exactly
kernelscope's ``Conv2D`` (``activation="relu"``) and ``MaxPooling2D`` (pool 2, strides 2,
"valid"), built, and neither has a ``call`` replaced on the instance. In a functional model the
pool must also be the only reader of the convolution's output, which must not be a model output
(a feature-extractor model over the conv layer sees its output as before). Subclassed models run
layer by layer. ``ks.config.set_fusion(False)`` (or ``KERNELSCOPE_FUSION=0``) turns fusion off.
"""

from __future__ import annotations

import numpy as np

from .. import config
from ..autograd import Tensor
from ..layers.conv import THEN_MAX_POOL, Conv2D
from ..layers.pooling import MaxPooling2D
from ..ops import activations
from .model import call_layer

__all__ = ["fusable", "call_conv_relu_max_pool", "functional_pairs"]


def fusable(conv, pool, x) -> bool:
    """Whether ``pool(conv(x))`` may run as one fused op."""
    if not (config.fusion_enabled() and type(conv) is Conv2D and type(pool) is MaxPooling2D):
        return False
    if conv.activation is not activations.relu or not (conv.built and pool.built):
        return False
    if "call" in vars(conv) or "call" in vars(pool):
        return False
    if pool.pool_size != (2, 2) or pool.strides != (2, 2) or pool.padding != "valid":
        return False
    if not isinstance(x, (Tensor, np.ndarray)) or x.ndim != 4:
        return False  # symbolic (KerasTensor) calls run layer by layer; the layers' own checks word errors
    shape = x.shape
    try:
        out_hw = conv.compute_output_shape(tuple(shape))[1:3]
    except (ValueError, TypeError):
        return False
    return min(out_hw) >= 2  # else the pool's own error, naming the pool layer


def call_conv_relu_max_pool(conv, pool, x, training):
    """``pool(conv(x))`` as one op, through ``conv``'s call (its checks, build and error messages)."""
    token = THEN_MAX_POOL.set(conv)
    try:
        return call_layer(conv, x, training)
    finally:
        THEN_MAX_POOL.reset(token)


def _plain_call(node) -> bool:
    """The node called its layer on one tensor, with no other argument."""
    if node.arguments is None:
        return False
    args, kwargs = node.arguments
    return len(args) == 1 and not kwargs and len(node.input_tensors) == 1 and len(node.output_tensors) == 1


def functional_pairs(nodes: list, outputs: list) -> dict:
    """{position of a Conv2D node: position of the MaxPooling2D node that alone reads its output}.

    Positions in ``nodes`` (the model's topological order), so the plan survives copying the
    model. Whether a pair runs fused is decided per call by :func:`fusable`.
    """
    readers = {}
    for j, node in enumerate(nodes):
        for tensor in node.input_tensors:
            readers.setdefault(id(tensor), []).append(j)
    output_ids = {id(t) for t in outputs}
    pairs = {}
    for i, node in enumerate(nodes):
        if type(node.layer) is not Conv2D or not _plain_call(node):
            continue
        produced = id(node.output_tensors[0])
        reader = readers.get(produced, [])
        if produced in output_ids or len(reader) != 1:
            continue
        j = reader[0]
        if type(nodes[j].layer) is MaxPooling2D and _plain_call(nodes[j]):
            pairs[i] = j
    return pairs
