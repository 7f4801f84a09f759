"""scripts/run_keras_examples.py: substitutions fail loudly, and PASS means "ran to its end"."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import keras_examples_standin as standin  # noqa: E402
import run_keras_examples as runner  # noqa: E402
from keras_examples_subs import EXAMPLES, Cut, Sub, leftover_tensorflow  # noqa: E402


def test_sub_replaces_exactly_the_listed_number_of_matches():
    sub = Sub("tf.square(", "keras.ops.square(", "math", count=2)
    assert sub.apply("a = tf.square(x)\nb = tf.square(y)\n", "ex") == (
        "a = keras.ops.square(x)\nb = keras.ops.square(y)\n")


def test_sub_that_matches_a_wrong_number_of_times_raises():
    sub = Sub("epochs = 15", "epochs = 1", "fewer epochs")
    with pytest.raises(ValueError, match=r"ex: substitution 'epochs = 15' matched 0 time\(s\), expected 1"):
        sub.apply("epochs = 25\n", "ex")


def test_sub_must_keep_the_line_count():
    with pytest.raises(ValueError, match="substitution must keep the line count"):
        Sub("import tensorflow as tf", "import kernelscope\nimport numpy", "import")


def test_line_sub_matches_whole_lines_only():
    sub = Sub("import keras", "import kernelscope as keras", "import", line=True)
    assert sub.apply("import keras\n", "ex") == "import kernelscope as keras\n"
    with pytest.raises(ValueError, match="matched 0 time"):
        sub.apply("import keras_cv\n", "ex")


def test_cut_comments_out_a_part_and_keeps_the_line_count():
    source = "a = 1\nstart = 2\nb = 3\nend = 4\n"
    out = Cut("start = 2", "end = 4", "1-D part").apply(source, "ex")
    assert out.splitlines() == ["a = 1", "# [run_keras_examples] skipped: 1-D part", "", "end = 4"]


def test_cut_with_a_missing_marker_raises():
    with pytest.raises(ValueError, match=r"ex: cut marker 'nowhere' found 0 time\(s\), expected once"):
        Cut("a = 1", "nowhere", "x").apply("a = 1\n", "ex")


def test_cut_whose_end_comes_first_raises():
    with pytest.raises(ValueError, match="cut end 'a = 1' comes before its start"):
        Cut("b = 2", "a = 1", "x").apply("a = 1\nb = 2\n", "ex")


def test_leftover_tensorflow_sees_code_but_not_strings_or_comments():
    source = ('x = 1  # tf.square\ns = "tf.data"\ny = tf.reduce_sum(x)\nimport tensorflow\n'
              'import kernelscope as keras\nfrom keras import layers\nimport keras.ops\n')
    assert leftover_tensorflow(source) == [3, 4, 6, 7]


def test_transform_refuses_a_drifted_source(tmp_path):
    # mnist_convnet's table expects "epochs = 15"; an edited original must not run as is.
    (tmp_path / "mnist_convnet.py").write_text(
        "import keras\nfrom keras import layers\nx = keras.datasets.mnist.load_data()\nepochs = 12\n")
    with pytest.raises(ValueError, match="mnist_convnet: substitution 'epochs = 15' matched 0 time"):
        runner.transform("mnist_convnet", tmp_path)


def test_every_example_lists_its_substitutions():
    assert len(EXAMPLES) == 16
    assert all(example.subs for example in EXAMPLES.values())


def test_an_example_says_which_parts_it_skips():
    assert EXAMPLES["mnist_convnet"].skipped == []
    assert EXAMPLES["training_with_built_in_methods"].skipped == [
        "multi-input / multi-output section (its model has a Conv1D + GlobalMaxPooling1D branch) "
        "(Sequence/1-D layers are out of scope)"]


def test_stand_in_mnist_has_the_real_shapes_and_dtypes():
    (x_train, y_train), (x_test, y_test) = standin.mnist_load_data(n_train=30, n_test=12)
    assert x_train.shape == (30, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (30,) and y_train.dtype == np.uint8
    assert x_test.shape == (12, 28, 28) and set(y_test[:10]) == set(range(10))


def _run(tmp_path, code):
    workdir = tmp_path / "work"
    workdir.mkdir()
    return runner.run_example("toy", code, ROOT, 300, workdir)


def test_an_example_that_runs_to_its_end_passes(tmp_path):
    passed, _, message = _run(tmp_path, "import kernelscope\nprint(_standin.mnist_load_data(5, 5)[0][0].shape)\n")
    assert (passed, message) == (True, "")


def test_an_example_that_calls_sys_exit_0_early_fails(tmp_path):
    passed, _, message = _run(tmp_path, "import sys\nsys.exit(0)\nprint('never')\n")
    assert (passed, message) == (False, "SystemExit: 0 [line 2: sys.exit(0)]")


def test_an_example_that_exits_0_without_reaching_its_end_fails(tmp_path):
    passed, _, message = _run(tmp_path, "import os\nos._exit(0)\nprint('never')\n")
    assert (passed, message) == (False, "exited 0 without reaching its last line (no sentinel)")


def test_a_failing_example_reports_type_message_and_original_line(tmp_path):
    passed, _, message = _run(tmp_path, "x = 1\n\nraise ValueError('boom\\nsecond line')\n")
    assert not passed
    assert message == "ValueError: boom [line 3: raise ValueError('boom\\nsecond line')]"


def test_main_runs_a_listed_example_and_counts_it(tmp_path, capsys):
    source = tmp_path / "src"
    source.mkdir()
    (source / "mnist_convnet.py").write_text(
        "import keras\nfrom keras import layers\n"
        "(x, y), _ = keras.datasets.mnist.load_data()\nepochs = 15\nprint(x.shape, epochs)\n")
    status = runner.main([str(source), "--only", "mnist_convnet", "--kernelscope", str(ROOT)])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0].startswith("PASS mnist_convnet (")  # no md/ folder: no params line
    assert out[-1] == "1 passed, 0 failed"


def test_an_example_that_outlives_its_timeout_fails(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    passed, _, message = runner.run_example("toy", "import time\ntime.sleep(120)\n", ROOT, 2, workdir)
    assert (passed, message) == (False, "timeout after 2 s")


def test_an_example_killed_by_a_signal_says_so(tmp_path):
    passed, _, message = _run(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert (passed, message) == (False, "killed by signal 9 (SIGKILL)")


CONSOLE = """Total params: 34,826 (136.04 KB)
 Trainable params: 34,826 (136.04 KB)
 Non-trainable params: 0 (0.00 B)
