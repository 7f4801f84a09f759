"""Optimizers against Keras's published update rules, computed here step by step in NumPy."""

import math

import numpy as np
import pytest

import kernelscope as ks
from kernelscope.layers.base import Variable
from kernelscope.optimizers import schedules

W0 = np.array([[0.5, -1.0, 2.0], [0.1, 0.0, -0.3]])
GRADS = [np.array([[0.1, -0.2, 0.3], [1.0, -0.5, 0.05]]),
         np.array([[-0.3, 0.4, 0.2], [0.5, 0.5, -1.0]]),
         np.array([[0.2, 0.1, -0.4], [-0.8, 0.3, 0.6]])]


def run(opt, dtype=np.float64, steps=3):
    var = Variable(W0.astype(dtype), name="kernel")
    buffer = var.data
    for g in GRADS[:steps]:
        opt.apply_gradients([(g.astype(dtype), var)])
    assert var.data is buffer  # updated in place
    return var.data


def test_sgd_plain():
    w = W0.copy()
    for g in GRADS:
        w = w - 0.01 * g
    np.testing.assert_allclose(run(ks.optimizers.SGD()), w, rtol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum(nesterov):
    lr, mu = 0.1, 0.9
    w, v = W0.copy(), np.zeros_like(W0)
    for g in GRADS:
        v = mu * v - lr * g
        w = w + (mu * v - lr * g if nesterov else v)
    np.testing.assert_allclose(run(ks.optimizers.SGD(lr, momentum=mu, nesterov=nesterov)), w, rtol=1e-12)


@pytest.mark.parametrize("centered,momentum", [(False, 0.0), (True, 0.0), (False, 0.5), (True, 0.5)])
def test_rmsprop(centered, momentum):
    lr, rho, eps = 0.01, 0.9, 1e-7
    w, v, mg, m = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for g in GRADS:
        v = rho * v + (1 - rho) * g * g
        if centered:
            mg = rho * mg + (1 - rho) * g
            step = lr * g / np.sqrt(v - mg * mg + eps)
        else:
            step = lr * g / np.sqrt(v + eps)
        if momentum:
            m = momentum * m + step
            step = m
        w = w - step
    opt = ks.optimizers.RMSprop(lr, momentum=momentum, centered=centered)
    np.testing.assert_allclose(run(opt), w, rtol=1e-10)


def adam_reference(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=0.0):
    w, m, v, vhat = W0.copy(), np.zeros_like(W0), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate(GRADS, start=1):
        w = w - w * wd * lr  # decoupled decay, applied before the step
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        vhat = np.maximum(vhat, v)
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - alpha * m / (np.sqrt(vhat if amsgrad else v) + eps)
    return w


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam(amsgrad):
    # beta_2=0.5 lets v shrink between steps, so the AMSGrad maximum matters
    np.testing.assert_allclose(run(ks.optimizers.Adam(0.01, beta_2=0.5, amsgrad=amsgrad)),
                               adam_reference(lr=0.01, b2=0.5, amsgrad=amsgrad), rtol=1e-10)
    np.testing.assert_allclose(run(ks.optimizers.Adam(0.01)), adam_reference(lr=0.01), rtol=1e-10)


def test_amsgrad_differs_from_adam_on_these_gradients():
    assert not np.allclose(adam_reference(b2=0.5, amsgrad=True), adam_reference(b2=0.5), rtol=1e-6, atol=0)


def test_adamw_decoupled_decay():
    opt = ks.optimizers.AdamW(learning_rate=0.05, weight_decay=0.1)
    np.testing.assert_allclose(run(opt), adam_reference(lr=0.05, wd=0.1), rtol=1e-10)
    assert ks.optimizers.AdamW().weight_decay == 0.004


def test_adagrad():
    lr, eps, acc = 0.1, 1e-7, np.full_like(W0, 0.1)
    w = W0.copy()
    for g in GRADS:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    np.testing.assert_allclose(run(ks.optimizers.Adagrad(lr)), w, rtol=1e-12)


def test_clipnorm_per_tensor():
    w = W0.copy()
    for g in GRADS:
        norm = np.sqrt(np.sum(g * g))
        w = w - 0.1 * g * 0.5 / max(norm, 0.5)
    np.testing.assert_allclose(run(ks.optimizers.SGD(0.1, clipnorm=0.5)), w, rtol=1e-12)


def test_clipvalue():
    w = W0.copy()
    for g in GRADS:
        w = w - 0.1 * np.clip(g, -0.25, 0.25)
    np.testing.assert_allclose(run(ks.optimizers.SGD(0.1, clipvalue=0.25)), w, rtol=1e-12)


def test_global_clipnorm_over_two_variables():
    a, b = Variable(np.ones(3), name="a"), Variable(np.ones(2), name="b")
    ga, gb = np.array([3.0, 0.0, 0.0]), np.array([0.0, 4.0])  # global norm 5
    ks.optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(ga, a), (gb, b)])
    np.testing.assert_allclose(a.data, [1 - 0.6, 1, 1])
    np.testing.assert_allclose(b.data, [1, 1 - 0.8])


