"""The offline transfer yardstick of ``benchmarks/transfer.py``: digits 0-4 teach digits 5-9 from 10 examples.

Issue 16 asks that frozen features + logistic regression and fine-tuning beat training from scratch
by at least 10 points. On the bundled 8x8 digits that cannot happen: the same CNN trained from scratch
on 10 examples per class already reaches about 0.93-0.96 (logistic regression on the raw pixels 0.93),
so 10 points more would be above 100 %. Measured at 10 shots (seeds 0, 1, 2):

| way | mean | per seed |
|---|---:|---|
| scratch | 0.939 | 0.928, 0.933, 0.956 |
| features + logistic regression | 0.935 | 0.928, 0.956, 0.922 |
| fine-tuned | 0.926 | 0.917, 0.917, 0.944 |

(the previous recipe: 0.924 / 0.791 / 0.828). At 1 shot scratch still leads (0.75 / 0.73 / 0.60 over
the same seeds). This test pins what holds: scratch is above 0.9, so the issue's bar is out of reach by
arithmetic, and the two transfer ways are level with it (within 3 points), no longer 10-13 points below.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "transfer.py"


@pytest.fixture(scope="module")
def yardstick():
    spec = importlib.util.spec_from_file_location("transfer_benchmark", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transfer_ways_are_level_with_scratch_which_leaves_no_room_for_ten_points(yardstick):
    results = [yardstick.run(seed, shots=10) for seed in (0, 1)]
    mean = {way: float(np.mean([r[way] for r in results])) for way in yardstick.WAYS}
    scratch = mean["scratch"]
    assert scratch > 0.9  # so scratch + 0.10 > 1: the "+10 points" cannot be met on these digits
    assert mean["features + logistic regression"] >= scratch - 0.03
    assert mean["fine-tuned"] >= scratch - 0.03
    assert "| scratch |" in yardstick.table(results)
