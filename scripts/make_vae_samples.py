"""Draw docs/images/vae_samples.png, the picture in the README's "Variational autoencoder" subsection.

    python scripts/make_vae_samples.py

A convolutional VAE with a 2-D latent space and a Bernoulli decoder (pixels in
[0, 1]), trained on all the bundled 8x8 training digits for 60 epochs with
seed 0; 32 draws from its prior N(0, I), decoded, scaled up to be seen.
"""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import kernelscope as ks  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "docs" / "images" / "vae_samples.png"


def main() -> None:
    ks.utils.set_random_seed(0)
    (x_train, _), _ = ks.datasets.load_digits()
    vae = ks.anomaly.build_vae((8, 8, 1), latent_dim=2, units=(16, 32), likelihood="bernoulli", seed=0)
    vae.compile(optimizer=ks.optimizers.Adam(2e-3))
    history = vae.fit(x_train, epochs=60, batch_size=32, verbose=0).history
    print({name: round(values[-1], 2) for name, values in history.items()})
    figure = ks.anomaly.plot_vae_samples(vae, n=32, seed=0, columns=8)
    figure.savefig(OUT, dpi=80)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
