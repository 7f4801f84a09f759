"""ResNet50 inference at 224x224: kernelscope's ks.applications.ResNet50 beside the same
network in PyTorch (torchvision has no CPU build here, so the PyTorch twin is written out
below, following Keras's ResNet50 v1 layout: the stride sits on the first 1x1 convolution).

    python benchmarks/resnet50.py [--batch 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernelscope  # noqa: E402,F401 - before NumPy, as the kernelscope command does: see kernelscope/_runtime/blas.py
import numpy as np  # noqa: E402


def torch_resnet50():
    import torch
    from torch import nn

    def bn(c):
        return nn.BatchNorm2d(c, eps=1.001e-5)

    class Block(nn.Module):
        def __init__(self, cin, filters, stride, conv_shortcut):
            super().__init__()
            self.shortcut = (nn.Sequential(nn.Conv2d(cin, 4 * filters, 1, stride), bn(4 * filters))
                             if conv_shortcut else nn.Identity())
            self.body = nn.Sequential(
                nn.Conv2d(cin, filters, 1, stride), bn(filters), nn.ReLU(),
                nn.Conv2d(filters, filters, 3, padding=1), bn(filters), nn.ReLU(),
                nn.Conv2d(filters, 4 * filters, 1), bn(4 * filters))

        def forward(self, x):
            return torch.relu(self.shortcut(x) + self.body(x))

    layers = [nn.ZeroPad2d(3), nn.Conv2d(3, 64, 7, 2), bn(64), nn.ReLU(), nn.ZeroPad2d(1), nn.MaxPool2d(3, 2)]
    cin = 64
    for filters, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for b in range(blocks):
            layers.append(Block(cin, filters, stride if b == 0 else 1, conv_shortcut=b == 0))
            cin = 4 * filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000), nn.Softmax(dim=1)]
    return nn.Sequential(*layers).eval()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    import torch

    import kernelscope as ks
    torch.set_num_threads(2)
    ks_model = ks.applications.ResNet50(weights=None)
    t_model = torch_resnet50()
    x = np.random.default_rng(0).uniform(0, 255, (args.batch, 224, 224, 3)).astype(np.float32)
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

    def run_ks():
        ks_model.predict(x, batch_size=args.batch, verbose=0)

    def run_torch():
        with torch.no_grad():
            t_model(xt)

    run_ks(), run_torch()
    ks_t, torch_t = [], []
    for _ in range(args.rounds):
        for fn, out in ((run_ks, ks_t), (run_torch, torch_t)):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    ratio = statistics.median(t / k for k, t in zip(ks_t, torch_t))
    print(f"ResNet50 inference, batch {args.batch} at 224x224: kernelscope {statistics.median(ks_t):.2f} s, "
          f"PyTorch {statistics.median(torch_t):.2f} s, ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
