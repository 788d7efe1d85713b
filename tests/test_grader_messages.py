"""The typed messages that cross the grader's process boundaries (graders/messages.py): each
type's fields are its schema, checked both ways; and the child's modules import nothing that
``stage_library`` does not stage."""
from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from graders import messages
from graders.messages import Answer, ChildConfig, Hello, Limits, MessageError, Request, WorkerOptions
from graders.staging import CHILD_MODULES

GRADERS = Path(messages.__file__).parent

EXAMPLES = [
    Limits(),
    Limits(cpu_seconds=5, isolation="container", syscall_filter=False),
    WorkerOptions(submission="/s/ada.ipynb", result="/t/result.json", style=None, timeout=None, max_timeouts=8,
                  limits=Limits(work_mb=8), hide=["/out"], extra_probes=[], pytest_args=["-m", "not slow"],
                  pins={"linear": {"class": "Dense"}}),
    ChildConfig(req_fd=3, ans_fd=4, parent=None, limits=Limits(), style="canonical", box="/b", lib="/l", work="/w",
                submission="/w/ada.py", bind_into_lib={"numpy": "/site/numpy"}, links="/links", hide=["/home"],
                hide_extra=[], keep=["/usr"], extra_probes=["bpk_extra_probes_0"], pins={}, uid=1000017),
    Request(probe="linear.vjp", inputs={"x": [[1.0]], "seed": 0}),
    Hello(ok=True, style="canonical", detected_because=["Linear"], notes=["n"], isolation={"mode": "namespaces"},
          dropped=[{"cell": None, "line": 3, "kind": "statement", "text": "fit()", "reason": "a run", "file": "a.py"}]),
    Hello(ok=False, kind="error", message="SyntaxError", output_dropped_chars=12),
    Answer(ok=True, outputs={"y": [1.0, 2.0]}),
    Answer(ok=False, kind="missing", message="no Linear"),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_survives_a_round_trip_as_json(message):
    import json

    wire = json.loads(json.dumps(message.to_wire()))
    assert set(wire) == {f.name for f in dataclasses.fields(message)}
    assert type(message).from_wire(wire) == message


def test_arrays_ride_in_the_any_fields_untouched():
    y = np.arange(3.0)
    assert Answer.from_wire(Answer(ok=True, outputs={"y": y}).to_wire()).outputs["y"] is y


HELLO = Hello(ok=True, isolation={"mode": "namespaces"}).to_wire()
OPTIONS = EXAMPLES[2].to_wire()


@pytest.mark.parametrize("cls, data, says", [
    (Hello, {**HELLO, "shell": "rm -rf"}, "Hello has no field 'shell'"),
    (Hello, {k: v for k, v in HELLO.items() if k != "notes"}, "Hello lacks its field 'notes'"),
    (Hello, {**HELLO, "ok": 1}, "Hello.ok is an int, not a bool"),
    (Hello, {**HELLO, "output_dropped_chars": True}, "Hello.output_dropped_chars is a bool, not an int"),
    (Hello, {**HELLO, "style": ["canonical"]}, "Hello.style is a list, not a str or None"),
    (Hello, {**HELLO, "isolation": {"user": 0}}, "Hello.isolation['user'] is an int, not a str"),
    (Hello, {**HELLO, "notes": ["a", None]}, "Hello.notes[1] is a NoneType, not a str"),
    (Hello, {**HELLO, "notes": "a"}, "Hello.notes is a str, not a list"),
    (Hello, {**HELLO, "isolation": ["a"]}, "Hello.isolation is a list, not a dict or None"),
    (Hello, "hello", "Hello is a str, not a dict"),
    (Answer, {"ok": True, "outputs": [1], "kind": None, "message": None, "output_dropped_chars": 0},
     "Answer.outputs is a list, not a dict or None"),
    (Request, {"probe": "p", "inputs": {1: 2}}, "Request.inputs has a key 1 that is not a str"),
    (WorkerOptions, {**OPTIONS, "limits": {**OPTIONS["limits"], "cpu_seconds": "600"}},
     "WorkerOptions.limits.cpu_seconds is a str, not an int"),
    (WorkerOptions, {**OPTIONS, "limits": {**OPTIONS["limits"], "nproc": 1}},
     "WorkerOptions.limits has no field 'nproc'"),
    (Limits, {}, "Limits lacks its field 'address_space_mb'"),
])
def test_unknown_missing_and_mistyped_fields_are_refused_naming_the_field(cls, data, says):
    with pytest.raises(MessageError) as info:
        cls.from_wire(data)
    assert str(info.value) == says


def test_sending_checks_the_same_schema():
    with pytest.raises(MessageError, match=r"^Answer.outputs is a tuple, not a dict or None$"):
        Answer(ok=True, outputs=(1, 2)).to_wire()
    with pytest.raises(MessageError, match=r"^WorkerOptions.limits is a dict, not a Limits$"):
        dataclasses.replace(EXAMPLES[2], limits={}).to_wire()


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("name", CHILD_MODULES)
def test_the_child_imports_only_the_standard_library_numpy_and_what_is_staged(name):
    """A module of the child's reaches the rest of graders/ only relatively (staged beside it as
    bpk_sandbox); anything else must be the standard library, numpy or the staged conformance."""
    outside = _imports(GRADERS / name) - set(sys.stdlib_module_names) - {"numpy", "conformance", "__future__"}
    assert not outside, f"{name} imports {sorted(outside)}, which the sandboxed child does not have"
    relative = {node.module.split(".")[0] for node in ast.walk(ast.parse((GRADERS / name).read_text()))
                if isinstance(node, ast.ImportFrom) and node.level and node.module}
    assert {f"{m}.py" for m in relative} <= set(CHILD_MODULES)
