"""ks.utils: to_categorical, normalize, set_random_seed, plot_model / model_to_dot."""

import os
import random
import stat
import sys

import numpy as np
import pytest
import torch

import kernelscope as ks
from kernelscope.autograd import Tensor, gradcheck


def test_to_categorical_keras_semantics():
    # Keras 3: argument x, a trailing axis of 1 is dropped, any leading shape is kept
    out = ks.utils.to_categorical(x=np.array([[[1], [0]], [[2], [2]]]), num_classes=3)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.reshape(-1, 3), np.eye(3)[[1, 0, 2, 2]])
    with pytest.raises(ValueError, match=r"`x` must hold integer class labels. Received: dtype=float64"):
        ks.utils.to_categorical([0.5, 1.0])


def test_normalize_matches_numpy_and_torch():
    x = np.random.default_rng(0).standard_normal((4, 5))
    x[1] = 0.0
    for order, axis in [(2, -1), (1, 0), (3, 1)]:
        expected = torch.nn.functional.normalize(torch.tensor(x), p=order, dim=axis, eps=1e-300).numpy()
        np.testing.assert_allclose(ks.utils.normalize(x, axis=axis, order=order), expected, rtol=1e-12)
        np.testing.assert_allclose(ks.utils.normalize(Tensor(x), axis=axis, order=order).numpy(), expected,
                                   rtol=1e-12)


def test_normalize_tensor_gradient_and_errors():
    x = np.random.default_rng(1).standard_normal((3, 4)) + 0.1
    assert gradcheck(lambda t: ks.utils.normalize(t, axis=-1, order=2), [x])
    assert gradcheck(lambda t: ks.utils.normalize(t, axis=0, order=3), [x])
    with pytest.raises(ValueError, match=r"`order` must be a positive finite number. Received: order=inf"):
        ks.utils.normalize(Tensor(x), order=np.inf)


def test_set_random_seed_seeds_python_numpy_and_kernelscope():
    def draws():
        ks.utils.set_random_seed(5)
        layer = ks.layers.Dense(3)
        layer.build((None, 2))
        return random.random(), np.random.rand(), layer.kernel.numpy().copy()
    a, b = draws(), draws()
    assert a[0] == b[0] and a[1] == b[1]
    np.testing.assert_array_equal(a[2], b[2])


# ---------------------------------------------------------------- plot_model

def _branching_model():
    ks.utils.clear_session()
    inp = ks.Input((8, 8, 1), name="image")
    x = ks.layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
    a = ks.layers.Flatten(name="flat_a")(x)
    b = ks.layers.Flatten(name="flat_b")(x)
    out = ks.layers.Dense(2, name="head")(ks.layers.Concatenate(name="join")([a, b]))
    return ks.Model(inp, out, name="branching")


def test_dot_file_holds_nodes_edges_and_labels(tmp_path):
    model = _branching_model()
    model.get_layer("head").trainable = False  # only layers with weights show it, as Keras
    ks.utils.plot_model(model, tmp_path / "m.dot", show_shapes=True, show_layer_names=True, rankdir="LR",
                        show_layer_activations=True, show_dtype=True, show_trainable=True, dpi=96)
    text = (tmp_path / "m.dot").read_text()
    assert text.startswith('digraph "branching" {') and 'rankdir="LR"' in text and 'dpi="96"' in text
    ids = {layer.name: str(id(layer)) for layer in model.layers}
    for source, destination in [("image", "conv"), ("conv", "flat_a"), ("conv", "flat_b"), ("flat_a", "join"),
                                ("flat_b", "join"), ("join", "head")]:
        assert f'"{ids[source]}" -> "{ids[destination]}"' in text
    assert text.count(" -> ") == 6
    assert "<b>conv</b> (Conv2D)" in text and "Activation: <b>relu</b>" in text
    assert "Input shape: <b>(None, 8, 8, 1)</b>" in text and "Output shape: <b>(None, 6, 6, 4)</b>" in text
    assert "Input shape: <b>[(None, 144), (None, 144)]</b>" in text
    assert text.count("<b>Non-trainable</b>") == 1 and text.count("<b>Trainable</b>") == 1
    assert "Output dtype: <b>float32</b>" in text


