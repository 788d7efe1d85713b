"""load_impl: every spec kind, notebook and file extraction, placeholders for failed imports,
package folders, ``defined``, and the one-sentence LoadErrors."""
import copy
import json
import pickle
import sys
import types
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conformance.adapters import build_adapter
from conformance.loader import ImportUnavailable, LoadError, Unavailable, load_impl

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


def test_a_name_two_modules_define_keeps_both_and_discovery_weighs_them(tmp_path):
    """A folder whose helpers.py defines ``sigmoid`` as a function that cannot run (its course's
    ``np`` import was not handed in) and whose nets.py defines a working ``sigmoid`` class: both are
    kept, the second as ``nets.sigmoid``, and discovery takes the one that computes a sigmoid."""
    folder = tmp_path / "hw"
    folder.mkdir()
    (folder / "helpers.py").write_text("from course_tools.np import *\n\n\ndef sigmoid(x):\n"
                                       "    return 1 / (1 + np.exp(-x))\n")
    (folder / "nets.py").write_text("import numpy as np\n\n\nclass sigmoid:\n    def forward(self, x):\n"
                                    "        self.out = 1 / (1 + np.exp(-x))\n        return self.out\n\n"
                                    "    def backward(self, dout):\n        return dout * self.out * (1 - self.out)\n")
    loaded = load_impl(str(folder))
    assert callable(loaded.namespace["sigmoid"]) and isinstance(loaded.namespace["nets.sigmoid"], type)
    adapter = build_adapter(loaded)
    assert adapter.inventory()["sigmoid"].name == "nets.sigmoid"


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
    raising.write_text("import numpy as np\nraise RuntimeError('training crashed')\n")
    broken = tmp_path / "bad.py"
    broken.write_text("def good():\n    return 1\n\ndef broken(:\n    pass\n")
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"def f():\n    return 1\n\x00\x01")
    package = tmp_path / "pkg_q3"
    package.mkdir()
    (package / "layers.py").write_text("class Linear:\n    def forward(self, x)\n        return x\n")
    return [
        (str(bad_json), "alice.ipynb is not valid notebook JSON (line 3): re-save it from Jupyter."),
        (empty, "empty.ipynb has no code cells"),
        (only_runs, "runs.ipynb defines no functions or classes (2 statements dropped)"),
        (str(tmp_path / "missing.ipynb"), "missing.ipynb does not exist"),
        (str(tmp_path / "missing_dir/impl.py"), "impl.py does not exist"),
        ("no_such_module_zz9", "no module named 'no_such_module_zz9' can be imported"),
        (str(raising), "raises.py defines no functions or classes (1 top-level statement not run): put your "
                       "classes and functions at the top level of the file."),
        (str(broken), "bad.py has a syntax error at line 4 (invalid syntax): fix it and try again."),
        (str(binary), "binary.py cannot be read as Python source (source code string cannot contain null bytes)"),
        (str(package), "pkg_q3 defines no function or class that loads (pkg_q3/layers.py has a syntax error at "
                       "line 2): fix it and try again."),
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
    (pkg / "plots.py").write_text("import seaborn_not_here\n\ndef plot_loss(history):\n    seaborn_not_here.lineplot(history)\n")
    (pkg / "broken.py").write_text("class Sigmoid:\n    pass\n\nclass Tanh(\n")
    (pkg / "__main__.py").write_text("raise SystemExit('must not run')\n")
    impl = load_impl(str(pkg))
    assert {"Linear", "plot_loss"} <= set(impl.namespace) and "Sigmoid" not in impl.namespace
    got = [(d.file, d.line, d.kind) for d in impl.dropped]
    assert got == [("student_pkg_q8/broken.py", 4, "syntax_error"), ("student_pkg_q8/plots.py", 1, "import_failed")], got
    with pytest.raises(ImportUnavailable, match="seaborn_not_here.lineplot is not available while grading"):
        impl.namespace["plot_loss"]([1.0])


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
    ("def relu(x):\n    return x\nACTS = {'relu': (relu, None), 'linear': (lambda z: z, lambda z: 1.0)}\n"
     "LOSS = (lambda z: z)(3)",
     {"relu", "ACTS"}, [(4, "not a definition")]),
]


@pytest.mark.parametrize("source, defined, dropped", BLOCKS, ids=["try_import", "if_constant", "main_guard",
                                                                  "try_training", "if_call", "aliases", "lambdas"])
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


# --- .py files and package folders are read as notebooks are -------------------------------------

