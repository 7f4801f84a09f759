"""Every keras.ops function kernelscope has takes Keras's parameter names, in Keras's order.

The reference is tests/fixtures/keras/ops_signatures.json, read from the Keras 3
source by scripts/make_ops_signatures.py. Extra trailing parameters are allowed.
"""

import inspect
import json
import pathlib

import pytest

from kernelscope import ops

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "keras" / "ops_signatures.json"
KERAS = json.loads(FIXTURE.read_text(encoding="utf-8"))
NAMESPACES = {"numpy": ops.numpy, "nn": ops.nn, "image": ops.image, "math": ops.math, "linalg": ops.linalg,
              "core": ops}
# What a CNN workload uses (the task's list): these must exist.
REQUIRED = """zeros ones full zeros_like ones_like full_like arange eye linspace convert_to_tensor convert_to_numpy
square sqrt power abs absolute exp log log1p sign maximum minimum clip where add subtract multiply divide
true_divide negative floor ceil round equal not_equal greater greater_equal less less_equal logical_and
logical_or logical_not isnan isfinite sin cos tanh sigmoid sum mean max amax min amin std var prod argmax
argmin norm logsumexp any all cumsum shape reshape expand_dims squeeze transpose concatenate stack split tile
repeat pad take take_along_axis slice cast dtype flip moveaxis swapaxes broadcast_to ravel matmul dot
tensordot einsum one_hot top_k relu relu6 softmax log_softmax gelu silu conv depthwise_conv separable_conv
conv_transpose max_pool average_pool binary_crossentropy categorical_crossentropy
sparse_categorical_crossentropy moments normalize stop_gradient""".split()
IMPLEMENTED = sorted((module, name) for module, table in KERAS.items() for name in table
                     if getattr(NAMESPACES[module], name, None) is not None or getattr(ops, name, None) is not None)


def test_required_names_exist_at_the_top_level():
    missing = [name for name in REQUIRED if not callable(getattr(ops, name, None))]
    assert not missing
    assert callable(ops.image.resize) and callable(ops.nn.relu) and callable(ops.linalg.norm)


@pytest.mark.parametrize("module,name", IMPLEMENTED, ids=[f"{m}.{n}" for m, n in IMPLEMENTED])
def test_parameters_match_keras(module, name):
    fn = getattr(NAMESPACES[module], name, None) or getattr(ops, name)
    ours = [("*" + p.name) if p.kind is p.VAR_POSITIONAL else p.name
            for p in inspect.signature(fn).parameters.values() if p.kind is not p.VAR_KEYWORD]
    expected = [p for p in KERAS[module][name] if p != "kwargs"]
    assert ours[:len(expected)] == expected
