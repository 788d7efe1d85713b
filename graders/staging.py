"""What the sandboxed child may import and see: ``stage_library`` copies the probe side of the
kit and the child's own modules into a library folder of its own; ``default_hidden`` lists the
folders the child must not see; ``normalise_notebook`` turns a notebook into the version-4 JSON
the child's loader reads."""
from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
_SKIPPED_FROM_CHILD = {"judges", "plugin.py", "conftest.py", "__pycache__"}
# graders/ modules the child runs (as the package bpk_sandbox): the standard library, numpy and
# each other only (tests/test_grader_messages.py checks their imports)
CHILD_MODULES = ("serve.py", "namespaces.py", "container.py", "libc.py", "seccomp.py", "audit.py", "messages.py",
                 "wire.py")


def base_site_packages() -> list[Path]:
    """The base Python's site-packages/dist-packages folders (scipy, IPython, ... live there; the
    child needs only the standard library and the numpy bound into its library folder)."""
    schemes = {sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("prefix"), "posix_prefix"}
    schemes |= {"posix_local", "deb_system"} & set(sysconfig.get_scheme_names())  # Debian's Pythons
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    found = {Path(sysconfig.get_paths(scheme, vars=base)[key]).resolve()
             for scheme in schemes for key in ("purelib", "platlib")}
    venv = Path(sys.prefix).resolve() if sys.prefix != sys.base_prefix else None  # hidden already
    return sorted(p for p in found if p.is_dir() and not (venv and p.is_relative_to(venv)))


def default_hidden(*extra: str | os.PathLike) -> list[str]:
    """Folders the child must not see: the kit, its virtualenv, home, data folders, the temporary
    folder (other workers' sandboxes hold other students' notebooks), the base Python's
    site-packages, ``extra``."""
    candidates = [KIT_ROOT, sys.prefix, Path.home(), "/usr/share/datasets", "/usr/share/doc", "/usr/local/etc",
                  tempfile.gettempdir(),
                  os.environ.get("BACKPROP_KIT_DATA"), os.environ.get("XDG_CACHE_HOME"),
                  *base_site_packages(), *extra]
    out = []
    for c in candidates:
        if c and Path(c).resolve() != Path("/"):
            out.append(str(Path(c).resolve()))
    return list(dict.fromkeys(out))


def stage_library(dest: Path, extra_probes: tuple[Path, ...] = (), own_numpy: bool = False) -> tuple[Path, list[str]]:
    """Copy what the child may import into ``dest``: the probe side of ``conformance`` (no judges,
    no plugin) and the child's own modules (``CHILD_MODULES``). numpy is bound in (or linked) by the child, or
    with ``own_numpy`` (container mode, where the folder numpy is installed in may be closed to
    the child's user) hard-linked, else copied, into the library folder."""
    import numpy

    lib = dest / "lib"
    shutil.copytree(KIT_ROOT / "conformance", lib / "conformance",
                    ignore=lambda d, names: [n for n in names if n in _SKIPPED_FROM_CHILD
                                             or n.startswith("test_") or n.endswith(".md")])
    (lib / "bpk_sandbox").mkdir()
    (lib / "bpk_sandbox" / "__init__.py").write_text("")
    for name in CHILD_MODULES:
        shutil.copy(Path(__file__).with_name(name), lib / "bpk_sandbox" / name)
    (lib / "nbformat").mkdir()  # a package, as the real one is (the loader imports nbformat.warnings)
    shutil.copy(Path(__file__).with_name("nbformat_shim.py"), lib / "nbformat" / "__init__.py")
    (lib / "nbformat" / "warnings.py").write_text(
        "class MissingIDFieldWarning(UserWarning):\n    pass\n\n\nclass DuplicateCellId(UserWarning):\n    pass\n")
    try:
        import tomllib  # noqa: F401
    except ModuleNotFoundError:  # Python 3.10: the child reads styles.toml with the tomli backport,
        import tomli  # its Python sources (a compiled wheel's modules need a library beside the package)

        shutil.copytree(Path(tomli.__file__).parent, lib / "tomli",
                        ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    names = []
    for i, path in enumerate(extra_probes):
        names.append(f"bpk_extra_probes_{i}")
        shutil.copy(path, lib / f"{names[-1]}.py")
    site = Path(numpy.__file__).resolve().parent.parent
    (dest / "links").mkdir()
    for name in ("numpy", "numpy.libs"):
        if (site / name).exists() and own_numpy:
            shutil.copytree(site / name, lib / name, copy_function=_link_or_copy,
                            ignore=shutil.ignore_patterns("__pycache__", "tests"))
        elif (site / name).exists():
            (lib / name).mkdir()  # mount point for the bind mount; an empty dir shadows nothing
            (dest / "links" / name).symlink_to(site / name)
    for d in (dest, lib):
        d.chmod(0o755)
    return lib, names


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # same inode: the same owner and mode, no copy of numpy's 70 MB
    except OSError:
        shutil.copy2(src, dst)


def normalise_notebook(path: Path) -> bytes:
    """A notebook as version-4 JSON when the real nbformat can read it (the child only has a
    v4 reader); anything else (a .py file, a broken notebook) unchanged, for the child's loader
    to accept or refuse with its own sentence. Parsing JSON runs none of the submission's code."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)  # discover() refused links; one swapped in since fails here
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read()
    if path.suffix != ".ipynb":
        return raw
    import warnings

    import nbformat

    try:
        with warnings.catch_warnings():  # e.g. MissingIDFieldWarning: noise in every student's log
            warnings.simplefilter("ignore")
            return nbformat.writes(nbformat.reads(raw.decode("utf-8"), as_version=4)).encode()
    except Exception:  # whatever nbformat refuses, the child's loader explains
        return raw
