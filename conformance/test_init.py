"""SPEC.md init: He and Xavier variance of 512 x 384 matrices within 6 sampling standard
deviations of the variance (about 2%, derivation in conformance/judges/init.py), judged against
what the student's initialiser claims to be; normal vs uniform is named, both are accepted."""
import pytest

from conformance.cases.init import build_init
from conformance.judges import init

pytestmark = pytest.mark.component("init")

CASE = build_init(seed=0)


@pytest.mark.parametrize("kind", CASE["kinds"])
def test_init(check, kind):
    check.run("init.draw", CASE, init.kind_judge(kind), timeout=30)