def test_expand_nested_draws_a_cluster_and_edges_into_it(tmp_path):
    ks.utils.clear_session()
    inner = ks.Sequential([ks.Input((4,)), ks.layers.Dense(3, name="in1"), ks.layers.Dense(2, name="in2")],
                          name="inner")
    outer = ks.Sequential([ks.Input((4,)), inner, ks.layers.Dense(1, name="out")], name="outer")
    ks.utils.plot_model(outer, tmp_path / "flat.dot")
    flat = (tmp_path / "flat.dot").read_text()
    assert "cluster" not in flat and f'"{id(inner)}" -> "{id(outer.layers[1])}"' in flat
    ks.utils.plot_model(outer, tmp_path / "nested.dot", expand_nested=True)
    nested = (tmp_path / "nested.dot").read_text()
    assert f'subgraph "cluster_{id(inner)}"' in nested
    assert f'"{id(inner.layers[-1])}" -> "{id(outer.layers[1])}"' in nested


def _fake_dot(tmp_path, monkeypatch, script):
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "dot"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(folder) + os.pathsep + os.environ.get("PATH", ""))


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script stand-in for Graphviz")
def test_png_is_drawn_by_graphviz_dot(tmp_path, monkeypatch):
    # a stand-in `dot` that records its arguments and copies the DOT text it reads to the -o file
    _fake_dot(tmp_path, monkeypatch, f'echo "$@" > {tmp_path}/args\nshift 2\ncat > "$1"\n')
    model = _branching_model()
    assert ks.utils.plot_model(model, tmp_path / "m.png") is None
    assert (tmp_path / "args").read_text().startswith("-Tpng -o ")
    assert (tmp_path / "m.png").read_text().startswith('digraph "branching"')
    assert sorted(os.listdir(tmp_path)) == ["args", "bin", "m.png"]  # no temporary left


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script stand-in for Graphviz")
def test_graphviz_failure_is_reported(tmp_path, monkeypatch):
    _fake_dot(tmp_path, monkeypatch, 'echo "Format: \\"xyz\\" not recognized" >&2\nexit 1\n')
    with pytest.raises(ValueError, match=r"Graphviz could not draw .*m\.xyz \(format 'xyz'\): Format"):
        ks.utils.plot_model(_branching_model(), tmp_path / "m.xyz")
    assert sorted(os.listdir(tmp_path)) == ["bin"]


def test_without_graphviz_a_labelled_text_rendering_and_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.warns(UserWarning, match=r"needs Graphviz's `dot` program to draw .*m\.png: install Graphviz .*"
                                         r"text rendering of the graph was written to .*m\.png\.txt"):
        ks.utils.plot_model(_branching_model(), tmp_path / "m.png", show_shapes=True)
    assert not (tmp_path / "m.png").exists()
    text = (tmp_path / "m.png.txt").read_text()
    assert text.startswith("kernelscope plot_model: TEXT RENDERING, not an image")
    assert "join (Concatenate): [(None, 144), (None, 144)] -> (None, 288)  <- flat_a, flat_b" in text


def test_plot_model_errors(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"has not yet been built"):
        ks.utils.plot_model(ks.Sequential([ks.layers.Dense(2)]), tmp_path / "m.dot")
    with pytest.raises(ValueError, match=r"`rankdir` must be one of .* Received: rankdir='up'"):
        ks.utils.plot_model(_branching_model(), tmp_path / "m.dot", rankdir="up")
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match=r"needs pydot: pip install pydot"):
        ks.utils.model_to_dot(_branching_model())
    with pytest.raises(ValueError, match=r"`subgraph=True` .* is not supported"):
        ks.utils.model_to_dot(_branching_model(), subgraph=True)


def test_model_to_dot_hands_the_source_to_pydot(monkeypatch):
    import types

    seen = []
    fake = types.SimpleNamespace(graph_from_dot_data=lambda text: seen.append(text) or ["graph"])
    monkeypatch.setitem(sys.modules, "pydot", fake)
    assert ks.utils.model_to_dot(_branching_model(), show_shapes=True) == "graph"
    assert seen[0].startswith('digraph "branching"') and "<b>conv</b> (Conv2D)" in seen[0]
