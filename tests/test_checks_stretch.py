"""batchnorm, dropout, conv2d: judges on hand-made answers (the reference's, and each known bug
planted into them), and the probes through InProcessRunner on the reference."""
import numpy as np
import pytest

import reference as ref
from conformance.adapters import build_adapter
from conformance.cases import stretch as cases
from conformance.judges import stretch
from conformance.loader import load_impl
from conformance.runner import InProcessRunner


@pytest.fixture(scope="module")
def runner():
    return InProcessRunner(build_adapter(load_impl("reference")))


@pytest.mark.parametrize("probe, case, judges", [
    ("batchnorm.run", cases.build_batchnorm(0), stretch.BATCHNORM_JUDGES),
    ("dropout.run", cases.build_dropout(0), stretch.DROPOUT_JUDGES),
    ("conv2d.run", cases.build_conv2d(0, config=0), stretch.CONV2D_JUDGES),
    ("conv2d.run", cases.build_conv2d(0, config=1), stretch.CONV2D_JUDGES),
], ids=["batchnorm", "dropout", "conv2d_k3", "conv2d_k2_s2_p1"])
def test_reference_passes_every_stretch_judge(runner, probe, case, judges):
    out = runner.call(probe, case)
    for judge in judges:
        outcome = judge(case, out)
        assert outcome.verdict == "pass", (judge.__name__, outcome.message)


# --- dropout: answers built by hand from a known mask --------------------------------------------------


def dropout_answer(case, keep=None, scale=None, new_mask_in_backward=False, eval_out=None):
    p, x, dy = case["p"], case["x"], case["dy"]
    rng = np.random.default_rng(1)
    mask = rng.random(x.shape) >= (p if keep is None else 1 - keep)
    s = 1 / (1 - p) if scale is None else scale
    back_mask = rng.random(x.shape) >= p if new_mask_in_backward else mask
    return {"y": x * mask * s, "dx": dy * back_mask * s, "y_eval": x.copy() if eval_out is None else eval_out(x, mask)}


@pytest.mark.parametrize("kwargs, judge, cause", [
    ({"scale": 1.0}, stretch.dropout_scaling, "dropout_not_inverted"),
    ({"keep": 0.3}, stretch.dropout_keep_rate, "dropout_p_is_keep_probability"),
    ({"new_mask_in_backward": True}, stretch.dropout_mask, "dropout_mask_mismatch"),
    ({"eval_out": lambda x, m: x * m / 0.7}, stretch.dropout_eval, "dropout_active_in_eval"),
    ({"eval_out": lambda x, m: x * 0.7}, stretch.dropout_eval, "dropout_eval_scaled"),
])
def test_dropout_bugs_are_named(kwargs, judge, cause):
    case = cases.build_dropout(0)
    assert all(j(case, dropout_answer(case)).passed for j in stretch.DROPOUT_JUDGES)
    outcome = judge(case, dropout_answer(case, **kwargs))
    assert (outcome.verdict, outcome.cause) == ("fail", cause), outcome.message


def test_dropout_malformed_answer_fails_closed():
    case = cases.build_dropout(0)
    answer = dropout_answer(case)
    answer["y"] = answer["y"][:10]
    assert all(j(case, answer).cause == "malformed_answer" for j in stretch.DROPOUT_JUDGES)


# --- batchnorm: eval mode under each running-statistics mistake ----------------------------------------


def bn_eval_answer(case, running_mean, running_var):
    layer = stretch.reference_layer("batchnorm", case["hyper"], case["params"])
    layer.running_mean, layer.running_var = running_mean, running_var
    layer.eval()
    return {"y_eval": layer.forward(np.array(case["x_eval"]))}


def test_batchnorm_eval_bugs_are_named():
    case = cases.build_batchnorm(0)
    F, batches = case["hyper"]["num_features"], [np.asarray(b) for b in case["train_batches"]]
    assert stretch.bn_eval(case, bn_eval_answer(case, *stretch.running_stats(batches, 0.1))).passed
    assert stretch.bn_eval(case, bn_eval_answer(case, *stretch.running_stats(batches, 0.1, unbiased=False))).passed
    for unbiased in (True, False):  # a running variance started at 0 (CS231n's starter code) is accepted and said
        from_zero = stretch.bn_eval(case, bn_eval_answer(
            case, *stretch.running_stats(batches, 0.1, unbiased=unbiased, start_var=0.0)))
        assert from_zero.passed and "starts at 0" in from_zero.message
    not_updated = stretch.bn_eval(case, bn_eval_answer(case, np.zeros(F), np.ones(F)))
    assert not_updated.cause == "running_stats_not_updated"
    reversed_momentum = stretch.bn_eval(case, bn_eval_answer(case, *stretch.running_stats(batches, 0.1, decay_old=True)))
    assert reversed_momentum.cause == "batchnorm_momentum_convention"
    xe = np.array(case["x_eval"])
    batch_stats = bn_eval_answer(case, xe.mean(0), xe.var(0))
    assert stretch.bn_eval(case, batch_stats).cause == "batchnorm_eval_uses_batch_stats"


