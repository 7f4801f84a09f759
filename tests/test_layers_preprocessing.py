"""Augmentation layers: identity at inference, exact transforms checked by hand in training."""

import numpy as np

import kernelscope as ks

L = ks.layers


def _images(n=3, h=5, w=5, c=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, h, w, c)).astype("float32")


def test_augmentation_layers_are_identity_at_inference():
    ks.utils.set_random_seed(0)  # unseeded layers: without this, all 3 images go unflipped 1 run in 64
    x = _images()
    for layer in (L.RandomFlip(), L.RandomRotation(0.2), L.RandomZoom(0.3), L.RandomTranslation(0.2, 0.2),
                  L.RandomContrast(0.5)):
        np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
        assert not np.allclose(layer(x, training=True).numpy(), x)


def test_random_flip_gives_each_image_or_its_mirror():
    x = _images(n=16)
    y = L.RandomFlip("horizontal", seed=2)(x, training=True).numpy()
    same = np.all(y == x, axis=(1, 2, 3))
    mirrored = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    assert np.all(same | mirrored) and same.any() and mirrored.any()


def test_rotation_by_a_quarter_turn_is_rot90_counter_clockwise():
    x = _images(n=2, h=5, w=5)
    y = L.RandomRotation((0.25, 0.25), seed=0)(x, training=True).numpy()
    np.testing.assert_allclose(y, np.rot90(x, k=1, axes=(1, 2)), atol=1e-6)


def test_translation_by_one_row_with_constant_fill():
    x = _images(n=2, h=4, w=3)
    layer = L.RandomTranslation((0.25, 0.25), (0.0, 0.0), fill_mode="constant", seed=0)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y[:, 1:], x[:, :-1], atol=1e-6)
    np.testing.assert_array_equal(y[:, 0], 0.0)


def test_zoom_in_by_half_reads_half_offsets_from_the_centre():
    x = _images(n=1, h=5, w=5)
    y = L.RandomZoom((-0.5, -0.5), interpolation="nearest", seed=0)(x, training=True).numpy()
    # output offset d from the centre reads input offset d/2: (2, 4) -> (2, 3), (0, 0) -> (1, 1)
    np.testing.assert_array_equal(y[0, 2, 2], x[0, 2, 2])
    np.testing.assert_array_equal(y[0, 2, 4], x[0, 2, 3])
    np.testing.assert_array_equal(y[0, 4, 4], x[0, 3, 3])


def test_random_crop_training_takes_one_window_for_the_batch():
    x = _images(n=2, h=6, w=7)
    y = L.RandomCrop(3, 4, seed=5)(x, training=True).numpy()
    windows = [(t, lft) for t in range(4) for lft in range(4)
               if np.array_equal(x[:, t:t + 3, lft:lft + 4], y)]
    assert len(windows) == 1


def test_random_crop_inference_center_crops_to_aspect_and_resizes():
    x = _images(n=1, h=6, w=8)
    y = L.RandomCrop(3, 3)(x, training=False).numpy()
    # centred 6x6 window (columns 1..6), resized by 1/2 with half-pixel centres = 2x2 mean pooling
    window = x[:, :, 1:7]
    expected = window.reshape(1, 3, 2, 3, 2, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(y, expected, rtol=1e-6)
    assert L.RandomCrop(6, 6)(x).numpy().shape == (1, 6, 6, 2)


def test_random_contrast_scales_deviation_from_channel_mean():
    x = _images(n=4) * 100 + 50
    y = L.RandomContrast((0.2, 0.4), seed=1)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    ratio = (y - mean) / (x - mean)
    per_image = ratio.reshape(4, -1)
    np.testing.assert_allclose(per_image, np.broadcast_to(per_image[:, :1], per_image.shape), rtol=1e-3)
    assert np.all((per_image >= 0.8 - 1e-4) & (per_image <= 1.4 + 1e-4))


def test_unbatched_images_and_seeded_repeatability():
    x = _images(n=1)[0]
    a = L.RandomRotation(0.3, seed=4)(x, training=True).numpy()
    b = L.RandomRotation(0.3, seed=4)(x, training=True).numpy()
    assert a.shape == x.shape
    np.testing.assert_array_equal(a, b)
