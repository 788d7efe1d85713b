"""SPEC.md appendix_a: the single-sample worked example, value by value (a1, h1, f, L and the four
gradients), against fixtures/appendix_a.json."""
import pytest

from conformance.cases import appendix as cases
from conformance.judges import single_sample as appendix
from conformance.outcome import Outcome

pytestmark = pytest.mark.component("appendix_a")


@pytest.mark.parametrize("quantity", cases.QUANTITIES)
def test_appendix_a(check, quantity):
    if not check.offers("worked_example"):
        check.expect(Outcome("missing", appendix.NOT_SINGLE_SAMPLE.format(style=check.style)))
    try:
        fixture = cases.load_fixture()
    except cases.FixtureError as exc:
        check.expect(Outcome("error", f"kit problem, not yours: {exc}"))
    check.run("appendix_a.example", cases.build_appendix(fixture), appendix.quantity_judge(fixture, quantity))