@pytest.mark.parametrize("cls", [ks.optimizers.SGD, ks.optimizers.RMSprop, ks.optimizers.Adam,
                                 ks.optimizers.AdamW, ks.optimizers.Adagrad])
def test_float32_stays_float32_and_matches_float64(cls):
    opt32 = cls(learning_rate=0.01) if cls is not ks.optimizers.SGD else cls(0.01, momentum=0.9)
    opt64 = cls.from_config(opt32.get_config())
    w32, w64 = run(opt32, np.float32), run(opt64, np.float64)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)


def test_defaults_match_keras():
    assert ks.optimizers.SGD().get_config()["learning_rate"] == 0.01
    rms = ks.optimizers.RMSprop().get_config()
    assert (rms["learning_rate"], rms["rho"], rms["momentum"], rms["epsilon"], rms["centered"]) == \
        (0.001, 0.9, 0.0, 1e-7, False)
    adam = ks.optimizers.Adam().get_config()
    assert (adam["beta_1"], adam["beta_2"], adam["epsilon"], adam["amsgrad"]) == (0.9, 0.999, 1e-7, False)
    ada = ks.optimizers.Adagrad().get_config()
    assert (ada["learning_rate"], ada["initial_accumulator_value"], ada["epsilon"]) == (0.001, 0.1, 1e-7)


def test_iterations_learning_rate_setter_and_schedule():
    opt = ks.optimizers.SGD(0.1)
    run(opt, steps=2)
    assert opt.iterations == 2
    opt.learning_rate = 0.05
    assert opt.learning_rate == 0.05
    sched = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = ks.optimizers.SGD(sched)
    var = Variable(np.zeros(1), name="v")
    for _ in range(3):
        opt.apply_gradients([(np.ones(1), var)])
    np.testing.assert_allclose(var.data, [-(0.1 + 0.05 + 0.025)])
    assert opt.learning_rate == pytest.approx(0.0125)
    with pytest.raises(TypeError, match="its learning rate is not settable"):
        opt.learning_rate = 0.1


def test_state_round_trip_continues_identically():
    a = ks.optimizers.Adam(0.01, amsgrad=True)
    var_a = Variable(W0.copy(), name="kernel")
    a.apply_gradients([(GRADS[0], var_a)])
    state = {k: np.array(v, copy=True) for k, v in a.get_state().items()}
    assert {"iterations", "m/0", "v/0", "v_hat/0"} <= set(state)
    b = ks.optimizers.Adam(0.01, amsgrad=True)
    var_b = Variable(var_a.data.copy(), name="kernel")
    b.set_state(state, [var_b])
    for g in GRADS[1:]:
        a.apply_gradients([(g, var_a)])
        b.apply_gradients([(g, var_b)])
    np.testing.assert_array_equal(var_a.data, var_b.data)
    with pytest.raises(ValueError, match="has no state entry 'w/0'"):
        b.set_state({"w/0": np.zeros(1)}, [var_b])
    with pytest.raises(ValueError, match=r"Optimizer state 'm/0' has shape \(2, 3\); received shape \(3,\)"):
        b.set_state({"m/0": np.zeros(3)}, [var_b])


def test_none_gradients_skipped_and_weight_decay_exclusion():
    a, b = Variable(np.ones(2), name="dense/kernel"), Variable(np.ones(2), name="dense/bias")
    opt = ks.optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply_gradients([(np.zeros(2), a), (None, b)])
    np.testing.assert_allclose(a.data, [0.95, 0.95])
    opt.apply_gradients([(np.zeros(2), b)])
    np.testing.assert_allclose(b.data, [1.0, 1.0])


def test_get_and_config():
    assert isinstance(ks.optimizers.get("adam"), ks.optimizers.Adam)
    assert isinstance(ks.optimizers.get("RMSprop"), ks.optimizers.RMSprop)
    opt = ks.optimizers.SGD(0.3, momentum=0.5, nesterov=True)
    assert ks.optimizers.get(opt) is opt
    clone = ks.optimizers.get(ks.optimizers.serialize(opt))
    assert clone.get_config() == opt.get_config()
    sched_opt = ks.optimizers.Adam(schedules.CosineDecay(0.1, 10))
    clone = ks.optimizers.Adam.from_config(sched_opt.get_config())
    assert isinstance(clone._learning_rate, schedules.CosineDecay)
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier: 'adamax'.*'adagrad', 'adam'"):
        ks.optimizers.get("adamax")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 'Nadam'"):
        ks.optimizers.deserialize({"class_name": "Nadam", "config": {}})


