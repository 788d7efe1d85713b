"""Gradescope: the autograder zip, and what runs inside it.

``python -m graders gradescope --out autograder.zip [--rubric R] [--style S] [--map M]`` calls
``build_zip``. The zip holds::

    setup.sh          run once by Gradescope when it builds the image: a virtualenv in
                      $AUTOGRADER_ROOT/venv, torch (CPU wheel) and the kit below, MNIST fetched
    run_autograder    run once per submission: ``python -m graders.gradescope run``
    autograder.json   the kit version that built the zip and the grading options
    kit/              the kit's source tree as it was when the zip was built (pyproject.toml,
                      README.md and its packages), so Gradescope grades with exactly that version
    config/           copies of the --rubric and --map files

Inside Gradescope (``$AUTOGRADER_ROOT``, default ``/autograder``) ``run`` picks the one file to
grade from ``submission/`` (``pick_submission``), grades it as ``python -m graders grade`` would,
sandbox included, and puts that run's ``results.json`` (``graders.exports.gradescope_results``) in
``results/``. Whatever goes wrong, a results.json is written that says why in one sentence.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from conformance.tomlread import tomllib
from graders import exports, grade, rubric as rubrics
from graders.isolation import MODES
from graders.staging import KIT_ROOT

MANIFEST = "autograder.json"
DEFAULT_ROOT = "/autograder"
TORCH = "torch==2.13.0"  # the Makefile's pin; the CPU wheel, so that no CUDA package is installed
IGNORED = {"__MACOSX", ".ipynb_checkpoints", "__pycache__"}  # folders an upload carries along
EPOCH = (1980, 1, 1, 0, 0, 0)  # every member's date: the same kit and options give the same zip

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# Written by `python -m graders gradescope` (backprop-kit {kit}): rebuild the zip, do not edit it.
#   BPK_SETUP_PYTHON=python3.11  the Python the virtualenv is made from (default python3)
#   BPK_SETUP_OFFLINE=DIR        no apt-get, no downloads: the kit's dependencies are taken from the
#                                site-packages folder DIR (the kit's own test of this script)
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
root="${{AUTOGRADER_ROOT:-{root}}}"
venv="$root/venv"
offline="${{BPK_SETUP_OFFLINE:-}}"
python="${{BPK_SETUP_PYTHON:-python3}}"
if [ -z "$offline" ]; then
    apt-get update -qq
    # libseccomp2: the sandbox's syscall filter; python3-venv: Ubuntu's venv module
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip libseccomp2
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    # torch first, from the CPU index: an unpinned torch pulls gigabytes of CUDA packages
    "$venv/bin/python" -m pip install --quiet {torch} --index-url https://download.pytorch.org/whl/cpu
    "$venv/bin/python" -m pip install --quiet "$source_dir/kit"
    "$venv/bin/python" -m reference.datasets fetch mnist --data-dir "$root/data" \\
        || echo "backprop-kit: MNIST could not be fetched; training_mnist will say so in each result"
else
    "$python" -m venv --without-pip "$venv"  # pip and setuptools too come from DIR
    site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    echo "$offline" > "$site/bpk-offline-deps.pth"
    "$venv/bin/python" -m pip install --quiet --no-index --no-deps --no-build-isolation --ignore-installed \\
        "$source_dir/kit"
fi
"$venv/bin/python" -m graders.gradescope check
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this once per submission. Written by `python -m graders gradescope`
# (backprop-kit {kit}). AUTOGRADER_ROOT (default {root}) lets it run anywhere.
root="${{AUTOGRADER_ROOT:-{root}}}"
export AUTOGRADER_ROOT="$root" BACKPROP_KIT_DATA="$root/data"
cd "$root"
"$root/venv/bin/python" -m graders.gradescope run
if [ ! -s "$root/results/results.json" ]; then  # the kit could not even start: say so, fail closed
    mkdir -p "$root/results"
    cat > "$root/results/results.json" <<'JSON'
{fallback}
JSON
fi
"""

FALLBACK = "The autograder failed before it could grade your submission: tell your instructor, whose log says why."


class GradescopeError(Exception):
    """An autograder zip that cannot be built; the message says what to change."""


def root_dir() -> Path:
    return Path(os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT)


