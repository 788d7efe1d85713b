"""What the implementation defines, under which name, and what is missing (never a verdict on a
component: a missing component is reported by its own checks as ``missing``)."""
from conformance.judges.inventory import inventory


def test_inventory(check):
    out = check.probe("inventory", {}, timeout=10)
    check.note("inventory", out.get("found"))
    check.expect(inventory({}, out))