def test_errors():
    var = Variable(np.ones(2), name="w")
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        ks.optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]. Received: momentum=1.5"):
        ks.optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="Argument `learning_rate` should be float.*learning_rate='fast'"):
        ks.optimizers.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match="Argument `learning_rate` must be >= 0. Received: learning_rate=-1"):
        ks.optimizers.SGD(learning_rate=-1)
    with pytest.raises(ValueError, match=r"Argument\(s\) not recognized: \{'betas'"):
        ks.optimizers.Adam(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="Argument `weight_decay` must be a float. Received: weight_decay=None"):
        ks.optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="Argument `clipnorm` must be a float >= 0 or None. Received: clipnorm=-1"):
        ks.optimizers.SGD(clipnorm=-1)
    with pytest.raises(ValueError, match="`initial_accumulator_value` must be a float >= 0"):
        ks.optimizers.Adagrad(initial_accumulator_value=-0.1)
    with pytest.raises(ValueError, match="No gradients provided for any variable."):
        ks.optimizers.SGD().apply_gradients([(None, var)])
    with pytest.raises(ValueError, match=r"Gradient for variable 'w' has shape \(3,\); expected .* \(2,\)"):
        ks.optimizers.SGD().apply_gradients([(np.ones(3), var)])



@pytest.mark.parametrize("arguments", [{"use_ema": True}, {"use_ema": 1, "ema_momentum": 0.9},
                                       {"gradient_accumulation_steps": 4}, {"loss_scale_factor": 128.0}])
def test_unimplemented_keras_features_are_refused_not_ignored(arguments):
    name = next(iter(arguments))
    with pytest.raises(NotImplementedError, match=f"Adam: `{name}` is not implemented in kernelscope.*"
                                                  f"Received: {name}="):
        ks.optimizers.Adam(**arguments)


def test_keras_feature_arguments_switched_off_are_accepted():
    # what Keras's own get_config writes for every optimizer (keras 3.15.1, base_optimizer.py)
    off = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
           "gradient_accumulation_steps": None}
    opt = ks.optimizers.SGD(0.1, **off)
    var = Variable(np.ones(2), name="w")
    opt.apply_gradients([(np.ones(2), var)])
    np.testing.assert_allclose(var.data, [0.9, 0.9])


def _adam_gradients(steps: int) -> list:
    return [np.random.default_rng(step).standard_normal(W0.shape) for step in range(steps)]


def test_deep_copy_keeps_the_optimizer_state_of_its_variables():
    import copy

    var = Variable(W0.copy(), name="kernel")
    opt = ks.optimizers.Adam(0.01)
    opt.exclude_from_weight_decay([var])
    for g in _adam_gradients(3):
        opt.apply_gradients([(g, var)])
    opt_copy, var_copy = copy.deepcopy((opt, var))
    for g in _adam_gradients(5)[3:]:
        opt.apply_gradients([(g, var)])
        opt_copy.apply_gradients([(g, var_copy)])
    # one set of slots (it used to gain a second, zero-initialised one), and the same trajectory
    assert len(opt_copy._slots["m"]) == 1 and opt_copy._exclude_ids == {id(var_copy)}
    np.testing.assert_array_equal(var_copy.data, var.data)


def test_deep_copied_model_trains_on_as_the_original():
    import copy

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((32, 4)).astype("float32"), rng.standard_normal((32, 3)).astype("float32")
    model = ks.Sequential([ks.Input((4,)), ks.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, shuffle=False, verbose=0)
    duplicate = copy.deepcopy(model)
    model.fit(x, y, epochs=2, shuffle=False, verbose=0)  # shuffled, the batch's rows would add in another order
    duplicate.fit(x, y, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), duplicate.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(duplicate.optimizer._slots["m"]) == 2

# ------------------------------------------------------------------ schedules
def test_exponential_decay():
    s = schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96)
    assert s(0) == pytest.approx(0.1)
    assert s(150) == pytest.approx(0.1 * 0.96 ** 1.5)
    stair = schedules.ExponentialDecay(0.1, 100, 0.96, staircase=True)
    assert stair(150) == pytest.approx(0.1 * 0.96)
    assert schedules.ExponentialDecay.from_config(stair.get_config()).get_config() == stair.get_config()


def test_piecewise_constant_decay():
    s = schedules.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    assert [s(0), s(100), s(101), s(110), s(111)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    with pytest.raises(ValueError, match="The length of boundaries should be 1 less than the length of values"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_cosine_decay_with_and_without_warmup():
    s = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    assert s(0) == pytest.approx(0.1)
    assert s(50) == pytest.approx(0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)) + 0.1))
    assert s(500) == pytest.approx(0.1 * 0.1)
    w = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.2, warmup_steps=10)
    assert w(5) == pytest.approx(0.1)
    assert w(10) == pytest.approx(0.2)
    assert w(60) == pytest.approx(0.2 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    with pytest.raises(ValueError, match="Argument `decay_steps` must be > 0. Received: decay_steps=0"):
        schedules.CosineDecay(0.1, 0)


def test_inverse_time_and_polynomial_decay():
    assert schedules.InverseTimeDecay(0.1, 1.0, 0.5)(4) == pytest.approx(0.1 / 3)
    p = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0)
    assert p(5) == pytest.approx(0.09 * 0.25 + 0.01)
    assert p(50) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="Unknown learning rate schedule: 'Foo'"):
        schedules.deserialize({"class_name": "Foo", "config": {}})
