"""SPEC.md conv2d (stretch): values and gradients against the cross-correlation formula, on
non-square images with in != out channels (transposed axes cannot pass), with and without
stride/padding. `missing` when the implementation has no conv2d layer."""
from conformance.cases.stretch import build_conv2d
from conformance.judges import stretch
from conformance.layercheck import LayerCheck


class TestConv2d(LayerCheck):
    component = "conv2d"
    probe, timeout = "conv2d.run", 30
    cases = {"k3_s1_p0": build_conv2d(seed=0, config=0), "k2_s2_p1": build_conv2d(seed=0, config=1)}
    judges = stretch.CONV2D_JUDGES
    golden_judge = None  # its fixtures check the reference against PyTorch (tests/test_fixtures.py)