# --- building the zip (the instructor's machine) --------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    """``python -m graders gradescope``'s options (graders.cli), the grading ones as ``grade`` has them."""
    p.add_argument("--out", type=Path, required=True, help="the zip to write (autograder.zip)")
    p.add_argument("--rubric", type=Path, help="points, policy and [visibility] (default: the style's rubric)")
    p.add_argument("--style", help="the API style of every submission (default: detected per submission)")
    p.add_argument("--map", type=Path, dest="api_map", metavar="API.toml",
                   help="pin what discovery gets wrong, for every submission (conformance/MAP.md)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds allowed to each call into student code")
    p.add_argument("--isolation", choices=MODES, default="auto",
                   help="the sandbox's fence (README); auto, the default, takes container isolation on Gradescope, "
                        "where namespaces cannot be had")
    p.add_argument("--audit-hook-only", action="store_true", help="the same as --isolation audit-hook (weak)")


def kit_files() -> dict[str, bytes]:
    """The kit's source tree, from the checkout this module runs from: ``kit/<path>`` -> bytes."""
    pyproject = KIT_ROOT / "pyproject.toml"
    if not pyproject.is_file():
        raise GradescopeError(f"{KIT_ROOT} has no pyproject.toml: build the autograder from a checkout of the kit "
                              "(git clone, then python -m graders gradescope ...).")
    found = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    files = {f"kit/{name}": (KIT_ROOT / name).read_bytes() for name in ("pyproject.toml", "README.md")}
    for package in sorted({p.split(".")[0].rstrip("*") for p in found}):
        for path in sorted((KIT_ROOT / package).rglob("*")):
            rel = path.relative_to(KIT_ROOT)
            skipped = any(part in IGNORED or part.startswith(".") for part in rel.parts)
            if path.is_file() and path.suffix != ".pyc" and not skipped:
                files[f"kit/{rel.as_posix()}"] = path.read_bytes()
    return files


def build_zip(out: Path, *, rubric: Path | None = None, style: str | None = None, api_map: Path | None = None,
              timeout: float = 60.0, isolation: str = "auto", pytest_args: tuple[str, ...] = ()) -> dict:
    """Write the autograder zip to ``out``; return its manifest. The rubric and the map are read and
    checked here (``RubricError`` / ``MapError``), so a mistake shows now, not in every student's result.
    ``pytest_args`` narrows the suite (the kit's own tests only)."""
    from conformance.adapters import STYLES

    if style is not None and style not in STYLES:
        raise GradescopeError(f"--style {style!r} is not a style: use one of {', '.join(STYLES)}.")
    config = {"rubric": None, "map": None}
    files: dict[str, bytes] = {}
    if rubric is not None:
        rubrics.load(rubric)
        config["rubric"] = f"config/{Path(rubric).name}"
        files[config["rubric"]] = Path(rubric).read_bytes()
    if api_map is not None:
        grade.read_api_map(api_map)
        config["map"] = f"config/{Path(api_map).name}"
        if config["map"] == config["rubric"]:
            config["map"] = f"config/map-{Path(api_map).name}"
        files[config["map"]] = Path(api_map).read_bytes()
    kit = grade.kit_version()
    if isolation not in MODES:
        raise GradescopeError(f"--isolation {isolation!r} is not one of {', '.join(MODES)}.")
    manifest = {"kit": kit, "style": style, "timeout": timeout, "isolation": isolation,
                "pytest_args": list(pytest_args), **config}
    fallback = {"score": 0, "output": FALLBACK, "tests": [
        {"name": "autograder", "score": 0, "max_score": 0, "status": "failed", "output": FALLBACK}]}
    scripts = {"setup.sh": SETUP_SH.format(kit=kit, root=DEFAULT_ROOT, torch=TORCH),
               "run_autograder": RUN_AUTOGRADER.format(kit=kit, root=DEFAULT_ROOT, fallback=json.dumps(fallback))}
    files.update({name: text.encode() for name, text in scripts.items()})
    files[MANIFEST] = exports.dumps(manifest).encode()
    files.update(kit_files())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = (0o100755 if name in scripts else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[name])
    os.replace(tmp, out)
    return manifest


# --- inside Gradescope ------------------------------------------------------------------------------

