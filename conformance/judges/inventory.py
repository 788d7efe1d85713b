"""Judge of the inventory probe: a well-formed list of what was found, under which name."""
from __future__ import annotations

from conformance.components import COMPONENTS
from conformance.outcome import Outcome, failed, passed


def inventory(case: dict, out: dict) -> Outcome:
    """Every component id is listed, found (with the student's name) or not (with what was looked for)."""
    found = out.get("found") if isinstance(out, dict) else None
    if not isinstance(found, dict):
        return failed("The adapter returned no inventory (a dict component -> found name).")
    absent = [c for c in COMPONENTS if c not in found]
    if absent:
        return failed(f"The inventory does not mention {', '.join(absent)}.")
    names = {c: (found[c] or {}).get("name") for c in COMPONENTS}
    have = [f"{c} as {n}" for c, n in names.items() if n]
    lacking = [c for c, n in names.items() if not n]
    return passed(f"Found {len(have)} of {len(COMPONENTS)} components ({', '.join(have) or 'none'}); "
                  f"missing: {', '.join(lacking) or 'none'}.")
