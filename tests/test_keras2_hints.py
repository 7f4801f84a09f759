"""Keras 1/2 spellings that Keras 3 removed fail with an error naming the Keras 3 spelling."""

import importlib

import numpy as np
import pytest

import kernelscope as ks


@pytest.mark.parametrize("optimizer", ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"])
def test_lr_names_learning_rate_in_every_optimizer(optimizer):
    cls = getattr(ks.optimizers, optimizer)
    with pytest.raises(TypeError, match=rf"`lr` was renamed `learning_rate` in Keras 2.3; use "
                                        rf"{optimizer}\(learning_rate=0.01\). Received: lr=0.01."):
        cls(lr=0.01)


def test_decay_names_the_schedule_and_zero_decay_is_accepted():
    with pytest.raises(TypeError, match=r"`decay` was removed .*schedules\.InverseTimeDecay\(initial_learning_rate=lr, "
                                        r"decay_steps=1, decay_rate=1e-06\): pass it as Adam\(learning_rate="):
        ks.optimizers.Adam(decay=1e-6)
    assert ks.optimizers.SGD(decay=0.0).get_config()["learning_rate"] == pytest.approx(0.01)


def test_the_schedule_the_decay_hint_names_is_keras2_decay():
    # Keras 2: lr_t = lr / (1 + decay * t); the hint's InverseTimeDecay must give the same numbers
    schedule = ks.optimizers.schedules.InverseTimeDecay(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5)
    np.testing.assert_allclose([float(schedule(t)) for t in range(4)], [0.1 / (1 + 0.5 * t) for t in range(4)])


@pytest.mark.parametrize("method, keras3", [
    ("fit_generator", r"use model.fit\(generator, steps_per_epoch=..., epochs=...\)"),
    ("evaluate_generator", r"use model.evaluate\(generator, steps=...\)"),
    ("predict_generator", r"use model.predict\(generator, steps=...\)"),
    ("predict_classes", r"use np.argmax\(model.predict\(x\), axis=-1\)"),
    ("predict_proba", r"use model.predict\(x\)"),
])
def test_removed_model_methods(method, keras3):
    model = ks.Sequential([ks.Input((3,)), ks.layers.Dense(2)])
    with pytest.raises(AttributeError, match=rf"`{method}` .*{keras3}"):
        getattr(model, method)
    assert not hasattr(ks.Model, method)


def test_keras1_positional_kernel_size():
    with pytest.raises(TypeError, match=r"Convolution2D\(64, 3, 3\) is Keras 1's \(nb_filter, nb_row, nb_col\): "
                                        r"Keras 2 and 3 read the third argument as `strides`. "
                                        r"Use Conv2D\(64, \(3, 3\)\)"):
        ks.layers.Convolution2D(64, 3, 3)
    with pytest.raises(TypeError, match=r"SeparableConvolution2D\(8, 5, 5\) is Keras 1's"):
        ks.layers.SeparableConvolution2D(8, 5, 5)
    conv = ks.layers.Convolution2D(64, (3, 3), strides=2)
    assert type(conv) is ks.layers.Conv2D and conv.kernel_size == (3, 3) and conv.strides == (2, 2)
    assert ks.layers.Conv2D(8, 3, 2).strides == (2, 2)  # Keras 3 itself: the third is strides


@pytest.mark.parametrize("layer, kwargs, message", [
    ("Conv2D", dict(nb_filter=64), r"`nb_filter` is Keras 1's name, renamed `filters` in Keras 2.0; use "
                                   r"Conv2D\(..., filters=64\). Received: nb_filter=64."),
    ("Conv2D", dict(nb_row=3, nb_col=5), r"`nb_row` .* renamed `kernel_size` .* Conv2D\(..., kernel_size=\(3, 5\)\)"),
    ("Conv2D", dict(filters=8, kernel_size=3, border_mode="same"), r"`border_mode` .* `padding` .* padding='same'"),
    ("Conv2D", dict(filters=8, kernel_size=3, subsample=(2, 2)), r"`subsample` .* `strides` .* strides=\(2, 2\)"),
    ("Conv2D", dict(filters=8, kernel_size=3, init="he_normal"), r"`init` .* kernel_initializer='he_normal'"),
    ("Conv2D", dict(filters=8, kernel_size=3, dim_ordering="th"), r"data_format='channels_first'\)"),
    ("Dense", dict(output_dim=10), r"`output_dim` .* `units` .* Dense\(..., units=10\)"),
    ("Dense", dict(units=10, W_regularizer="l2"), r"`W_regularizer` .* kernel_regularizer='l2'"),
    ("Dense", dict(units=10, bias=False), r"`bias` .* `use_bias` .* use_bias=False"),
])
def test_keras1_layer_keywords(layer, kwargs, message):
    with pytest.raises(TypeError, match=message):
        getattr(ks.layers, layer)(**kwargs)


def test_a_custom_layer_may_use_those_names_itself():
    class Shift(ks.layers.Layer):
        def __init__(self, bias=1.0, **kwargs):
            super().__init__(**kwargs)
            self.bias = bias

        def call(self, x):
            return x + self.bias

    assert Shift(bias=2.0).bias == 2.0


def test_merge_layer_is_gone_with_a_hint():
    with pytest.raises(AttributeError, match=r"The `Merge` layer was removed in Keras 2.0: use layers.Add"):
        ks.layers.Merge
    with pytest.raises(AttributeError, match="module 'kernelscope.layers' has no attribute 'Nope'"):
        ks.layers.Nope


@pytest.mark.parametrize("module, name, keras3", [
    ("kernelscope.utils.np_utils", "to_categorical", "kernelscope.utils"),
    ("kernelscope.utils.np_utils", "normalize", "kernelscope.utils"),
    ("kernelscope.layers.merge", "concatenate", "kernelscope.layers"),
    ("kernelscope.layers.core", "Flatten", "kernelscope.layers"),
])
def test_removed_modules_name_the_keras3_import(module, name, keras3):
    shim = importlib.import_module(module)  # the import itself works
    with pytest.raises(ImportError, match=rf"`keras\.{module.split('.', 1)[1]}` is Keras 2's module .*"
                                          rf"`from {keras3} import {name}`"):
        exec(f"from {module} import {name}", {})
    with pytest.raises(AttributeError):
        getattr(shim, "__wrapped__")


def test_dense_still_imports_from_layers_core():
    from kernelscope.layers.core import Dense

    assert Dense is ks.layers.Dense
