"""Model.input/output shapes and shape checks at graph-building time."""

import pytest

import kernelscope as ks


def test_sequential_and_functional_models_report_input_and_output_shapes():
    seq = ks.Sequential([ks.Input((8, 8, 1)), ks.layers.Conv2D(4, 3), ks.layers.Flatten(), ks.layers.Dense(3)])
    assert seq.input_shape == (None, 8, 8, 1)
    assert seq.output_shape == (None, 3)
    a, b = ks.Input((5,)), ks.Input((2,))
    merged = ks.layers.Concatenate()([ks.layers.Dense(4)(a), b])
    model = ks.Model([a, b], [ks.layers.Dense(1)(merged), merged])
    assert model.input_shape == [(None, 5), (None, 2)]
    assert model.output_shape == [(None, 1), (None, 6)]


def test_unbuilt_model_has_no_input_yet():
    with pytest.raises(AttributeError, match="has no defined input yet"):
        ks.Sequential([ks.layers.Dense(3)]).input


def test_reusing_a_dense_layer_on_another_width_fails_when_the_graph_is_built():
    dense = ks.layers.Dense(2)
    dense(ks.Input((5,)))
    with pytest.raises(ValueError, match=r"expects inputs with 5 features .* Received: input of shape \(None, 7\)"):
        dense(ks.Input((7,)))


def test_reusing_a_conv_layer_checks_channels_but_allows_other_image_sizes():
    conv = ks.layers.Conv2D(2, 3)
    conv(ks.Input((8, 8, 3)))
    assert conv(ks.Input((16, 16, 3))).shape == (None, 14, 14, 2)
    with pytest.raises(ValueError, match=r"expects inputs with 3 channels .* \(None, 8, 8, 4\)"):
        conv(ks.Input((8, 8, 4)))
