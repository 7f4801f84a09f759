"""Draw docs/images/style_transfer.png: content | style | result, made with ks.generative.small_vgg.

    python scripts/make_style_picture.py

No pretrained weights are needed (the network is random, seeded), so the picture shows the
machinery at work, not VGG19's painterly results. About 20 s of CPU time.
"""

from __future__ import annotations

import pathlib

import numpy as np

import kernelscope as ks

SIZE = 96


def content_image(size: int = SIZE) -> np.ndarray:
    """A sky, a sun and a hill: flat regions with clear edges."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    image = np.stack([90 + 80 * yy, 150 + 70 * yy, 235 - 20 * yy], -1)          # sky, lighter downwards
    sun = (xx - 0.72) ** 2 + (yy - 0.28) ** 2 < 0.12 ** 2
    image[sun] = (250, 210, 60)
    hill = yy > 0.62 + 0.12 * np.cos(3.5 * xx)
    image[hill] = np.stack([40 + 60 * yy, 120 + 40 * yy, 50 + 0 * yy], -1)[hill]
    return image.astype(np.float32)


def style_image(size: int = SIZE) -> np.ndarray:
    """Swirling orange and blue bands (a toy 'Starry Night')."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1) - 0.5
    radius, angle = np.hypot(xx, yy), np.arctan2(yy, xx)
    bands = 0.5 + 0.5 * np.sin(40 * radius + 3 * angle)
    orange, blue = np.array([245, 160, 40]), np.array([30, 60, 160])
    return (bands[..., None] * orange + (1 - bands[..., None]) * blue).astype(np.float32)


def main() -> None:
    content, style = content_image(), style_image()
    transfer = ks.generative.StyleTransfer(content, style, model=ks.generative.small_vgg(filters=16, seed=0),
                                           content_weight=1e-4, style_weight=1.0, total_variation_weight=1e-4)
    *_, result = transfer.run(300, optimizer=ks.optimizers.Adam(learning_rate=10.0), progress=False, every=50)
    losses = transfer.history
    print(f"loss {losses[0]['loss']:.4g} -> {losses[-1]['loss']:.4g}")
    gap = np.full((SIZE, 4, 3), 255, np.uint8)
    strip = np.concatenate([content.astype(np.uint8), gap, style.astype(np.uint8), gap, result], axis=1)
    strip = strip.repeat(2, axis=0).repeat(2, axis=1)  # nearest-neighbour 2x, so the pixels stay visible
    out = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images" / "style_transfer.png"
    ks.utils.save_img(out, strip, scale=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
