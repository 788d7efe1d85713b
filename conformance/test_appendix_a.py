"""SPEC.md appendix_a: the single-sample worked example, value by value (a1, h1, f, L and the four
gradients), against fixtures/appendix_a.json."""
import pytest

from conformance.judges import single_sample as appendix
from conformance.outcome import Outcome

pytestmark = pytest.mark.component("appendix_a")


@pytest.mark.parametrize("quantity", appendix.QUANTITIES)
def test_appendix_a(check, quantity):
    if not check.offers("worked_example"):
        check.expect(Outcome("missing", appendix.NOT_SINGLE_SAMPLE.format(style=check.style)))
    try:
        fixture = appendix.load_fixture()
    except appendix.FixtureError as exc:
        check.expect(Outcome("error", f"kit problem, not yours: {exc}"))
    check.run("appendix_a.example", appendix.build_appendix(fixture), appendix.quantity_judge(fixture, quantity))
