"""keras.ops functions composed of other ops: values against NumPy/torch, central-difference gradients."""

import numpy as np
import pytest
import torch

from kernelscope import ops
from kernelscope.autograd import gradcheck

from test_keras_ops_numpy import _compare, _randn

CASES = {
    "hstack": (lambda a: ops.hstack([a, a * 2]), lambda a: torch.hstack([a, a * 2])),
    "vstack": (lambda a: ops.vstack([a, -a]), lambda a: torch.vstack([a, -a])),
    "append": (lambda a: ops.append(a, a[:1], axis=0), lambda a: torch.cat([a, a[:1]], 0)),
    "append_flat": (lambda a: ops.append(a, a), lambda a: torch.cat([a.reshape(-1), a.reshape(-1)])),
    "copy": (ops.copy, lambda a: a.clone()),
    "trace": (lambda a: ops.trace(a), lambda a: torch.trace(a)),
    "diag_of_matrix": (lambda a: ops.diag(a, 1), lambda a: torch.diag(a, 1)),
    "diag_of_vector": (lambda a: ops.diag(a[0], -1), lambda a: torch.diag(a[0], -1)),
    "median_even": (lambda a: ops.median(a, axis=1), lambda a: torch.quantile(a, 0.5, dim=1)),
    "median_odd": (lambda a: ops.median(a, axis=0, keepdims=True), lambda a: torch.quantile(a, 0.5, 0, keepdim=True)),
    "median_all": (lambda a: ops.median(a), lambda a: torch.quantile(a, 0.5)),
    "cbrt": (ops.cbrt, lambda a: torch.sign(a) * a.abs() ** (1 / 3)),
    "logaddexp": (lambda a: ops.logaddexp(a, a.T * 2), lambda a: torch.logaddexp(a, a.T * 2)),
    "hypot": (lambda a: ops.hypot(a, 1.5), lambda a: torch.hypot(a, torch.tensor(1.5, dtype=a.dtype))),
    "deg2rad": (ops.deg2rad, torch.deg2rad),
    "rad2deg": (ops.rad2deg, torch.rad2deg),
    "fliplr": (ops.fliplr, torch.fliplr),
    "flipud": (ops.flipud, torch.flipud),
    "rot90": (lambda a: ops.rot90(a, 3), lambda a: torch.rot90(a, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_composites_against_torch(name):
    ks_fn, torch_fn = CASES[name]
    _compare(ks_fn, torch_fn, [_randn(3, 3, seed=61) + np.arange(9).reshape(3, 3) * 0.1], rtol=1e-7)


def test_other_composites():
    assert ops.array([1.0, 2.0]).dtype == np.float32
    assert ops.empty_like(np.ones((2, 2))).shape == (2, 2)
    rows, cols = ops.nonzero(np.array([[0.0, 3.0], [4.0, 0.0]]))
    assert list(rows.numpy()) == [0, 1] and list(cols.numpy()) == [1, 0]
    np.testing.assert_array_equal(ops.isclose(np.array([1.0, 1.1]), 1.0).numpy(), [True, False])
    assert bool(ops.allclose(np.ones(3), np.ones(3) + 1e-9))
    for indexing in ("xy", "ij"):
        ours = ops.meshgrid(np.arange(3.0), np.arange(2.0), np.arange(4.0), indexing=indexing)
        for got, expected in zip(ours, np.meshgrid(np.arange(3.0), np.arange(2.0), np.arange(4.0), indexing=indexing)):
            np.testing.assert_array_equal(got.numpy(), expected)
    np.testing.assert_array_equal(ops.trunc(np.array([-1.7, 2.5])).numpy(), [-1.0, 2.0])
    x = np.array([np.nan, np.inf, -np.inf, 2.0])
    np.testing.assert_array_equal(ops.nan_to_num(x, posinf=9.0, neginf=-9.0).numpy(), [0.0, 9.0, -9.0, 2.0])
    gradcheck(lambda a, b: ops.divide_no_nan(a, b), [np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.0, -1.5])])
    np.testing.assert_array_equal(ops.divide_no_nan(np.array([1.0, 2.0]), np.array([0.0, 4.0])).numpy(), [0.0, 0.5])
    with pytest.raises(ValueError, match=r"Valid values for `indexing` are 'xy' and 'ij'"):
        ops.meshgrid(np.arange(2.0), indexing="yx")
    with pytest.raises(ValueError, match=r"`diag` needs a 1-D or 2-D input"):
        ops.diag(np.ones((2, 2, 2)))
