"""Tensor to Python scalars and NumPy, as NumPy and Keras users expect."""

import operator

import numpy as np
import pytest

import kernelscope as ks
from kernelscope import Tensor


def test_one_element_tensors_convert_to_python_scalars():
    t = Tensor(np.array([2.567], np.float32))
    assert float(t) == pytest.approx(2.567) and isinstance(float(t), float)
    assert int(t) == 2 and bool(t) is True and bool(Tensor(0.0)) is False
    assert format(t, ".2f") == "2.57" and f"{Tensor(0.125):.1%}" == "12.5%"
    assert "%.1f" % Tensor(3.14159) == "3.1"
    assert round(Tensor(2.5)) == 2 and isinstance(round(Tensor(3.7)), int)  # half to even, as Python
    np.testing.assert_allclose(round(Tensor([1.26, 2.71]), 1).numpy(), [1.3, 2.7], rtol=1e-6)
    assert complex(Tensor(1.0)) == 1 + 0j
    assert format(t, "") == str(t)


def test_multi_element_conversions_are_refused():
    t = Tensor(np.ones(3))
    with pytest.raises(TypeError, match=r"Only one-element tensors can be converted to a Python float\. "
                                        r"Received: shape=\(3,\)"):
        float(t)
    with pytest.raises(TypeError, match=r"Only one-element tensors can be converted to a Python number"):
        format(t, ".2f")
    with pytest.raises(ValueError, match=r"The truth value of a tensor with 3 elements is ambiguous"):
        bool(t)


def test_index_only_for_integer_scalars():
    assert [10, 20, 30][ks.ops.argmax(np.array([1.0, 5.0, 2.0]))] == 20
    assert operator.index(ks.ops.arange(5)[3]) == 3
    with pytest.raises(TypeError, match=r"Only integer scalar tensors can be used as an index"):
        operator.index(Tensor(1.0))


def test_numpy_protocol_and_iteration():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert np.asarray(t) is t.numpy()
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    copied = np.array(t, copy=True)
    copied[0, 0] = 99
    assert t.numpy()[0, 0] == 0
    with pytest.raises(ValueError, match=r"without a copy \(copy=False was passed\)"):
        t.__array__(dtype=np.float32, copy=False)
    rows = list(t)
    assert len(rows) == 2 and isinstance(rows[0], Tensor) and rows[1].shape == (3,)
    with pytest.raises(TypeError, match=r"iteration over a 0-d tensor"):
        iter(Tensor(1.0))
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert t.shape == (2, 3) and t.ndim == 2 and t.dtype == np.float64


def test_iteration_keeps_gradients():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    total = sum(row.sum() * (i + 1) for i, row in enumerate(x))
    total.backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 1.0], [2.0, 2.0]])


def test_method_spellings_and_modulo():
    x = np.array([[1.0, -4.0, 2.5], [0.5, 3.0, -1.0]])
    t = Tensor(x)
    np.testing.assert_allclose(t.std(axis=1).numpy(), x.std(axis=1))
    assert t.argmax().numpy() == 4 and list(t.argmin(axis=1).numpy()) == [1, 2]
    assert Tensor(np.ones((2, 1, 3))).squeeze(1).shape == (2, 3)
    np.testing.assert_array_equal((t // 2).numpy(), x // 2)
    np.testing.assert_array_equal((7.0 % Tensor(np.array([3.0, -3.0]))).numpy(), [1.0, -2.0])
    from kernelscope.autograd import gradcheck

    gradcheck(lambda a, b: a % b, [np.array([2.3, -1.7, 5.2]), np.array([1.1, 0.9, -2.0])])
    gradcheck(lambda a: a.std(axis=0), [x])
