"""Export kernelscope models to other formats.

``ks.export.to_onnx(model, "model.onnx")`` writes an ONNX graph that runs in
onnxruntime and other serving stacks (needs the optional extra ``onnx``:
``pip install "kernelscope[onnx]"``).
"""

from .onnx import DEFAULT_OPSET, to_onnx

__all__ = ["to_onnx", "DEFAULT_OPSET"]
