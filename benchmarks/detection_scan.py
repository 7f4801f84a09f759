"""scan (one crop per window) vs fully_convolutional (one pass over the scene) on a 1500x3000 scene.

Run by hand, never in CI:

    python benchmarks/detection_scan.py            # the ship-finder shape: 80x80x3 tiles, strides 20

The tile classifier has random weights (speed does not depend on them) and a
total stride of 20, so the fully convolutional pass computes exactly the windows
the scan crops. Both score maps are compared before the times are reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernelscope as ks  # noqa: E402 - before NumPy: see kernelscope/_runtime/blas.py
import numpy as np  # noqa: E402


def ship_tile_model():
    """80x80x3 -> conv/pool blocks (total stride 2*2*5 = 20) -> Flatten -> Dense -> Dense."""
    ks.utils.set_random_seed(0)
    return ks.Sequential([
        ks.Input((80, 80, 3)),
        ks.layers.Conv2D(16, 3, activation="relu", name="block1_conv"), ks.layers.MaxPooling2D(2, name="block1_pool"),
        ks.layers.Conv2D(32, 3, activation="relu", name="block2_conv"), ks.layers.MaxPooling2D(2, name="block2_pool"),
        ks.layers.Conv2D(32, 3, activation="relu", name="block3_conv"), ks.layers.MaxPooling2D(5, name="block3_pool"),
        ks.layers.Flatten(name="flatten"), ks.layers.Dense(64, activation="relu", name="fc1"),
        ks.layers.Dense(1, activation="sigmoid", name="ship"),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--width", type=int, default=3000)
    parser.add_argument("--strides", type=int, default=20)
    args = parser.parse_args()
    model = ship_tile_model()
    scene = np.random.default_rng(0).uniform(size=(args.height, args.width, 3)).astype(np.float32)
    times, maps = {}, {}
    for method in ("fully_convolutional", "windows"):
        start = time.perf_counter()
        maps[method] = ks.detection.scan(model, scene, strides=args.strides, method=method).score_map
        times[method] = time.perf_counter() - start
    gap = np.abs(maps["windows"] - maps["fully_convolutional"]).max()
    print(f"scene {args.height}x{args.width}, window 80, strides {args.strides}: "
          f"{maps['windows'].size} windows, largest score difference {gap:.2e}")
    for method, seconds in times.items():
        print(f"  {method:20s} {seconds:8.2f} s")
    print(f"  speed-up of fully_convolutional: {times['windows'] / times['fully_convolutional']:.1f}x")


if __name__ == "__main__":
    main()