SCRIPT = '''\
"""Day 5: a two-layer network, trained when the file runs."""
import numpy as np
from tqdm import tqdm
import matplotlib.pyplot as plt
from google.colab import drive
from course_helpers_q9 import load_mnist, plot_history as show

LR = 0.1


class Linear:
    def __init__(self, n_in, n_out):
        self.W = np.ones((n_in, n_out))

    def forward(self, x):
        return x @ self.W

    def copy(self) -> Linear:  # a forward reference: loads, annotations are not evaluated
        return Linear(*self.W.shape)


def relu(x):
    return np.maximum(x, 0)


def fit(model, X, epochs):
    for _ in tqdm(range(epochs)):
        model.forward(X)


drive.mount("/content/drive")
X = load_mnist()
model = Linear(784, 10)
for epoch in range(10):
    fit(model, X, 1)
plt.plot([1, 2])
print("done")

if __name__ == "__main__":
    fit(model, X, 100)
'''


@pytest.fixture
def not_installed(monkeypatch):
    """matplotlib and tqdm as the grader's sandbox has them: not installed (matplotlib is in the kit's venv)."""
    for name in ("matplotlib", "tqdm"):
        monkeypatch.setitem(sys.modules, name, None)  # `import matplotlib` then raises ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)  # else found before its parent