"""
PUBLISHED = ('<span style="font-weight: bold"> Trainable params: </span><span style="color: #00af00">34,826</span>'
             ' (136.04 KB)\n<span> Non-trainable params: </span><span>0</span> (0.00 B)\n')


def test_summary_params_reads_console_and_published_html():
    assert runner.summary_params(CONSOLE) == [(34826, 0)]
    assert runner.summary_params(PUBLISHED) == [(34826, 0)]


def test_compare_params_names_each_summary_that_differs():
    assert runner.compare_params(CONSOLE, PUBLISHED) == "params as published in 1 of 1 summaries"
    other = CONSOLE.replace("Trainable params: 34,826", "Trainable params: 34,825")
    assert runner.compare_params(other, PUBLISHED) == (
        "params (trainable, non-trainable) DIFFER: summary 1: (34825, 0) vs published (34826, 0)")
    assert runner.compare_params(CONSOLE, "no summary here") == ""


def _keras_io_dir():
    """The keras-io originals, if this machine has them (they are not in the repository)."""
    import os

    candidates = [os.environ.get("KERAS_IO_DIR", ""), ROOT.parent / "shared" / "keras-io",
                  ROOT.parents[1] / "shared" / "keras-io"]
    return next((Path(c) for c in candidates if c and (Path(c) / "mnist_convnet.py").is_file()), None)


@pytest.mark.skipif(_keras_io_dir() is None, reason="keras-io originals not on this machine (set KERAS_IO_DIR)")
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_substitutions_match_the_originals_and_keep_them_valid_python(name):
    source_dir = _keras_io_dir()
    original = (source_dir / f"{name}.py").read_text(encoding="utf-8")
    code = runner.transform(name, source_dir)
    compile(code, f"{name}.py", "exec")  # a cut or substitution must not break the file
    assert code.count("\n") == original.count("\n")
