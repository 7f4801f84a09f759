"""ks.Variable: Keras 3's constructor, assignment and arithmetic; the layers' spelling keeps working."""

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.layers.base import Variable as LayerVariable


def test_variable_from_values_and_initializers():
    v = ks.Variable([1.0, 2.0], name="v")
    assert v.name == "v" and v.shape == (2,) and v.dtype == np.float32 and v.trainable
    assert ks.Variable(np.arange(3)).dtype == np.int64  # an array keeps its dtype, as Keras
    assert ks.Variable(np.zeros(2), dtype="float32").dtype == np.float32
    w = ks.Variable("ones", shape=(2, 3))
    np.testing.assert_array_equal(w.numpy(), np.ones((2, 3), np.float32))
    u = ks.Variable(ks.initializers.GlorotUniform(seed=1), shape=(4, 4), dtype="float64")
    assert u.dtype == np.float64 and np.abs(u.numpy()).max() <= np.sqrt(6 / 8)
    lam = ks.Variable(lambda shape, dtype: np.full(shape, 3.0, dtype), shape=(2,))
    np.testing.assert_array_equal(lam.numpy(), [3.0, 3.0])
    assert ks.Variable is LayerVariable
    assert ks.Variable(1.0).name.startswith("variable")


def test_assign_and_arithmetic():
    v = ks.Variable(np.array([1.0, 2.0]))
    assert v.assign([3.0, 4.0]) is v
    np.testing.assert_array_equal(v.assign_add([1.0, 1.0]).numpy(), [4.0, 5.0])
    np.testing.assert_array_equal(v.assign_sub(np.array([4.0, 4.0])).value.numpy(), [0.0, 1.0])
    y = (v * 2 + 1).sum()
    y.backward()
    np.testing.assert_array_equal(v.grad, [2.0, 2.0])
    assert float(ks.ops.sum(v)) == 1.0


def test_trainable_flag_controls_gradients():
    v = ks.Variable(np.ones(2), trainable=False)
    assert not v.requires_grad
    v.trainable = True
    assert v.requires_grad
    assert not ks.Variable(np.arange(2), trainable=True).requires_grad  # integers carry no gradient


def test_layer_spelling_still_works():
    v = LayerVariable(np.zeros((2,), np.float32), name="dense/kernel", trainable=True, regularizer=None,
                      constraint=None)
    assert v.name == "dense/kernel" and v.regularizer is None
    layer = ks.layers.Dense(2)
    layer.build((None, 3))
    assert isinstance(layer.kernel, ks.Variable)


def test_variable_errors():
    with pytest.raises(ValueError, match=r"the `shape` argument should be specified"):
        ks.Variable("zeros")
    with pytest.raises(ValueError, match=r"The initial value has shape \(2,\), but `shape`=\(3,\)"):
        ks.Variable([1.0, 2.0], shape=(3,))
    with pytest.raises(ValueError, match=r"variable\.shape=\(2,\), Received: value\.shape=\(3,\)"):
        ks.Variable([1.0, 2.0]).assign([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Invalid value for argument `aggregation`"):
        ks.Variable(1.0, aggregation="max")
    with pytest.raises(ValueError, match=r"Invalid value for argument `synchronization`"):
        ks.Variable(1.0, synchronization="always")
    with pytest.raises(TypeError, match=r"Variable got unexpected keyword argument\(s\): shard"):
        ks.Variable(1.0, shard=True)
    with pytest.raises(ValueError, match=r"`layout` \(a distribution layout\) is not supported"):
        ks.Variable(1.0, layout="x")
    with pytest.raises(ValueError, match=r"Argument `name` must be a string"):
        ks.Variable(1.0, name=3)
