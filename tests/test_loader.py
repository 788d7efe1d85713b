"""load_impl: every spec kind, notebook extraction, and the one-sentence LoadErrors."""
import json
import pickle
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conformance.loader import LoadError, load_impl

IMPLS = Path(__file__).parent / "impls"


def write_notebook(path, *sources, markdown="notes"):
    cells = [new_markdown_cell(markdown)] + [new_code_cell(s) for s in sources]
    nbformat.write(new_notebook(cells=cells), str(path))
    return str(path)


def test_module_name(tmp_path, monkeypatch):
    (tmp_path / "student_mod_q7.py").write_text("def relu(x):\n    return max(x, 0)\n_private = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    impl = load_impl("student_mod_q7")
    assert (impl.kind, impl.origin) == ("module", "student_mod_q7")
    assert impl.namespace["relu"](-2) == 0 and "_private" not in impl.namespace


def test_python_file():
    impl = load_impl(str(IMPLS / "attr_grads.py"))
    assert impl.kind == "file" and {"Linear", "MLP", "SGD", "CrossEntropyLoss"} <= set(impl.namespace)


def test_package_directory_merges_submodules():
    impl = load_impl(str(IMPLS / "single_sample"))
    assert impl.kind == "package"
    # models.py, activations.py, gradient_check.py and optimization.py all land in one namespace
    assert {"OneHiddenLayerMLP", "ReLU", "check_all_gradients", "SGD", "generate_xor_data"} <= set(impl.namespace)


def test_reference():
    impl = load_impl("reference")
    assert impl.kind == "reference" and impl.namespace


def test_notebook_keeps_definitions_and_lists_what_it_dropped():
    impl = load_impl(str(IMPLS / "layer_dicts.ipynb"))
    ns = impl.namespace
    assert impl.kind == "notebook"
    assert {"Linear", "ReLU", "SoftmaxCrossEntropy", "Sequential", "SGD", "numerical_gradient_check"} <= set(ns)
    assert ns["HIDDEN"] == 64 and ns["LAYER_SIZES"] == (784, 64, 10)  # constants built from constants
    assert "model" not in ns and "X_train" not in ns  # the training cell did not run
    dropped = {(d.kind, d.text) for d in impl.dropped}
    assert ("magic", "%matplotlib inline") in dropped
    assert ("magic", "!pip install --quiet seaborn") in dropped
    assert ("import_failed", "import seaborn as sns") in dropped
    assert ("import_failed", "from src.models import PretrainedMLP") in dropped
    assert ("statement", "np.random.seed(0)") in dropped
    assert ("statement", "for epoch in range(3):") in dropped
    assert ("statement", "plt.show()") in dropped


def test_notebook_classes_live_in_a_registered_module():
    impl = load_impl(str(IMPLS / "dense_net.ipynb"))
    cls = impl.namespace["Dense"]
    module = sys.modules[cls.__module__]
    assert module.__file__.endswith("dense_net.ipynb")
    assert pickle.loads(pickle.dumps(impl.namespace["MSELoss"]())).__class__.__name__ == "MSELoss"


def test_syntax_error_cell_is_skipped_and_others_load(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "def good():\n    return 1", "def broken(:\n    pass",
                          "class AlsoGood:\n    pass")
    impl = load_impl(path)
    assert impl.namespace["good"]() == 1 and "AlsoGood" in impl.namespace
    (bad,) = [d for d in impl.dropped if d.kind == "syntax_error"]
    assert (bad.cell, bad.line, bad.text) == (1, 1, "def broken(:")


def test_cell_magics_and_failing_definitions(tmp_path):
    path = write_notebook(
        tmp_path / "nb.ipynb",
        "%%bash\necho hi",
        "%%time\ndef timed():\n    return 2",
        "import torch_that_is_not_installed as nn\nclass Net(nn.Module):\n    pass\ndef ok():\n    return 3",
    )
    impl = load_impl(path)
    assert impl.namespace["timed"]() == 2 and impl.namespace["ok"]() == 3 and "Net" not in impl.namespace
    kinds = {(d.cell, d.kind) for d in impl.dropped}
    assert {(0, "magic"), (1, "magic"), (2, "import_failed"), (2, "definition_failed")} <= kinds


def test_nbformat_v3_notebook(tmp_path):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
          "worksheets": [{"cells": [
              {"cell_type": "markdown", "source": ["old notebook"], "metadata": {}},
              {"cell_type": "code", "language": "python", "input": ["def relu(x):\n", "    return max(x, 0)"],
               "outputs": [], "metadata": {}, "collapsed": False},
              {"cell_type": "code", "language": "python", "input": ["print(relu(3))"], "outputs": [],
               "metadata": {}, "collapsed": False}], "metadata": {}}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    impl = load_impl(str(path))
    assert impl.namespace["relu"](5) == 5
    assert [(d.cell, d.kind) for d in impl.dropped] == [(1, "statement")]


def _errors(tmp_path):
    bad_json = tmp_path / "alice.ipynb"
    bad_json.write_text('{"cells": [\n  {"cell_type": "code",\n  oops\n]}')
    empty = write_notebook(tmp_path / "empty.ipynb", "")
    only_runs = write_notebook(tmp_path / "runs.ipynb", "x = load()\nprint(x)")
    raising = tmp_path / "raises.py"
    raising.write_text("raise RuntimeError('training crashed')\n")
    (tmp_path / "numpy").mkdir()
    nothing = tmp_path / "nothing.py"
    nothing.write_text("# just a comment\n")
    return [
        (str(bad_json), "alice.ipynb is not valid notebook JSON (line 3): re-save it from Jupyter."),
        (empty, "empty.ipynb has no code cells"),
        (only_runs, "runs.ipynb defines no functions or classes (2 statements dropped)"),
        (str(tmp_path / "missing.ipynb"), "missing.ipynb does not exist"),
        (str(tmp_path / "missing_dir/impl.py"), "impl.py does not exist"),
        ("no_such_module_zz9", "no module named 'no_such_module_zz9' can be imported"),
        (str(raising), "raises.py raised RuntimeError: training crashed while being imported"),
        (str(nothing), "nothing.py defines nothing importable"),
        (str(tmp_path / "numpy"), "numpy has the same name as the module 'numpy' the kit needs: rename the folder."),
    ]


def test_load_errors_are_one_sentence_naming_the_file(tmp_path):
    for spec, expected in _errors(tmp_path):
        with pytest.raises(LoadError) as info:
            load_impl(spec)
        message = str(info.value)
        assert expected in message, (spec, message)
        assert message.endswith(".") and ". " not in message and "\n" not in message, message


def test_notebook_imports_a_package_beside_it(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__init__.py").write_text("")
    (tmp_path / "src" / "models.py").write_text("class OneHiddenLayerMLP:\n    pass\n")
    for name in [m for m in sys.modules if m == "src" or m.startswith("src.")]:
        monkeypatch.delitem(sys.modules, name)
    path = write_notebook(tmp_path / "nb.ipynb", "import sys\nsys.path.append('..')\nfrom src.models import OneHiddenLayerMLP",
                          "def helper():\n    return OneHiddenLayerMLP()")
    impl = load_impl(path)
    assert impl.namespace["OneHiddenLayerMLP"].__name__ == "OneHiddenLayerMLP"
    assert [d.text for d in impl.dropped] == ["sys.path.append('..')"]
    assert str(tmp_path) not in sys.path  # the folder is only on the path while the notebook loads


def test_package_with_a_broken_submodule_keeps_the_rest(tmp_path):
    pkg = tmp_path / "student_pkg_q8"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text("class Linear:\n    pass\n")
    (pkg / "plots.py").write_text("import seaborn_not_here\n")
    (pkg / "__main__.py").write_text("raise SystemExit('must not run')\n")
    impl = load_impl(str(pkg))
    assert "Linear" in impl.namespace
    assert len(impl.notes) == 1 and "student_pkg_q8.plots was skipped" in impl.notes[0]


# (cell source, names the notebook must define, (line, reason fragment) of what is dropped)
BLOCKS = [
    ("try:\n    import cupy_not_here as xp\nexcept ImportError:\n    import numpy as xp\n    GPU = False\n"
     "def relu(x):\n    return xp.maximum(x, 0)",
     {"xp", "GPU", "relu"}, []),
    ("import numpy as np\nDTYPE = np.float64\nif DTYPE is np.float64:\n    def relu(x):\n        return x\n"
     "    print('defined')\nelse:\n    relu = None",
     {"DTYPE", "relu"}, [(6, "not a definition")]),
    ("def main():\n    return 1\n\nif __name__ == '__main__':\n    main()",
     {"main"}, [(4, "script entry point")]),
    ("def f():\n    return 1\ntry:\n    train()\nexcept KeyboardInterrupt:\n    STOPPED = True",
     {"f"}, [(3, "nothing inside this try block")]),
    ("def f():\n    return 1\nif load_flag():\n    def g():\n        return 2",
     {"f"}, [(3, "the condition runs code")]),
    ("def relu(x):\n    return x\nACTIVATIONS = {'relu': relu}\nDense = relu\nrng = make_rng(0)",
     {"relu", "ACTIVATIONS", "Dense"}, [(5, "not a definition")]),
]


@pytest.mark.parametrize("source, defined, dropped", BLOCKS, ids=["try_import", "if_constant", "main_guard",
                                                                  "try_training", "if_call", "aliases"])
def test_blocks_keep_their_definitions_and_list_the_rest(tmp_path, source, defined, dropped):
    impl = load_impl(write_notebook(tmp_path / "nb.ipynb", source))
    assert defined <= set(impl.namespace), sorted(impl.namespace)
    assert not {"g", "rng", "STOPPED"} & set(impl.namespace)
    got = [(d.line, d.reason) for d in impl.dropped]
    assert len(got) == len(dropped) and all(line == g[0] and part in g[1] for (line, part), g in zip(dropped, got)), got


def test_notebook_without_cell_ids_loads_without_warnings(tmp_path, recwarn):
    nb = new_notebook(cells=[new_code_cell("def relu(x):\n    return x")])
    for cell in nb.cells:
        del cell["id"]  # as hand-made and older generated notebooks are
    path = tmp_path / "no_ids.ipynb"
    path.write_text(json.dumps(nb))
    assert load_impl(str(path)).namespace["relu"](3) == 3
    assert [str(w.message) for w in recwarn] == []


def test_folder_holding_one_notebook_loads_it(tmp_path):
    folder = tmp_path / "fay"
    folder.mkdir()
    write_notebook(folder / "homework.ipynb", "def relu(x):\n    return max(x, 0)")
    impl = load_impl(str(folder))
    assert impl.kind == "notebook" and impl.origin.endswith("homework.ipynb") and impl.namespace["relu"](-1) == 0
    write_notebook(folder / "draft.ipynb", "def relu(x):\n    return x")
    with pytest.raises(LoadError, match="fay holds 2 notebooks and no .py file: pass the notebook to check.$"):
        load_impl(str(folder))
