"""The child's stand-in for ``nbformat`` (staged as ``nbformat``): reads version-4 notebooks only.

The trusted worker has already converted every notebook it could read with the real nbformat
to version 4 (``graders.staging.normalise_notebook``), so the child needs neither nbformat nor
its dependencies (jsonschema, traitlets, ...). Anything else is refused with a ValueError.
"""
import json


class NotebookNode(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def from_dict(obj):
    if isinstance(obj, dict):
        return NotebookNode({k: from_dict(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [from_dict(v) for v in obj]
    return obj


def reads(text, as_version=4):
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
        raise ValueError("not a version-4 notebook")
    for cell in data["cells"]:
        if not isinstance(cell, dict) or "cell_type" not in cell:
            raise ValueError("a cell without a cell_type")
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
    return from_dict(data)


def read(fp, as_version=4):
    if hasattr(fp, "read"):
        return reads(fp.read(), as_version)
    with open(fp, encoding="utf-8") as fh:
        return reads(fh.read(), as_version)