def pick_submission(folder: Path) -> tuple[Path | None, str | None]:
    """The one file to grade in what a student uploaded, or why there is none. One notebook is
    graded (any .py beside it is not read: the sandbox holds that one file); without a notebook,
    one .py file. Several notebooks, or several .py files and no notebook, are refused rather
    than guessed; links are refused, never followed."""
    notebooks, scripts, links = [], [], []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED and not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if name.startswith(".") or path.suffix not in (".ipynb", ".py"):
                continue
            (links if path.is_symlink() else notebooks if path.suffix == ".ipynb" else scripts).append(path)

    def named(paths: list[Path]) -> str:
        return ", ".join(p.relative_to(folder).as_posix() for p in paths)

    if links:
        return None, f"the upload's {named(links)} is a link, which the grader does not follow: upload the file itself"
    if len(notebooks) == 1 or (not notebooks and len(scripts) == 1):
        return (notebooks or scripts)[0], None
    if notebooks:
        return None, f"the upload holds {len(notebooks)} notebooks ({named(notebooks)}): upload only the one to grade"
    if scripts:
        return None, (f"the upload holds {len(scripts)} Python files ({named(scripts)}) and no notebook: the grader "
                      "reads one file, so put your code in one notebook or .py file and upload that")
    return None, "the upload holds no notebook (.ipynb) or Python file (.py): upload the file that defines your network"


def _write_not_graded(root: Path, why: str, manifest: dict) -> None:
    """results.json for a submission that could not be graded: every component failed, saying why."""
    try:
        rubric = rubrics.load(root / "source" / manifest["rubric"]) if manifest.get("rubric") else None
    except rubrics.RubricError:
        rubric = None
    rubric = rubric or rubrics.default_for(manifest.get("style"))
    record = grade.make_record("submission", None, why, rubric, 0.0)
    exports.write_atomic(root / "results" / "results.json", exports.dumps(exports.gradescope_results(record)))


def run(root: Path) -> str | None:
    """Grade ``root/submission`` into ``root/results/results.json``; return why it could not be graded."""
    source, manifest = root / "source", {}
    try:
        manifest = json.loads((source / MANIFEST).read_text())
        installed = grade.kit_version()
        if installed != manifest["kit"]:
            why = (f"the autograder was built with backprop-kit {manifest['kit']} but {installed} is installed: "
                   "tell your instructor to rebuild it")
            _write_not_graded(root, why, manifest)
            return why
        (root / "results").mkdir(parents=True, exist_ok=True)
        (root / "results").chmod(0o755)  # the student's code (another user) cannot write it
        if os.getuid() == 0:  # Gradescope's container: the kit, its venv, the data and the upload, closed to
            root.chmod(stat.S_IMODE(root.stat().st_mode) & ~0o007)  # the sandbox's users (container mode)
        entry, why = pick_submission(root / "submission")
        if entry is None:
            _write_not_graded(root, why, manifest)
            return why
        with tempfile.TemporaryDirectory(prefix="bpk-gradescope-") as tmp:
            subs = Path(tmp) / "submissions"
            subs.mkdir()
            name = entry.name if not entry.name.startswith(("_", ".")) else f"submission{entry.suffix}"
            shutil.copyfile(entry, subs / name)
            options = grade.Options(
                subs, Path(tmp) / "out", jobs=1, timeout=manifest["timeout"], style=manifest.get("style"),
                rubric=source / manifest["rubric"] if manifest.get("rubric") else None,
                api_map=source / manifest["map"] if manifest.get("map") else None,
                isolation=manifest.get("isolation") or "auto",
                pytest_args=list(manifest.get("pytest_args") or []), hide=[str(root.resolve())])
            records, _ = grade.grade_all(options)
            shutil.copyfile(options.out / records[0]["submission"] / "results.json", root / "results" / "results.json")
            return records[0]["error"]
    except Exception as exc:  # whatever broke, the student gets a result that says so
        why = f"the autograder failed ({type(exc).__name__}: {exc}): tell your instructor"
        try:
            _write_not_graded(root, why, manifest)
        except Exception:  # noqa: BLE001 - then run_autograder writes its own one-sentence result
            pass
        return why


def check() -> str | None:
    """setup.sh's last step: why the installed kit is not the one that built the zip, or None."""
    manifest = json.loads((root_dir() / "source" / MANIFEST).read_text())
    installed = grade.kit_version()
    if installed != manifest["kit"]:
        return f"the zip was built with backprop-kit {manifest['kit']} but {installed} was installed"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m graders.gradescope",
                                description="Inside Gradescope: grade $AUTOGRADER_ROOT/submission (run), or "
                                            "check that setup.sh installed the kit that built the zip (check).")
    p.add_argument("command", choices=("run", "check"))
    a = p.parse_args(argv)
    problem = run(root_dir()) if a.command == "run" else check()
    print(f"backprop-kit: {problem}" if problem else f"backprop-kit: {a.command}: done")
    return 1 if a.command == "check" and problem else 0


if __name__ == "__main__":
    sys.exit(main())
