"""Explain: the slides' convolution walkthroughs, the arithmetic of CNNs, and views into trained models.

>>> import kernelscope as ks
>>> walk = ks.explain.convolution([[1, 3, 1, 2], [6, 1, 5, 4], [5, 4, 2, 5], [3, 3, 1, 2]],
...                               [[1, 2], [2, 1]], padding=1, strides=2)
>>> walk.output
array([[ 1.,  7.,  4.],
       [17., 21., 14.],
       [ 6.,  5.,  2.]])
>>> walk.size_formulas()[0]
'n_H = floor((4 + 2*1 - 2)/2) + 1 = 3'

Walkthroughs (``convolution``, ``pooling``) render with ``to_text()``,
``to_markdown()``, ``to_html()`` and ``to_gif(path)`` (Pillow). Arithmetic:
``output_size``, ``parameters``, ``dense_vs_conv``, ``receptive_field``. Views into
a trained model: ``feature_maps``, ``kernels``, ``saliency``, ``grad_cam``,
``occlusion`` and ``overlay``.
"""

from .arithmetic import DenseVsConv, OutputSize, dense_vs_conv, output_size
from .counting import ParameterTable, ReceptiveField, parameters, receptive_field
from .report import model_report
from .pooling import PoolingCell, PoolingWalkthrough, pooling
from .views import feature_map_grid, feature_maps, kernels, overlay, show
from .attribution import grad_cam, occlusion, saliency
from .walkthrough import ConvolutionCell, ConvolutionWalkthrough, convolution

__all__ = [
    "convolution", "pooling", "ConvolutionWalkthrough", "ConvolutionCell", "PoolingWalkthrough", "PoolingCell",
    "output_size", "OutputSize", "dense_vs_conv", "DenseVsConv", "parameters", "ParameterTable",
    "receptive_field", "ReceptiveField", "feature_maps", "feature_map_grid", "kernels", "saliency",
    "grad_cam", "occlusion", "overlay", "show", "model_report",
]