def test_batchnorm_numerical_vjp_catches_a_backward_that_ignores_the_statistics(runner):
    case = cases.build_batchnorm(0)
    out = runner.call("batchnorm.run", case)
    out["dx"] = case["dy"] * case["params"]["gamma"] / np.sqrt(case["x"].var(0) + 1e-5)  # eval-mode formula
    assert stretch.bn_numerical_vjp(case, out).cause == "batchnorm_backward"
    assert stretch.bn_input_grad(case, out).cause == "batchnorm_backward"


# --- conv2d ------------------------------------------------------------------------------------------


def test_conv2d_flipped_kernel_and_transposed_gradient_are_caught(runner):
    case = cases.build_conv2d(0, config=0)
    out = runner.call("conv2d.run", case)
    c = case["cases"][0]
    flipped = stretch.reference_layer("conv2d", c["hyper"], {"W": c["params"]["W"][:, :, ::-1, ::-1],
                                                             "b": c["params"]["b"]})
    out["cases"][0]["y"] = flipped.forward(np.array(c["x"]))
    assert stretch.conv_values(case, out).cause == "conv_flipped_kernel"
    out["cases"][0]["grads"]["W"] = out["cases"][0]["grads"]["W"].transpose(0, 1, 3, 2)
    assert stretch.conv_gradients(case, out).cause == "conv2d_backward"


def test_conv2d_gradients_averaged_over_the_batch_pass_only_together(runner):
    """dW and db both divided by B (the batch mean inside the layer, as linear allows) pass and say so;
    dW averaged beside a summed db fails; dx is never averaged."""
    case = cases.build_conv2d(0, config=0)
    batch = np.shape(case["cases"][0]["x"])[0]
    out = runner.call("conv2d.run", case)
    grads = out["cases"][0]["grads"]
    W, b = np.array(grads["W"]), np.array(grads["b"])
    grads["W"], grads["b"] = W / batch, b / batch
    averaged = stretch.conv_gradients(case, out)
    assert averaged.passed and averaged.evidence.get("convention") == "gradients averaged over the batch", averaged
    grads["b"] = b
    assert stretch.conv_gradients(case, out).cause == "conv2d_backward"
    grads["W"] = W
    out["cases"][0]["dx"] = np.array(out["cases"][0]["dx"]) / batch
    assert stretch.conv_gradients(case, out).cause == "conv2d_backward"


def test_conv2d_cases_are_non_square():
    for config in cases.CONV_CONFIGS:
        assert config["in_channels"] != config["out_channels"] and config["hw"][0] != config["hw"][1]


# A batchnorm that fixes its own eps (no eps argument: Keras's 1e-3, or 1e-8) is judged at that eps:
# its maths is right, and the kit's 1e-5 would fail its forward. One that takes eps gets the kit's.
OWN_EPS_BATCHNORM = """
import numpy as np

class Q6Norm:
    def __init__(self, n, momentum=0.1{arg}):
        self.gamma, self.beta = np.ones(n), np.zeros(n)
        self.running_mean, self.running_var = np.zeros(n), np.ones(n){attr}
        self.m = momentum

    def forward(self, x, training=True):
        if training:
            mu, var = x.mean(0), x.var(0)
            self.running_mean = (1 - self.m) * self.running_mean + self.m * mu
            self.running_var = (1 - self.m) * self.running_var + self.m * x.var(0, ddof=1)
        else:
            mu, var = self.running_mean, self.running_var
        self.xhat, self.inv = (x - mu) / np.sqrt(var + {eps}), 1 / np.sqrt(var + {eps})
        return self.gamma * self.xhat + self.beta

    def backward(self, dy):
        self.dgamma, self.dbeta = (dy * self.xhat).sum(0), dy.sum(0)
        dxhat = dy * self.gamma
        return self.inv * (dxhat - dxhat.mean(0) - self.xhat * (dxhat * self.xhat).mean(0))
"""