def test_python_file_keeps_definitions_and_lists_top_level_runs_with_their_lines(tmp_path, not_installed, capsys):
    path = tmp_path / "day5.py"
    path.write_text(SCRIPT)
    impl = load_impl(str(path))
    assert impl.kind == "file" and impl.namespace["LR"] == 0.1
    assert impl.namespace["relu"](np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    assert impl.namespace["Linear"](2, 3).copy().W.shape == (2, 3)
    assert not {"X", "model", "epoch"} & set(impl.namespace) and capsys.readouterr().out == ""
    got = [(d.file, d.cell, d.line, d.kind, d.text) for d in impl.dropped]
    assert got == [
        ("day5.py", None, 3, "import_failed", "from tqdm import tqdm"),
        ("day5.py", None, 4, "import_failed", "import matplotlib.pyplot as plt"),
        ("day5.py", None, 5, "import_failed", "from google.colab import drive"),
        ("day5.py", None, 6, "import_failed", "from course_helpers_q9 import load_mnist, plot_history as show"),
        ("day5.py", None, 31, "statement", 'drive.mount("/content/drive")'),
        ("day5.py", None, 32, "statement", "X = load_mnist()"),
        ("day5.py", None, 33, "statement", "model = Linear(784, 10)"),
        ("day5.py", None, 34, "statement", "for epoch in range(10):"),
        ("day5.py", None, 36, "statement", "plt.plot([1, 2])"),
        ("day5.py", None, 37, "statement", 'print("done")'),
        ("day5.py", None, 39, "statement", 'if __name__ == "__main__":'),
    ], got
    assert impl.dropped[0].reason.startswith("ModuleNotFoundError:") and "tqdm" in impl.dropped[0].reason
    assert "script entry point" in impl.dropped[-1].reason
    assert impl.notes == ["11 top-level statements/lines were not run (see dropped)"]


def _with(placeholder):
    with placeholder:
        pass


# Every way code can use an object: (label, use)
USES = [("call", lambda p: p(range(3))), ("attribute", lambda p: p.plot), ("iterate", list), ("index", lambda p: p[0]),
        ("len", len), ("truth", bool), ("arithmetic", lambda p: p + 1), ("as array", np.asarray),
        ("base class", lambda p: types.new_class("Net", (p,))), ("isinstance", lambda p: isinstance(3, p)),
        ("with", _with), ("set attribute", lambda p: setattr(p, "style", "dark"))]


@pytest.mark.parametrize("use", [u for _, u in USES], ids=[label for label, _ in USES])
def test_a_failed_import_leaves_a_placeholder_that_raises_only_when_used(tmp_path, not_installed, use):
    path = tmp_path / "day5.py"
    path.write_text(SCRIPT)
    impl = load_impl(str(path))  # loading used none of them
    for name, statement, error in [
            ("tqdm", "from tqdm import tqdm", "tqdm"),
            ("plt", "import matplotlib.pyplot as plt", "matplotlib"),
            ("drive", "from google.colab import drive", "No module named 'google"),
            ("show", "from course_helpers_q9 import load_mnist, plot_history as show", "No module named 'course_helpers_q9'")]:
        placeholder = impl.namespace[name]
        assert isinstance(placeholder, Unavailable) and name in repr(placeholder)
        with pytest.raises(ImportUnavailable) as info:
            use(placeholder)
        assert f"is not available while grading (the import `{statement}` failed: ModuleNotFoundError: " in str(info.value)
        assert str(info.value).startswith(name) and error in str(info.value)


def test_placeholders_reach_the_code_that_uses_them_and_nothing_else(tmp_path, not_installed):
    path = tmp_path / "day5.py"
    path.write_text(SCRIPT)
    ns = load_impl(str(path)).namespace
    with pytest.raises(ImportUnavailable, match="^tqdm is not available while grading"):
        ns["fit"](ns["Linear"](2, 2), np.ones((1, 2)), epochs=1)
    assert ns["Linear"](2, 1).forward(np.ones((1, 2))).tolist() == [[2.0]]  # code that does not use them runs
    assert not hasattr(ns["plt"], "plot") and getattr(ns["plt"], "plot", "absent") == "absent"  # introspection
    assert copy.deepcopy(ns["plt"]) is ns["plt"] and repr(pickle.loads(pickle.dumps(ns["plt"]))) == repr(ns["plt"])


def test_a_class_built_on_a_failed_import_is_dropped_with_the_reason(tmp_path):
    path = tmp_path / "torch_style.py"
    path.write_text("import torch_not_here_q2 as torch\nfrom torch_not_here_q2.nn import Module\n\n"
                    "class Net(torch.nn.Module):\n    pass\n\nclass Other(Module):\n    pass\n\n"
                    "def relu(x):\n    return max(x, 0)\n")
    impl = load_impl(str(path))
    assert impl.namespace["relu"](-1) == 0 and not {"Net", "Other"} & set(impl.namespace)
    failed = [(d.line, d.reason) for d in impl.dropped if d.kind == "definition_failed"]
    assert [line for line, _ in failed] == [4, 7]
    assert failed[0][1].startswith("UnavailableAttribute: torch.nn is not available while grading (the import "
                                   "`import torch_not_here_q2 as torch` failed: ModuleNotFoundError")
    assert failed[1][1].startswith("UnavailableName: Module is not available while grading")


def test_a_notebook_binds_placeholders_too():
    impl = load_impl(str(IMPLS / "layer_dicts.ipynb"))
    assert isinstance(impl.namespace["sns"], Unavailable)
    with pytest.raises(ImportUnavailable, match="the import `import seaborn as sns` failed"):
        impl.namespace["sns"].heatmap([[1]])


def test_a_name_bound_before_a_failed_import_keeps_its_value(tmp_path):
    path = tmp_path / "gpu.py"
    path.write_text("import numpy as np\nimport cupy_not_here_q4 as np\nfrom math import sqrt, no_such_name_q4\n\n"
                    "def norm(x):\n    return sqrt(np.sum(x * x))\n")
    ns = load_impl(str(path)).namespace
    assert ns["np"] is np and ns["norm"](np.array([3.0, 4.0])) == 5.0  # as in Python: np is still numpy
    assert isinstance(ns["no_such_name_q4"], Unavailable)


def test_a_failed_star_import_leaves_placeholders_for_the_names_the_code_reads(tmp_path):
    path = tmp_path / "functions.py"  # a course helper that re-exports numpy, not handed in
    path.write_text("from course_helpers_q6.np import *\n\n\ndef relu(x):\n    return np.maximum(0, x)\n\n\n"
                    "def scale(x, k=2):\n    for i in range(k):\n        x = x * GAIN\n    return x\n\nGAIN = 3\n")
    ns = load_impl(str(path)).namespace
    with pytest.raises(ImportUnavailable, match=r"^np\.maximum is not available while grading \(the import "
                                                r"`from course_helpers_q6\.np import \*` failed: ModuleNotFoundError"):
        ns["relu"](np.ones(2))
    assert ns["scale"](1) == 9 and ns["GAIN"] == 3  # names the file binds itself are its own
    assert "i" not in ns and "range" not in ns and "x" not in ns


def test_code_needing_a_helper_module_not_handed_in_is_missing_with_the_sentence_not_an_error(tmp_path):
    """The relu is found (by behaviour it cannot be run, by name it is the relu) and its checks are
    missing, naming the failed import and what to hand in: the code is not wrong, the submission
    lacks a file."""
    from conformance.adapters import build_adapter
    from conformance.runner import InProcessRunner, ProbeFailure

    path = tmp_path / "functions.py"
    path.write_text("from course_helpers_q7.np import *\n\n\ndef relu(x):\n    return np.maximum(0, x)\n")
    runner = InProcessRunner(build_adapter(load_impl(str(path))))
    with pytest.raises(ProbeFailure) as info:
        runner.call("layer.check", {"kind": "relu", "hyper": {}, "x": np.ones((2, 3)), "dy": np.ones((2, 3))})
    assert info.value.kind == "missing", info.value.message
    assert "np.maximum is not available while grading" in info.value.message
    assert "hand that module in beside your code" in info.value.message
    kit = tmp_path / "uses_the_kit.py"  # the kit's own packages are never the student's to import: their error
    kit.write_text("from fixtures.answers_q9 import golden\n\n\ndef relu(x):\n    return golden(x)\n")
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(build_adapter(load_impl(str(kit)))).call(
            "layer.check", {"kind": "relu", "hyper": {}, "x": np.ones((2, 3)), "dy": np.ones((2, 3))})
    assert info.value.kind == "error", info.value.message


def write_files(folder, files: dict[str, str]):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


PACKAGE = {
    "__init__.py": "from .model import Network\n",
    "layers.py": "import numpy as np\n\nclass Dense:\n    def __init__(self, n_in, n_out):\n"
                 "        self.W = np.eye(n_in, n_out)\n\n    def forward(self, x):\n        return x @ self.W\n\n"
                 "print('layers imported')\n",
    "activations.py": "import numpy as np\n\ndef relu(x):\n    return np.maximum(x, 0)\n\nGRID = relu(np.arange(3))\n",
    "model.py": "from .layers import Dense\nfrom layers import Dense as SiblingDense\nimport activations as act\n"
                "from . import activations\nfrom nnpkg_q5.activations import relu\n\n"
                "class Network:\n    def __init__(self):\n        self.layer = Dense(2, 2)\n\n"
                "    def forward(self, x):\n        return act.relu(self.layer.forward(x))\n\n"
                "    def rebuild(self):\n        from layers import Dense as Later\n        return Later\n\n"
                "net = Network()\nnet.forward([[1.0, -1.0]])\n",
    "train.py": "from model import Network\n\nfor epoch in range(100):\n    Network().forward([[1.0, 2.0]])\n",
    "utils/__init__.py": "",
    "utils/data.py": "from ..layers import Dense\n\ndef batches(X, size):\n    return [X[i:i + size] for i in range(0, len(X), size)]\n"
                     "from .. import missing_q5\n",
}


def test_package_folder_resolves_relative_and_sibling_imports_to_its_own_filtered_modules(tmp_path, capsys):
    before = set(sys.modules)
    impl = load_impl(str(write_files(tmp_path / "nnpkg_q5", PACKAGE)))
    ns = impl.namespace
    assert impl.kind == "package" and capsys.readouterr().out == ""  # layers.py's print did not run
    assert ns["Network"]().forward(np.array([[1.0, -1.0]])).tolist() == [[1.0, 0.0]]
    assert ns["SiblingDense"] is ns["Dense"] and ns["Network"]().rebuild() is ns["Dense"]  # one module, however imported
    model = sys.modules[ns["Network"].__module__]
    assert model.act is model.activations and model.relu is ns["relu"]
    assert {d.file: d.line for d in impl.dropped} == {"nnpkg_q5/activations.py": 6, "nnpkg_q5/layers.py": 10,
                                                        "nnpkg_q5/model.py": 19, "nnpkg_q5/train.py": 3,
                                                        "nnpkg_q5/utils/data.py": 5}
    # messages name the student's package and files, never the kit's private module names or folders
    assert impl.dropped[-1].reason == "ImportError: cannot import name 'missing_q5' from 'nnpkg_q5' (nnpkg_q5/__init__.py)"
    assert [d.line for d in impl.dropped if d.file == "nnpkg_q5/model.py"] == [18, 19]
    assert ns["batches"]([1, 2, 3], 2) == [[1, 2], [3]]
    leaked = {m.split(".")[0] for m in set(sys.modules) - before}
    assert not leaked & {"layers", "activations", "model", "nnpkg_q5", "utils"}, leaked


def test_package_folder_loads_the_same_way_every_time_and_never_shares_modules(tmp_path):
    folder = write_files(tmp_path / "nnpkg_q5", PACKAGE)
    first, second = load_impl(str(folder)), load_impl(str(folder))
    assert [vars(d) for d in first.dropped] == [vars(d) for d in second.dropped]
    assert list(first.namespace) == list(second.namespace) and first.defined == second.defined
    assert first.namespace["Dense"] is not second.namespace["Dense"]


def test_python_file_imports_its_siblings_filtered(tmp_path):
    write_files(tmp_path, {"helpers.py": "import numpy as np\n\ndef load_weights():\n    return np.ones(2)\n\n"
                                         "DATA = np.loadtxt('data.csv')\n",
                           "main.py": "from helpers import load_weights\nimport helpers as h\n\n"
                                      "def weights():\n    return h.load_weights() + load_weights()\n"})
    impl = load_impl(str(tmp_path / "main.py"))
    assert impl.namespace["weights"]().tolist() == [2.0, 2.0]
    assert [(d.file, d.line, d.text) for d in impl.dropped] == [("helpers.py", 6, "DATA = np.loadtxt('data.csv')")]
    assert "helpers" not in sys.modules


def test_a_folder_named_like_a_module_the_kit_needs_loads_without_shadowing_it(tmp_path):
    folder = write_files(tmp_path / "numpy", {"layers.py": "import numpy as np\n\ndef zeros(n):\n    return np.zeros(n)\n"})
    impl = load_impl(str(folder))
    assert impl.namespace["zeros"](2).tolist() == [0.0, 0.0] and sys.modules["numpy"] is np


# (files, spec inside tmp_path, expected defined)
DEFINED = [
    ({"own.py": "import numpy as np\nfrom numpy import zeros\nfrom math import sqrt\nfrom collections import OrderedDict\n"
                "\nclass Model:\n    pass\n\ndef train():\n    pass\n\nclass Cache(OrderedDict):\n    pass\n\n"
                "Alias = Model\n\ndef _helper():\n    pass\n\ntry:\n    from fast_q6 import kernel\nexcept ImportError:\n"
                "    def kernel(x):\n        return x\n"},
     "own.py", ["Model", "train", "Cache", "kernel"]),
    ({"main.py": "from helpers import Linear as Dense\nimport numpy as np\n\ndef relu(x):\n    return x\n",
      "helpers.py": "class Linear:\n    pass\n"},
     "main.py", ["Dense", "relu"]),
    ({"pkg/__init__.py": "from .layers import Linear\n", "pkg/layers.py": "import numpy as np\n\nclass Linear:\n    pass\n",
      "pkg/act.py": "from numpy import tanh\n\ndef relu(x):\n    return x\n"},
     "pkg", ["relu", "Linear"]),
    ({}, "nb.ipynb", ["relu", "Model"]),
]


@pytest.mark.parametrize("files, spec, expected", DEFINED, ids=["file", "file_with_sibling", "package", "notebook"])
def test_defined_lists_only_the_submissions_own_classes_and_functions_in_source_order(tmp_path, files, spec, expected):
    write_files(tmp_path, files)
    if spec.endswith(".ipynb"):
        write_notebook(tmp_path / spec, "import numpy as np\nfrom numpy.linalg import norm", "def relu(x):\n    return x",
                       "class Model:\n    pass\nSame = Model")
    impl = load_impl(str(tmp_path / spec))
    assert impl.defined == expected
    assert all(name in impl.namespace for name in impl.defined)


def test_defined_for_modules_and_the_reference(tmp_path, monkeypatch):
    (tmp_path / "student_mod_q10.py").write_text("import numpy as np\nfrom numpy import exp\n\nclass Net:\n    pass\n\n"
                                                 "def sigmoid(x):\n    return 1 / (1 + exp(-x))\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_impl("student_mod_q10").defined == ["Net", "sigmoid"]
    reference = load_impl("reference")
    assert {"Linear", "Sequential", "SGD", "he_normal"} <= set(reference.defined)
    assert all(reference.namespace[n].__module__.startswith("reference") for n in reference.defined)


@pytest.mark.parametrize("text", ["", "# nothing yet\n", '"""Assignment 3."""\nimport numpy as np\n'],
                         ids=["empty", "comment", "docstring_and_import"])
def test_a_file_with_no_definitions_and_no_code_loads_and_every_component_is_missing(tmp_path, text):
    path = tmp_path / "empty.py"
    path.write_text(text)
    impl = load_impl(str(path))
    assert impl.defined == [] and impl.dropped == [] and set(impl.namespace) <= {"np"}
    found = build_adapter(impl).inventory()
    assert found and all(f.name is None for f in found.values()), found


# A backend switch as students write one for a GPU: if/try blocks that only import and assign, a
# condition and a flag that read the environment. It runs, so `xp` and `np` exist; its prints do not.
BACKEND = {
    "backend.py": "import os\nimport sys\n\n"
                  "if 'google.colab' in sys.modules or os.environ.get('BPK_CLOUD_Q11') == '1':\n"
                  "    import numpy as np\n    xp, WHERE = np, 'cloud'\n    print('cloud')\n"
                  "else:\n    try:\n        import cupy_not_here_q11 as cp\n        xp, WHERE = cp, 'gpu'\n"
                  "    except ImportError:\n        import numpy as np\n        xp, WHERE = np, 'cpu'\n        print('cpu')\n",
    "switch.py": "from os import getenv\n\nUSE_GPU = getenv('BPK_GPU_Q11', '0').strip().lower() in ('1', 'true')\n"
                 "if USE_GPU:\n    import cupy_not_here_q11 as np\nelse:\n    import numpy as np\nzeros = np.zeros\n",
    "layers.py": "from backend import xp, WHERE\nfrom switch import zeros\n\nclass Dense:\n"
                 "    def __init__(self, n_in, n_out):\n        self.W, self.b, self.where = xp.ones((n_in, n_out)), zeros(n_out), WHERE\n\n"
                 "    def forward(self, x):\n        return x @ self.W + self.b\n",
}


@pytest.mark.parametrize("cloud, where", [(None, "cpu"), ("1", "cloud")])
def test_a_backend_switch_that_reads_the_environment_runs(tmp_path, monkeypatch, capsys, cloud, where):
    if cloud:
        monkeypatch.setenv("BPK_CLOUD_Q11", cloud)
    monkeypatch.delenv("BPK_GPU_Q11", raising=False)
    impl = load_impl(str(write_files(tmp_path / "gpu_q11", BACKEND)))
    dense = impl.namespace["Dense"](2, 3)
    assert dense.forward(np.ones((1, 2))).tolist() == [[2.0, 2.0, 2.0]] and dense.where == where
    assert [(d.file, d.line, d.text) for d in impl.dropped] == [  # listed whichever branch ran
        ("gpu_q11/backend.py", 7, "print('cloud')"), ("gpu_q11/backend.py", 15, "print('cpu')")], impl.dropped
    assert capsys.readouterr().out == ""


# A statement the kit does not run (a call of the student's own function) leaves a name unbound:
# the code that uses it says which statement the kit skipped, and the check is missing, not an error.
SKIPPED = {
    "switch.py": "def has_gpu():\n    return False\n\nUSE_GPU = has_gpu()\nif USE_GPU:\n"
                 "    import cupy_not_here_q12 as np\nelse:\n    import numpy as np\n",
    "functions.py": "from switch import np\nimport sys\n\nSLOPE = float(sys.argv[-1])\n\n"
                    "def relu(x):\n    return np.maximum(0, x)\n\ndef scaled(x):\n    return SLOPE * x\n",
}


def test_a_name_a_skipped_statement_binds_says_the_kit_skipped_it_and_the_check_is_missing(tmp_path):
    from conformance.runner import InProcessRunner, ProbeFailure

    impl = load_impl(str(write_files(tmp_path / "skip_q12", SKIPPED)))
    assert not {"USE_GPU", "np", "SLOPE"} & set(impl.namespace)  # what the kit did not run is not offered
    with pytest.raises(ImportUnavailable) as info:
        impl.namespace["relu"](np.ones(2))
    assert info.value.skipped and str(info.value) == (
        "np.maximum is not available while grading (skip_q12/switch.py line 5 (`if USE_GPU:`) could not run: "
        "UnavailableName: USE_GPU is not available while grading (the kit did not run skip_q12/switch.py line 4 "
        "(`USE_GPU = has_gpu()`): not a definition, import or constant))")
    with pytest.raises(ImportUnavailable, match=r"^SLOPE is not available while grading \(the kit did not run "
                                                r"skip_q12/functions.py line 4 \(`SLOPE = float\(sys.argv\[-1\]\)`\)"):
        impl.namespace["scaled"](np.ones(2))
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(build_adapter(impl)).call(
            "layer.check", {"kind": "relu", "hyper": {}, "x": np.ones((2, 3)), "dy": np.ones((2, 3))})
    assert info.value.kind == "missing", info.value.message
    assert "the kit skipped that top-level statement" in info.value.message and "switch.py line 4" in info.value.message
    assert "hand that module in" not in info.value.message  # nothing is missing from the submission
