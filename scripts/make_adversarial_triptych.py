"""Draw docs/images/adversarial_triptych.png, the picture in the README's "Adversarial examples" section.

    python scripts/make_adversarial_triptych.py

The digits CNN that `kernelscope train` makes (its weights are tests/fixtures/digits_small_cnn.npz,
written by scripts/make_adversarial_fixture.py), one held-out digit, FGSM at eps = 0.1 of the
pixel range: what `kernelscope explain attack model.keras digit.png --eps 0.1` writes.
"""

import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import kernelscope as ks  # noqa: E402
from kernelscope.cli.catalog import small_cnn  # noqa: E402

OUT = ROOT / "docs" / "images" / "adversarial_triptych.png"
EPS = 0.1 * 255


def main() -> None:
    model = small_cnn(ks, (8, 8, 1), 10)
    stored = np.load(ROOT / "tests" / "fixtures" / "digits_small_cnn.npz")
    model.set_weights([stored[f"w{i}"] for i in range(len(stored.files))])
    (_, _), (x_test, y_test) = ks.datasets.load_digits()
    images = x_test * 255
    adv = ks.adversarial.fgsm(model, images, y_test, eps=EPS, clip=(0, 255))
    before, after = model.predict(images, verbose=0), model.predict(adv, verbose=0)
    # the first held-out digit the model gets right and FGSM turns into another class
    i = next(i for i in range(len(images)) if before[i].argmax() == y_test[i] != after[i].argmax())
    label = lambda p: f"{p.argmax()} ({100 * p.max():.1f}%)"
    ks.adversarial.triptych(images[i], adv[i], OUT, original_label=label(before[i]),
                            adversarial_label=label(after[i]), value_range=(0, 255), eps=EPS)
    print(f"Wrote {OUT.relative_to(ROOT)}: digit {y_test[i]} (test image {i}) -> {after[i].argmax()}")


if __name__ == "__main__":
    main()
