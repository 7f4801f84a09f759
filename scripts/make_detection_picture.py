"""Draw docs/images/digit_finder.png, the picture in the README's "Localization and detection" section.

    python scripts/make_detection_picture.py

The README's tile classifier (same data, seed and training), scanned over a bigger
synthetic scene; the boxes found with their scores, scaled 3x (nearest) to be seen.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import kernelscope as ks  # noqa: E402
import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images" / "digit_finder.png"


def main() -> None:
    ks.utils.set_random_seed(0)
    tiles, is_digit = ks.datasets.make_digit_tiles(1500, tile_size=20, seed=0)
    finder = ks.Sequential([ks.Input((20, 20, 1)),
                            ks.layers.Conv2D(8, 3, activation="relu"), ks.layers.MaxPooling2D(2),
                            ks.layers.Conv2D(16, 3, activation="relu"), ks.layers.MaxPooling2D(2),
                            ks.layers.Flatten(), ks.layers.Dense(32, activation="relu"),
                            ks.layers.Dense(1, activation="sigmoid")])
    finder.compile(optimizer="adam", loss="binary_crossentropy")
    finder.fit(tiles, is_digit, epochs=3, verbose=0)
    scene, truth = ks.datasets.make_digit_scenes(1, scene_size=160, digits_per_scene=7, digit_size=(16, 20),
                                                 seed=11, subset="test")
    found = ks.detection.detect(finder, scene[0], strides=4, iou_threshold=0.2, method="fully_convolutional")
    big = np.repeat(np.repeat(scene[0], 3, axis=0), 3, axis=1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    ks.detection.draw_boxes(big, found["boxes"] * 3, scores=found["scores"], path=OUT)
    ap = ks.detection.average_precision([{"boxes": truth[0]["boxes"]}], [found])
    print(f"{OUT}: {len(found['boxes'])} boxes for {len(truth[0]['boxes'])} digits, AP@0.5 {ap:.2f}")


if __name__ == "__main__":
    main()
