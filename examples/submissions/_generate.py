"""Writes the synthetic class of example submissions next to this file (run it to refresh them).

They are derived from the kit's test implementations (``tests/impls``), with a student's habits
(magics, prints, a training loop, plots) and, for some students, a classic bug planted:

    ada   canonical API, correct
    ben   layer-dicts style (assignment 000), correct
    chen  attribute-gradients style (001): divides by the batch twice (loss and Linear)
    dara  dense-net style (003): sigmoid derivative written with the output's sign flipped
    eli   canonical API: bias gradient averaged instead of summed, sigmoid backward forgets dy
    fay/  a folder holding her notebook: correct, with a cell that has a syntax error
    gus   an empty notebook (nothing to grade)
    hana  single-sample style (004) as a plain .py script: sigmoid derivative taken from the input
    ivy   layer-dicts style (000): weight gradient transposed; compares with PyTorch (torch import reported)
    jo    layer-dicts style (000): initialises inside Linear's constructor (no initialiser functions),
          writes a correct gradient checker beside a ReLU whose backward mask is inverted, and keeps a
          forward-only Softmax (its gradient is folded into the loss on logits): init, gradient_checker
          and softmax pass, the broken ReLU fails only what it touches (issue #13, items 1 to 3)

    python examples/submissions/_generate.py
"""
from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPLS = HERE.parent.parent / "tests" / "impls"


def notebook(cells: list[tuple[str, str]], nbformat: int = 4) -> dict:
    def cell(kind, text):
        lines = text.strip("\n").splitlines(keepends=True)
        base = {"cell_type": kind, "metadata": {}, "source": lines}
        return {**base, "execution_count": None, "outputs": []} if kind == "code" else base

    return {"nbformat": nbformat, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3"}},
            "cells": [cell(k, t) for k, t in cells]}


def split_top_level(source: str) -> list[str]:
    """One code cell per top-level statement group (imports together, one per def/class)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    cells, imports = [], []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        text = "".join(lines[start:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        elif isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant):
            continue  # the module docstring
        else:
            cells.append(text)
    return ["".join(imports)] + cells


STUDENT_HABITS = [
    ("markdown", "## Training on random data first\nChecking the loss goes down before MNIST."),
    ("code", "%matplotlib inline\nrng = np.random.default_rng(0)\nX = rng.normal(size=(64, 20))\n"
             "y = rng.integers(0, 3, size=64)\nprint('data ready', X.shape)"),
    ("code", "for epoch in range(3):\n    print('epoch', epoch)"),
]


def from_source(source: str, title: str, replacements: tuple[tuple[str, str], ...] = ()) -> dict:
    for old, new in replacements:
        assert old in source, f"cannot plant the bug: {old!r} not found"
        source = source.replace(old, new)
    cells = [("markdown", f"# {title}")] + [("code", c) for c in split_top_level(source)]
    return notebook(cells + STUDENT_HABITS)


def edit_notebook(path: Path, replacements: tuple[tuple[str, str], ...]) -> dict:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        for old, new in replacements:
            text = text.replace(old, new)
        cell["source"] = text.splitlines(keepends=True)
    return nb


def single_sample_script() -> str:
    """The single-sample package as one script, the way a student would hand it in."""
    parts = []
    for name in ("activations", "models", "gradient_check", "optimization", "data"):
        text = (IMPLS / "single_sample" / f"{name}.py").read_text()
        parts.append("\n".join(line for line in text.splitlines() if not line.startswith("from .")))
    return "\n\n".join(parts) + "\n"


TORCH_COMPARISON = """import torch


def compare_with_torch(layer, x):
    \"\"\"Part 4 of the assignment: the same forward in PyTorch.\"\"\"
    W = torch.tensor(layer.params["W"])
    return (torch.tensor(x) @ W.T).numpy()
"""


PROBABILITIES = """class Softmax(Layer):
    \"\"\"Class probabilities, for reading predictions. Training never calls a backward here:
    SoftmaxCrossEntropy takes the logits and its backward already returns d(loss)/d(logits).\"\"\"

    def forward(self, x):
        shifted = x - np.max(x, axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / np.sum(e, axis=1, keepdims=True)
"""


def with_cell(nb: dict, source: str) -> dict:
    nb["cells"].append(notebook([("code", source)])["cells"][0])
    return nb


def build() -> dict[str, dict | str]:
    # A notebook keeps only imports, definitions and constants: a module-level table of
    # functions would be dropped, so these students look their initialiser up inside __init__.
    canonical = (IMPLS / "canonical.py").read_text().replace(
        'INITIALISERS = {"he": he_normal, "xavier": xavier_normal}\n', "").replace(
        "INITIALISERS[init](", '{"he": he_normal, "xavier": xavier_normal}[init](')
    attr = (IMPLS / "attr_grads.py").read_text()
    fay = from_source(canonical, "Fay's network")
    fay["cells"].insert(3, notebook([("code", "def broken(:\n    pass")])["cells"][0])
    return {
        "ada.ipynb": from_source(canonical, "Ada's network library"),
        "ben.ipynb": json.loads((IMPLS / "layer_dicts.ipynb").read_text()),
        "chen.ipynb": from_source(attr, "Chen: MLP from scratch",
                                  (("        grad[np.arange(probs.shape[0]), targets] -= 1\n        return grad",
                                    "        grad[np.arange(probs.shape[0]), targets] -= 1\n"
                                    "        return grad / probs.shape[0]"),)),
        "dara.ipynb": edit_notebook(IMPLS / "dense_net.ipynb",
                                    (("return grad_output * self.a * (1 - self.a)",
                                      "return grad_output * self.a * (1 + self.a)"),)),
        "eli.ipynb": from_source(canonical, "Eli's layers",
                                 (('self.grads["b"] = dy.sum(axis=0)', 'self.grads["b"] = dy.mean(axis=0)'),
                                  ("return dy * self.y * (1 - self.y)", "return self.y * (1 - self.y)"))),
        "fay/homework.ipynb": fay,
        "gus.ipynb": notebook([]),
        "hana.py": single_sample_script().replace(
            "        s = self.forward(z)\n        return s * (1 - s)", "        return z * (1 - z)"),
        "ivy.ipynb": with_cell(edit_notebook(IMPLS / "layer_dicts.ipynb",
                                             (('self.grads["W"] = grad_output.T @ x', 'self.grads["W"] = x.T @ grad_output'),)),
                               TORCH_COMPARISON),
        "jo.ipynb": with_cell(edit_notebook(IMPLS / "layer_dicts.ipynb",
                                            (("return grad_output * (x > 0)", "return grad_output * (x < 0)"),)),
                              PROBABILITIES),
    }


def main() -> None:
    for name, nb in build().items():
        path = HERE / name
        if path.parent != HERE and path.parent.exists():
            shutil.rmtree(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(nb if isinstance(nb, str) else json.dumps(nb, indent=1) + "\n")
        print(f"wrote {path.relative_to(HERE)}")


if __name__ == "__main__":
    main()
