"""Write tests/fixtures/digits_small_cnn.npz: the weights of the digits CNN `kernelscope train` makes.

    python scripts/make_adversarial_fixture.py

Runs `kernelscope train` with its defaults (small-cnn on the bundled 8x8 digits, 30 epochs,
Adam 1e-3, batch 32, seed 0, best epoch by validation loss) in a temporary folder and keeps
the saved model's weights, in `model.get_weights()` order. tests/test_adversarial.py rebuilds
the architecture with kernelscope.cli.catalog.small_cnn and loads them, so the attack tests
run on the very model the command line trains without training it on every test run.
"""

import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import kernelscope as ks  # noqa: E402
from kernelscope.cli import main  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "digits_small_cnn.npz"


def run() -> None:
    with tempfile.TemporaryDirectory() as folder:
        if main(["train", "--out", folder, "--quiet"]) != 0:
            raise SystemExit("kernelscope train failed")
        model = ks.models.load_model(str(pathlib.Path(folder) / "model.keras"))
    weights = model.get_weights()
    np.savez_compressed(OUT, **{f"w{i}": w for i, w in enumerate(weights)})
    (_, _), (x_test, y_test) = ks.datasets.load_digits()
    accuracy = float(np.mean(model.predict(x_test * 255, verbose=0).argmax(axis=-1) == y_test))
    print(f"Wrote {OUT.relative_to(ROOT)} ({len(weights)} arrays); test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    run()
