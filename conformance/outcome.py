"""What a judge returns: an outcome with a sentence a student can act on, then the evidence."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """The verdict of one check.

    verdict:  "pass" | "fail" | "missing" | "error" | "timeout"
    message:  plain sentences for the student (what is wrong and why, or what convention was found)
    cause:    id from the diagnosis catalogue (conformance/diagnoses.py), e.g. "double_batch_average"
    evidence: expected / got / where the largest error is / a reproducing snippet (all JSON-able)
    required: False for a check the style and the student's own pipeline do not need (SPEC.md 0.6,
              ``conformance.requirements``): it is reported, and counts for neither verdict nor score
    """

    verdict: str
    message: str = ""
    cause: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    required: bool = True

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def passed(message: str = "", **evidence: Any) -> Outcome:
    return Outcome("pass", message, None, evidence)


def failed(message: str, cause: str | None = None, **evidence: Any) -> Outcome:
    return Outcome("fail", message, cause, evidence)
