"""Python 3.10 has no ``tomllib``: the grader reads TOML with the ``tomli`` backport there
(``conformance.tomlread``). This machine has no Python 3.10, so the grader's command line is run
with ``tomllib`` made unimportable, as it is on 3.10 (``sys.modules["tomllib"] = None`` in a
``sitecustomize`` on PYTHONPATH, which every Python the grader starts inherits)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graders.staging import stage_library

pytest.importorskip("tomli", reason="tomli (the Python 3.10 backport) is not installed; fix: pip install tomli")

KIT = Path(__file__).resolve().parents[1]
BLOCKER = """
import atexit, os, sys
sys.modules["tomllib"] = None  # `import tomllib` now raises ModuleNotFoundError, as on Python 3.10


@atexit.register
def _tell():
    with open(os.environ["BPK_TOML_LOG"], "a") as fh:
        fh.write(f"tomli imported: {'tomli' in sys.modules}\\n")
"""
GOOD = '[points]\nlinear = 10\n[visibility]\n"*" = "after_due_date"\n'


@pytest.mark.parametrize("rubric, code, says", [
    (GOOD, 0, "0 submissions"),
    ("[points\n", 2, "cannot be read"),  # tomli's TOMLDecodeError, caught as tomllib's would be
    ("[points]\nlinearr = 3\n", 2, "unknown components ['linearr']"),
    ('[visibility]\nlinear = "later"\n', 2, "use one of visible, hidden"),
])
def test_the_grader_reads_rubrics_with_tomli_where_tomllib_is_missing(tmp_path, rubric, code, says):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(BLOCKER)
    (tmp_path / "rubric.toml").write_text(rubric)
    (tmp_path / "subs").mkdir()
    log = tmp_path / "toml.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(KIT)]), "BPK_TOML_LOG": str(log)}
    proc = subprocess.run([sys.executable, "-m", "graders", "grade", str(tmp_path / "subs"), "--out",
                           str(tmp_path / "out"), "--rubric", str(tmp_path / "rubric.toml")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == code, proc.stderr
    assert says in (proc.stdout if code == 0 else proc.stderr)
    assert "Traceback" not in proc.stderr
    assert log.read_text() == "tomli imported: True\n"


def test_the_sandbox_gets_tomli_where_tomllib_is_missing(tmp_path, monkeypatch):
    """The sandboxed child sees only the standard library and numpy: on 3.10 it needs tomli staged."""
    lib, _ = stage_library(tmp_path)
    # from 3.11 tomllib is there and nothing more is staged; on 3.10 tomli is
    assert (lib / "tomli").exists() == (sys.version_info < (3, 11))
    monkeypatch.setitem(sys.modules, "tomllib", None)
    lib, _ = stage_library(tmp_path / "py310")
    styles = KIT / "conformance" / "adapters" / "styles.toml"
    read = (f"import sys; sys.path.insert(0, {str(lib)!r}); import tomli; "
            f"print(sorted(tomli.loads(open({str(styles)!r}).read()))[:2], tomli.__file__)")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", read], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr  # the child's interpreter: no site-packages, no tomllib needed
    assert proc.stdout.split()[-1] == str(lib / "tomli" / "__init__.py")
