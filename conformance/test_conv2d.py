"""SPEC.md conv2d (stretch): values and gradients against the cross-correlation formula, on
non-square images with in != out channels (transposed axes cannot pass), with and without
stride/padding. `missing` when the implementation has no conv2d layer."""
import pytest

from conformance.judges import stretch

pytestmark = pytest.mark.component("conv2d")

CASES = [stretch.build_conv2d(seed=0, config=i) for i in range(len(stretch.CONV_CONFIGS))]


@pytest.mark.parametrize("judge", stretch.CONV2D_JUDGES, ids=lambda j: j.__name__)
@pytest.mark.parametrize("case", CASES, ids=["k3_s1_p0", "k2_s2_p1"])
def test_conv2d(check, case, judge):
    check.run("conv2d.run", case, judge, timeout=30)