@pytest.mark.parametrize("arg, attr, eps, judged_at", [
    ("", "", "1e-8", 1e-8),                               # a constant in its code
    ("", "\n        self.epsilon = 1e-3", "self.epsilon", 1e-3),  # an attribute it sets itself
    (", eps=1e-5", "\n        self.eps = eps", "self.eps", None),  # it takes eps: the kit's 1e-5
], ids=["constant", "attribute", "argument"])
def test_a_batchnorm_is_judged_at_the_eps_it_fixes_itself(tmp_path, arg, attr, eps, judged_at):
    path = tmp_path / "norm.py"
    path.write_text(OWN_EPS_BATCHNORM.format(arg=arg, attr=attr, eps=eps))
    adapter = build_adapter(load_impl(str(path)))
    case = cases.build_batchnorm(0)
    out = InProcessRunner(adapter).call("batchnorm.run", case)
    outcomes = {j.__name__: j(case, out) for j in stretch.BATCHNORM_JUDGES}
    assert all(o.passed for o in outcomes.values()), {k: o.message for k, o in outcomes.items() if not o.passed}
    assert out.get("own_eps") == judged_at
    said = f"(at your layer's own eps = {judged_at:g})" if judged_at else ""
    assert said in outcomes["bn_forward"].message and said in outcomes["bn_input_grad"].message
    if judged_at:
        assert f"its own eps = {judged_at:g}" in adapter.inventory()["batchnorm"].detail
        at_kits = stretch.bn_forward(case, {**out, "own_eps": None})  # at the kit's 1e-5 the same maths fails
        assert (at_kits.verdict, at_kits.cause) == ("fail", "batchnorm_forward"), at_kits.message


# A functional conv pair whose backward crops the padding with [pad:-pad]: empty at pad 0. The
# pair named forward/backward is still the conv2d (a bug never turns a fail into missing): dx fails
# wrong_shape at pad 0 and passes at pad 1.
CROPPING_CONV = """
import numpy as np

def slide_forward(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    F, C, kh, kw = w.shape
    oh, ow = (xp.shape[2] - kh) // s + 1, (xp.shape[3] - kw) // s + 1
    out = np.zeros((x.shape[0], F, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)

def slide_backward(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    kh, kw = w.shape[2:]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            patch = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
            dw += np.tensordot(dout[:, :, i, j], patch, axes=([0], [0]))
            dxp[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    return dxp[:, :, p:-p, p:-p], dw, dout.sum(axis=(0, 2, 3))
"""


def test_a_named_conv_backward_with_the_wrong_dx_shape_is_kept_and_fails_wrong_shape(tmp_path):
    path = tmp_path / "conv.py"
    path.write_text(CROPPING_CONV)
    adapter = build_adapter(load_impl(str(path)))
    assert "slide_backward is its backward by name" in adapter.inventory()["conv2d"].detail
    runner = InProcessRunner(adapter)
    verdicts = {}
    for config in (0, 1):  # 3x3 stride 1 no padding; 2x2 stride 2 padding 1
        case = cases.build_conv2d(0, config=config)
        out = runner.call("conv2d.run", case)
        verdicts[config] = [(j.__name__, j(case, out).verdict, j(case, out).cause) for j in stretch.CONV2D_JUDGES]
    assert verdicts == {0: [("conv_values", "pass", None), ("conv_gradients", "fail", "wrong_shape")],
                        1: [("conv_values", "pass", None), ("conv_gradients", "pass", None)]}, verdicts


# A conv forward named so that raises in its own line in every layout (Python 2's `/` giving a float
# shape) is the student's error at that line; one that raises because the kit could not fill a key
# of its dict stays missing.
@pytest.mark.parametrize("change, kind", [
    (("oh, ow = (xp.shape[2] - kh) // s + 1, (xp.shape[3] - kw) // s + 1",
      "oh, ow = (xp.shape[2] - kh) / s + 1, (xp.shape[3] - kw) / s + 1"), "error"),
    (('s, p = conv_param["stride"], conv_param["pad"]\n    xp',
      's, p = conv_param["stride"], conv_param["pad"]\n    dilation = conv_param["dilation_q14"]\n    xp'), "missing"),
], ids=["python2_division", "unknown_key"])
def test_a_conv_forward_that_raises_in_its_own_line_is_an_error_there(tmp_path, change, kind):
    from conformance.runner import ProbeFailure

    path = tmp_path / "conv.py"
    assert change[0] in CROPPING_CONV
    source = CROPPING_CONV.replace(*change).replace("slide_", "conv_")  # named a convolution
    path.write_text(source)
    line = next(i for i, text in enumerate(source.splitlines(), 1) if "out = np.zeros(" in text)  # the float shape
    with pytest.raises(ProbeFailure) as info:
        InProcessRunner(build_adapter(load_impl(str(path)))).call("conv2d.run", cases.build_conv2d(0, config=0))
    assert info.value.kind == kind, info.value.message
    if kind == "error":
        assert f"(in conv_forward, {path}, line {line})" in info.value.message, info.value.message
