"""train_step / test_step / predict_step overrides, compute_loss, metrics, add_loss, add_weight, add_variable."""

import numpy as np
import pytest

import kernelscope as ks

L = ks.layers


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype("float32")
    return x, (x @ np.arange(1, 6, dtype="float32")[:, None]) * 0.1


class CountingModel(ks.Model):
    """The guide's first example, plus a call counter and a custom metric."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = {"train": 0, "test": 0, "predict": 0}
        self.max_error = ks.metrics.Mean(name="max_error")

    def train_step(self, data):
        self.calls["train"] += 1
        x, y = data
        with ks.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            elif metric.name == "max_error":
                metric.update_state(np.abs(y - y_pred.numpy()).max())
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        self.calls["test"] += 1
        return super().test_step(data)

    def predict_step(self, data):
        self.calls["predict"] += 1
        return super().predict_step(data) * 0.0 + 7.0


def counting_model():
    ks.utils.set_random_seed(0)
    inputs = ks.Input((5,))
    return CountingModel(inputs, L.Dense(1)(inputs))


def test_train_step_override_is_what_fit_calls():
    model = counting_model()
    model.compile(optimizer=ks.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    x, y = regression_data()
    history = model.fit(x, y, batch_size=16, epochs=4, validation_data=(x, y), verbose=0)
    assert model.calls["train"] == 16 and model.calls["test"] == 16
    assert list(history.history) == ["loss", "mae", "max_error", "val_loss", "val_mae", "val_max_error"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.all(model.predict(x, batch_size=32, verbose=0) == 7.0) and model.calls["predict"] == 2
    assert isinstance(model, ks.Model) and type(model).__name__ == "CountingModel"


def test_default_train_step_equals_train_on_batch_and_compute_loss():
    x, y = regression_data(16)
    model = ks.Sequential([ks.Input((5,)), L.Dense(1, kernel_regularizer=ks.regularizers.L2(0.1))])
    model.compile("sgd", "mse")
    expected = float(np.mean((model.predict(x, verbose=0) - y) ** 2)) + 0.1 * float(
        np.sum(model.layers[-1].kernel.numpy() ** 2))
    loss = model.compute_loss(y=y, y_pred=model(x))
    assert float(loss.numpy()) == pytest.approx(expected, rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-5)


def test_metrics_property_and_reset_each_epoch():
    class Manual(ks.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = ks.metrics.Mean(name="loss")
            self.loss_fn = ks.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            with ks.GradientTape() as tape:
                loss = self.loss_fn(y, self(x, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip([g.numpy() for g in grads], self.trainable_weights))
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self):
            return [self.loss_tracker]

    inputs = ks.Input((5,))
    model = Manual(inputs, L.Dense(1)(inputs))
    model.compile(optimizer="adam")  # no loss: the train_step brings its own
    x, y = regression_data()
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)
    assert model.loss_tracker.count == 1  # reset at the start of the second epoch


def test_vae_style_add_loss_model_trains_without_compiled_loss():
    class AutoEncoder(ks.Model):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = L.Dense(3), L.Dense(6)

        def call(self, x):
            z = self.encoder(x)
            self.add_loss(1e-3 * (z * z).mean())
            out = self.decoder(z)
            self.add_loss(((out - x) ** 2).mean())
            return out

    ks.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((64, 6)).astype("float32")
    model = AutoEncoder()
    model.compile(optimizer=ks.optimizers.Adam(0.02))
    history = model.fit(x, epochs=6, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]
    model(x[:2])
    assert len(model.losses) == 2  # cleared at each forward, not accumulated


def test_compile_without_loss_and_no_add_loss_says_so():
    model = ks.Sequential([ks.Input((5,)), L.Dense(1)])
    model.compile("adam")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(*regression_data(), verbose=0)


def test_subclassed_model_receives_dict_and_list_inputs():
    seen = []

    class TwoInputs(ks.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(1)

        def call(self, inputs):
            seen.append(type(inputs).__name__)
            if isinstance(inputs, dict):
                return self.dense(inputs["a"] + inputs["b"])
            return self.dense(inputs[0] - inputs[1])

    x, y = regression_data(8)
    model = TwoInputs()
    model.compile("sgd", "mse")
    model.fit({"a": x, "b": x}, y, batch_size=4, verbose=0)
    assert set(seen) == {"dict"}
    seen.clear()

    def batches():
        for _ in range(2):
            yield [x, x], y

    model.fit(batches(), verbose=0)
    assert set(seen) == {"list"}


def test_add_weight_arguments():
    layer = L.Layer()
    w = layer.add_weight(shape=(2, 3), initializer="ones", trainable=True, autocast=False,
                         regularizer="l2", constraint=lambda v: np.clip(v, 0.0, 0.5), aggregation="mean",
                         overwrite_with_gradient=False, name="w")
    assert w.name == "w" and w.aggregation == "mean" and len(layer.losses) == 1
    scalar = layer.add_weight()
    assert scalar.shape == () and scalar.trainable
    with pytest.raises(ValueError, match="`name` must be passed as a keyword argument"):
        layer.add_weight("kernel")
    with pytest.raises(ValueError, match="Invalid value for argument `aggregation`"):
        layer.add_weight(shape=(1,), aggregation="max")
    with pytest.raises(ValueError, match="`constraint` must be a callable"):
        layer.add_weight(shape=(1,), constraint="non_neg")
    with pytest.raises(ValueError, match="`shape` must be fully defined"):
        layer.add_weight(shape=(None, 2))
    with pytest.raises(TypeError, match="`autocast` must be a bool"):
        layer.add_weight(shape=(1,), autocast="yes")


def test_constraint_and_overwrite_with_gradient_after_an_optimizer_step():
    layer = L.Layer()
    clipped = layer.add_weight(shape=(3,), initializer="ones", constraint=lambda v: np.clip(v, 0.0, 0.95))
    overwritten = layer.add_weight(shape=(3,), initializer="zeros", overwrite_with_gradient=True)
    opt = ks.optimizers.SGD(0.01)
    opt.apply([np.array([-1.0, 0.0, 1.0]), np.array([4.0, 5.0, 6.0])], [clipped, overwritten])
    np.testing.assert_allclose(clipped.numpy(), [0.95, 0.95, 0.95])
    np.testing.assert_allclose(overwritten.numpy(), [4.0, 5.0, 6.0])
    with pytest.raises(ValueError, match="`grads` and `trainable_variables` must have the same length"):
        opt.apply([np.zeros(3)], [clipped, overwritten])


def test_metric_add_variable_and_default_reset():
    class TruePositives(ks.metrics.Metric):
        def __init__(self, name="tp", **kwargs):
            super().__init__(name=name, **kwargs)
            self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.tp.assign(self.tp.numpy() + np.sum((np.asarray(y_true) == 1) & (np.asarray(y_pred) > 0.5)))

        def result(self):
            return self.tp.numpy()

    metric = TruePositives()
    metric.update_state([1, 1, 0], [0.9, 0.2, 0.8])
    assert float(metric.result()) == 1.0 and metric.variables == [metric.tp]
    metric.reset_state()
    assert float(metric.result()) == 0.0
    with pytest.raises(ValueError, match="Invalid value for argument `aggregation`"):
        metric.add_variable((), "zeros", aggregation="max")


def test_custom_train_step_with_a_generator_sees_compiled_metrics():
    model = counting_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = regression_data(32)

    def batches():
        for i in range(0, 32, 8):
            yield x[i:i + 8], y[i:i + 8]

    history = model.fit(batches(), verbose=0)
    assert set(history.history) == {"loss", "mae", "max_error"} and model.calls["train"] == 4
    assert history.history["mae"][0] > 0


def test_compute_loss_override_without_training_argument():
    class Doubled(ks.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):  # Keras < 3.3 signature
            return super().compute_loss(x, y, y_pred, sample_weight) * 2.0

    inputs = ks.Input((5,))
    model = Doubled(inputs, L.Dense(1, kernel_initializer="zeros")(inputs))
    model.compile("sgd", "mse")
    x, y = regression_data(8)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(2 * float(np.mean(y ** 2)), rel=1e-5)


def test_layers_inside_custom_layers_and_private_or_list_attributes_train():
    # Keras 3 tracks every attribute: a custom block's Dense layers must train (before: 0 weights, flat loss)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)

    class Block(ks.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.out = ks.layers.Dense(1)
            self._hidden = [ks.layers.Dense(4)]

        def call(self, inputs):
            return self.out(self._hidden[0](inputs))

    ks.utils.set_random_seed(0)
    model = ks.Sequential([ks.Input((4,)), Block()])
    model.compile("sgd", "mse")
    losses = model.fit(x, y, epochs=3, verbose=0).history["loss"]
    assert model.count_params() == 4 * 4 + 4 + 4 + 1 and len(model.trainable_weights) == 4
    assert losses[-1] < losses[0]

    class Sub(ks.Model):
        def __init__(self):
            super().__init__()
            self._first = ks.layers.Dense(3)
            self.rest = [ks.layers.Dense(1)]

        def call(self, inputs):
            return self.rest[0](self._first(inputs))

    sub = Sub()
    sub.compile("sgd", "mse")
    before = sub(x).numpy()
    sub.fit(x, y, epochs=2, verbose=0)
    assert len(sub.trainable_weights) == 4 and not np.allclose(sub(x).numpy(), before)
    block = Block()
    block(x)
    block.trainable = False
    assert (len(block.trainable_weights), len(block.weights)) == (0, 4)


def test_class_weight_does_not_weigh_the_validation_split():
    # Keras splits (x, y, sample_weight) and applies class_weight to the training part only
    ks.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = ks.Sequential([ks.Input((3,)), ks.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, validation_split=0.5, class_weight={0: 10.0, 1: 10.0}, shuffle=False, epochs=1,
                        verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[20:], y[20:], verbose=0), rel=1e-6)


def test_a_custom_train_step_fits_on_x_alone_with_a_compiled_loss():
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    calls = []

    class AE(ks.Model):
        def __init__(self):
            super().__init__()
            self.d = ks.layers.Dense(3)

        def call(self, inputs):
            return self.d(inputs)

        def train_step(self, data):
            calls.append(type(data))
            with ks.GradientTape() as tape:
                loss = self.compute_loss(y=data, y_pred=self(data, training=True))
            self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
            return {"reconstruction": loss}

    model = AE()
    model.compile("sgd", "mse")
    history = model.fit(x, epochs=2, batch_size=8, verbose=0)  # before: "`y` is required ..."
    assert len(calls) == 4 and len(history.history["reconstruction"]) == 2
