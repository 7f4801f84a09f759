"""fit/evaluate/predict fed by PyDataset, generators, iterables and torch DataLoaders; argument checks."""

import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import kernelscope as ks

L = ks.layers


def classifier():
    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model


def arrays(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype("float32"), rng.integers(0, 3, n)


class Batches(ks.utils.PyDataset):
    def __init__(self, n_batches=5, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y = arrays(8 * n_batches)
        self.n_batches, self.fetched, self.epochs_ended = n_batches, [], 0

    def __len__(self):
        return self.n_batches

    def __getitem__(self, index):
        self.fetched.append(index)
        return self.x[index * 8:(index + 1) * 8], self.y[index * 8:(index + 1) * 8]

    def on_epoch_end(self):
        self.epochs_ended += 1


class Recorder(ks.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            def hook(*args, logs=None):  # logs come positionally or by keyword; None is recorded as None
                if args and not isinstance(args[-1], (int, np.integer)):
                    logs = args[-1]
                self.calls.append((name, logs))
            return hook
        return super().__getattribute__(name)


def counting_generator(x, y, counter, batch=8):
    while True:
        for i in range(0, len(x), batch):
            counter.append(i)
            yield x[i:i + batch], y[i:i + batch]


def test_generator_with_steps_per_epoch_and_pydataset_validation_steps():
    model = classifier()
    x, y = arrays()
    taken = []
    val = Batches()
    history = model.fit(counting_generator(x, y, taken), steps_per_epoch=3, epochs=2, validation_data=val,
                        validation_steps=2, verbose=0)
    assert len(taken) == 6  # 3 batches per epoch, not the 5 of a full pass
    assert val.fetched == [0, 1, 2, 3]  # validation_steps=2 per epoch, the iterator continuing (as Keras)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_pydataset_fit_calls_epoch_hooks_and_threads_give_the_same_training():
    results = []
    for workers in (1, 3):
        model = classifier()
        data = Batches(workers=workers)
        history = model.fit(data, epochs=3, shuffle=False, verbose=0)
        assert data.epochs_ended == 3 and sorted(data.fetched) == sorted(list(range(5)) * 3)
        results.append(history.history["loss"])
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    shuffled = Batches()
    classifier().fit(shuffled, epochs=1, verbose=0)  # shuffle=True reorders a PyDataset's batches (Keras)
    assert sorted(shuffled.fetched) == list(range(5))
    with pytest.raises(ValueError, match=r"use_multiprocessing=True\) is not supported"):
        Batches(use_multiprocessing=True)


def test_pydataset_evaluate_predict_match_arrays():
    model = classifier()
    data = Batches()
    np.testing.assert_allclose(model.evaluate(data, verbose=0), model.evaluate(data.x, data.y, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(model.predict(data, verbose=0), model.predict(data.x, verbose=0), rtol=1e-5)


def test_torch_dataloader_and_reiterable_with_len():
    model = classifier()
    x, y = arrays(30)
    loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=10)
    history = model.fit(loader, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict(loader, verbose=0).shape == (30, 3)
    loss, accuracy = model.evaluate(loader, verbose=0)
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-5)


def test_one_shot_generator_runs_dry_with_keras_warning():
    model = classifier()
    x, y = arrays(16)
    batches = ((x[i:i + 8], y[i:i + 8]) for i in (0, 8))
    with pytest.warns(UserWarning, match="Your input ran out of data; interrupting training"):
        history = model.fit(batches, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1  # epoch 2 found nothing: training stopped


def test_every_callback_hook_receives_a_dict():
    model = classifier()
    x, y = arrays(16)
    rec = Recorder()
    model.fit(x, y, batch_size=8, epochs=1, validation_data=(x, y), callbacks=[rec], verbose=0)
    model.evaluate(x, y, batch_size=8, callbacks=[rec], verbose=0)
    model.predict(x, batch_size=8, callbacks=[rec], verbose=0)
    names = [name for name, _ in rec.calls]
    for hook in ("on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
                 "on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end", "on_epoch_end",
                 "on_train_end", "on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
                 "on_predict_end"):
        assert hook in names, hook
    assert all(isinstance(logs, dict) for _, logs in rec.calls)
    assert names.index("on_test_begin") < names.index("on_epoch_end")  # validation fires the test hooks
    assert "outputs" in dict(rec.calls)["on_predict_batch_end"]


def test_dataset_argument_errors():
    model = classifier()
    with pytest.warns(UserWarning, match="`batch_size=8` is ignored: `x` is a dataset"):
        model.fit(Batches(), batch_size=8, verbose=0)  # Keras 3 ignores it (its guide passes one)
    with pytest.raises(ValueError, match="`y` argument is not supported when using a dataset"):
        model.fit(Batches(), np.zeros(3), verbose=0)
    with pytest.raises(ValueError, match="`validation_split` is only supported for NumPy arrays"):
        model.fit(Batches(), validation_split=0.2, verbose=0)
    with pytest.warns(UserWarning, match="`validation_batch_size=4` is ignored: `validation_x` is a dataset"):
        model.fit(*arrays(), validation_data=Batches(), validation_batch_size=4, verbose=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"steps_per_epoch": "abc"}, "`steps_per_epoch` must be a positive integer or None"),
    ({"steps_per_epoch": 0}, "`steps_per_epoch` must be a positive integer or None"),
    ({"validation_steps": -1}, "`validation_steps` must be a positive integer or None"),
    ({"validation_batch_size": -4}, "`validation_batch_size` must be a positive integer or None"),
    ({"validation_freq": -1}, "`validation_freq` must be a positive integer"),
    ({"validation_freq": 0}, "`validation_freq` must be a positive integer"),
    ({"validation_freq": [1, "2"]}, "`validation_freq` must be a positive integer"),
])
def test_fit_arguments_refused_before_the_first_step(kwargs, message):
    model = classifier()
    x, y = arrays()
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, validation_data=(x, y), verbose=0, **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_steps_per_epoch_and_validation_freq_list_on_arrays():
    model = classifier()
    x, y = arrays(48)  # 6 batches: the 3 epochs of 2 steps walk through them once (Keras)
    rec = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, y, batch_size=8, steps_per_epoch=2, epochs=3, validation_data=(x, y),
                            validation_freq=[1, 3], callbacks=[rec], verbose=0)
    assert [name for name, _ in rec.calls].count("on_train_batch_end") == 6
    assert len(history.history["val_loss"]) == 2
    assert model.optimizer.iterations == 6


@pytest.mark.parametrize("what", ["y", "sample_weight", "class_weight_nan", "class_weight_inf"])
def test_values_beyond_float32_are_refused(what):
    model = ks.Sequential([ks.Input((4,)), L.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((4, 4), "float32")
    y = np.ones((4, 1))
    kwargs = {}
    if what == "y":
        y[2, 0] = 1e39  # finite in float64, inf in float32
    elif what == "sample_weight":
        kwargs["sample_weight"] = np.array([1.0, 1e39, 1.0, 1.0])
    else:
        y = np.array([0, 1, 0, 1])
        kwargs["class_weight"] = {0: np.nan if what == "class_weight_nan" else np.inf, 1: 1.0}
    message = "class_weight` values must be finite" if what.startswith("class") else "NaN or infinite values"
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0, **kwargs)


def test_sklearn_estimator_refuses_weights_beyond_float32():
    from kernelscope.sklearn import NeuralNetRegressor

    x, _ = arrays(20)
    with pytest.raises(ValueError, match="NaN or infinite"):
        NeuralNetRegressor(epochs=1).fit(x, np.full(20, 1e39))
    with pytest.raises(ValueError, match="`sample_weight` must hold finite, non-negative weights"):
        NeuralNetRegressor(epochs=1).fit(x, np.ones(20), sample_weight=np.full(20, 1e39))


def test_class_weight_value_that_is_not_a_number():
    model = classifier()
    with pytest.raises(ValueError, match=r"`class_weight` values must be numbers. Received: class_weight\[0\]='heavy'"):
        model.fit(*arrays(), class_weight={0: "heavy", 1: 1.0, 2: 1.0}, verbose=0)


def test_validation_data_shape_error_reports_the_data_shape():
    model = classifier()
    with pytest.raises(ValueError, match=r"received shape=\(7, 5\)"):
        model.fit(*arrays(), validation_data=(np.zeros((7, 5)), np.zeros(7, int)), verbose=0)


def test_keras_style_data_adapters_also_without_len():
    class Stream:  # a tf.data-like iterable with no __len__: iter() again every epoch
        def __init__(self):
            self.x, self.y = arrays(16)
            self.passes = 0

        def __iter__(self):
            self.passes += 1
            for i in (0, 8):
                yield self.x[i:i + 8], self.y[i:i + 8]

    model = classifier()
    stream = Stream()
    history = model.fit(stream, epochs=3, validation_data=stream, verbose=0)
    assert stream.passes == 6 and len(history.history["val_loss"]) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a re-iterable never runs dry
        model.fit(stream, epochs=2, verbose=0)


def test_class_weight_with_validation_split_and_summary_refusals():
    model = classifier()
    x, y = arrays()
    history = model.fit(x, y, validation_split=0.25, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)
    assert "val_loss" in history.history
    with pytest.raises(ValueError, match=r"summary\(expand_nested=True\) is not supported"):
        model.summary(expand_nested=True)
    with pytest.raises(ValueError, match=r"summary\(layer_range=...\) is not supported"):
        model.summary(layer_range=["dense", "dense_1"])


def test_endless_pydataset_needs_steps_and_is_not_shuffled():
    class Endless(ks.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.x, self.y = arrays(8)

        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return self.x, self.y

    model = classifier()
    with pytest.warns(UserWarning, match="will be ignored since the data `x` was provided as an infinite PyDataset"):
        history = model.fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0)
    assert model.optimizer.iterations == 6 and len(history.history["loss"]) == 2


def test_validation_data_without_the_channel_axis_is_adjusted_as_the_training_data_is():
    # keras-io siamese_contrastive: (n, 28, 28) arrays into Input((28, 28, 1)), validation included
    inputs = ks.Input((4, 4, 1))
    model = ks.Model(inputs, ks.layers.Dense(1)(ks.layers.Flatten()(inputs)))
    model.compile("sgd", "mse")
    x, y = np.zeros((6, 4, 4), "float32"), np.zeros((6, 1), "float32")
    history = model.fit(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert sorted(history.history) == ["loss", "val_loss"]


def test_a_pydataset_that_sets_workers_without_super_init_gets_the_other_defaults():
    x = np.zeros((8, 3), "float32")

    class D(ks.utils.PyDataset):
        def __init__(self):  # no super().__init__(): Keras warns and fills in each missing setting
            self.workers = 2

        def __len__(self):
            return 2

        def __getitem__(self, index):
            return x, x[:, :1]

    model = ks.Sequential([ks.Input((3,)), ks.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="should call `super\\(\\).__init__"):
        history = model.fit(D(), epochs=1, verbose=0)
    assert list(history.history) == ["loss"]
