"""``backprop_kit.check()`` as a student uses it: real notebooks executed cell by cell in a
Jupyter kernel (nbclient + ipykernel), one kernel per scenario, and a plain Python script.

Scenarios: a correct notebook whose code also touches global state (numpy's random state, a
global list and array, the warnings filters) gets ``pass`` rows and leaves the state as it was;
a notebook with a transposed weight gradient gets that diagnosis and its heatmaps; a notebook
whose earlier cell failed gets a sentence naming the cell; a plain script gets the text table
and can pin a component by object."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
CANONICAL = (REPO / "tests" / "impls" / "canonical.py").read_text()
RELU_FORWARD = "    def forward(self, x):\n        self.mask = x > 0\n"
# Student code with side effects: the global RNG advanced, a global list and array changed,
# a warnings filter added, every time ReLU.forward runs (the kit calls it many times).
NOISY_RELU = ("    def forward(self, x):\n        CALLS.append(len(x)); SCALE[0] += 1; np.random.rand()\n"
              "        warnings.filterwarnings('ignore', message='student filter')\n        self.mask = x > 0\n")
TRANSPOSED = ('self.grads["W"] = dy.T @ self.x', 'self.grads["W"] = (dy.T @ self.x).T.reshape(self.params["W"].shape)')


@pytest.fixture
def kernel_env(monkeypatch):
    """The kernel inherits PYTHONPATH: the kit under test, not another install."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def _execute(tmp_path: Path, cells: list[str]) -> list:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb.cells


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def _text(cell) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") +
                   (o.get("evalue", "") if o.get("output_type") == "error" else "") for o in cell.outputs)


def _row(html: str, component: str) -> str:
    found = re.search(rf'<tr id="c-{component}">(.*?)</tr>', html, flags=re.S)
    assert found, f"no row for {component}"
    return found.group(1)


def test_correct_notebook_passes_and_leaves_the_session_as_it_was(tmp_path, kernel_env):
    code = CANONICAL.replace(RELU_FORWARD, NOISY_RELU)
    cells = ["import warnings\nimport numpy as np\nCALLS = []\nSCALE = np.ones(3)",
             code,
             "np.random.seed(7)\nrandom_before = np.random.get_state()[1].copy()\n"
             "filters_before = list(warnings.filters)\nerr_before = np.geterr()",
             "import backprop_kit\nresult = backprop_kit.check()\nresult",
             "assert (np.random.get_state()[1] == random_before).all(), 'random state changed'\n"
             "assert warnings.filters == filters_before, 'warnings filters changed'\n"
             "assert CALLS == [] and SCALE.tolist() == [1.0, 1.0, 1.0], (len(CALLS), SCALE)\n"
             "assert np.geterr() == err_before\nprint('state kept')",
             "print(result)\nprint(sorted(result.verdicts.items()))"]
    out = _execute(tmp_path, cells)
    html = _html(out[3])
    for comp in ("linear", "relu", "sigmoid", "softmax", "cross_entropy", "model_gradcheck", "sgd"):
        assert 'class="v v-pass"' in _row(html, comp), comp
    assert "training_xor" not in re.findall(r'<tr id="c-([a-z_0-9]+)"', html)  # fast tier only
    assert "check(slow=True)" in html
    assert "state kept" in _text(out[4]), _text(out[4])
    text = _text(out[5])
    assert re.search(r"^linear\s+Linear\s+pass\s", text, flags=re.M), text
    assert "('relu', 'pass')" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no cache, no hypothesis database left behind


def test_buggy_notebook_gets_the_diagnosis_with_heatmaps(tmp_path, kernel_env):
    cells = ["import numpy as np", CANONICAL.replace(*TRANSPOSED),
             "import backprop_kit\nresult = backprop_kit.check('linear')\nresult",
             "print(result.verdicts)"]
    out = _execute(tmp_path, cells)
    row = _row(_html(out[2]), "linear")
    assert 'class="v v-fail"' in row
    assert "transposed_gradient" in row and "is the transpose of" in row
    assert '<img src="data:image/png;base64,' in row  # expected / got / difference heatmaps
    assert "impl=globals()" in row  # the reproducing snippet runs in the notebook itself
    assert "{'linear': 'fail'}" in _text(out[3])


def test_notebook_whose_earlier_cell_failed_gets_a_sentence(tmp_path, kernel_env):
    broken = CANONICAL.replace("class ReLU(Module):", "undefined_helper()\n\n\nclass ReLU(Module):")
    cells = ["import numpy as np", broken, "import backprop_kit\nbackprop_kit.check('relu')"]
    out = _execute(tmp_path, cells)
    assert any(o.get("output_type") == "error" for o in out[1].outputs)  # the cell really failed
    html = _html(out[2])
    assert re.search(r"Cell \[2\] defines ReLU, Sigmoid, .*but they do not exist: it stopped with an error "
                     r"before defining them \(the last error was NameError: name &#39;undefined_helper&#39; is "
                     r"not defined\)", html), html[:2000]
    assert 'class="v v-missing"' in _row(html, "relu")


SCRIPT = '''
import numpy as np
{code}
import backprop_kit
result = backprop_kit.check("linear", "relu", linear=Linear)
print(result)
print(result.verdicts)
try:
    backprop_kit.check(adam=Linear)
except backprop_kit.CheckError as exc:
    print("refused:", exc)
'''


def test_plain_python_script_prints_the_table_and_pins_by_object(tmp_path):
    script = tmp_path / "mynet.py"
    script.write_text(SCRIPT.format(code=CANONICAL))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    assert "{'linear': 'pass', 'relu': 'pass'}" in run.stdout
    assert re.search(r"^linear\s+Linear\s+pass\s", run.stdout, flags=re.M)
    assert "refused: adam= cannot be pinned: pin one of linear, relu" in run.stdout
