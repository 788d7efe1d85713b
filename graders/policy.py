"""Policy checks done by reading the submission, never by running it: which modules it imports.

>>> imported_modules_of_source("import torch.nn as nn\\nfrom reference import Linear")
['reference', 'torch']
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

AUTODIFF = ("torch", "tensorflow", "jax", "autograd", "keras")
KIT = ("reference", "conformance", "fixtures", "graders", "tests")


def _code_cells(path: Path) -> list[str]:
    if path.suffix != ".ipynb":
        return [path.read_text(errors="replace")]
    nb = json.loads(path.read_text(errors="replace"))
    cells = nb.get("cells") or [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", cell.get("input", ""))
            out.append("".join(src) if isinstance(src, list) else str(src))
    return out


def imported_modules_of_source(source: str) -> list[str]:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(names)


def flagged_imports(path: str | Path, watched: tuple[str, ...] = AUTODIFF + KIT) -> list[str]:
    """The watched top-level modules a submission imports anywhere (in any cell or function)."""
    try:
        cells = _code_cells(Path(path))
    except (OSError, ValueError, AttributeError, TypeError):
        return []
    found = {name for src in cells for name in imported_modules_of_source(src)}
    return sorted(found & set(watched))
