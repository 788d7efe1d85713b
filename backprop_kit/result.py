"""What ``check()`` returns: verdicts, the report, and a table for a notebook or a terminal."""
from __future__ import annotations

from dataclasses import dataclass, field

from conformance.report import table


@dataclass
class CheckResult:
    """The outcome of ``backprop_kit.check()``.

    ``report``    the same dict ``pytest conformance --report`` writes (every component id);
    ``checked``   the components this call checked, in SPEC order;
    ``verdicts``  {component id: verdict} for those;
    ``notes``     sentences about the session (cells that failed, tiers not run);
    ``seconds``   how long the checks took.

    In a notebook it shows as a table with the diagnosis and collapsible evidence
    (``_repr_html_``); ``str()`` and the REPL give the same table as text.
    """

    report: dict
    checked: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def verdicts(self) -> dict[str, str]:
        return {c: self.report["components"][c]["verdict"] for c in self.checked}

    @property
    def passed(self) -> bool:
        """Whether every component checked passes."""
        return bool(self.checked) and all(v == "pass" for v in self.verdicts.values())

    def _footer(self) -> str:
        counts = {}
        for verdict in self.verdicts.values():
            counts[verdict] = counts.get(verdict, 0) + 1
        tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        return f"{len(self.checked)} components checked in {self.seconds:.1f} s: {tally}."

    def __str__(self) -> str:
        shown = {**self.report, "components": {c: self.report["components"][c] for c in self.checked}}
        lines = [*self.notes, *table(shown), self._footer()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from conformance.pages import fragment

        return fragment(self.report, self.checked, self.notes, footer=self._footer())
