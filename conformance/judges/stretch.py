"""Judges for the stretch layers: batchnorm, dropout and conv2d, one judge per property.

Expected values come from the reference layers (reference.BatchNorm1d, reference.Conv2D) on the
same inputs; named mistakes are small variants computed here. Tolerances (``conformance.tolerances``):
``forward`` for values and exact gradients (float64, a few hundred terms), ``gradient`` for the
numerical VJP; statistical ones are derived where they are used.
"""
from __future__ import annotations

import numpy as np

from conformance.judges.common import close, read_array, where_largest
from conformance.judges.layers import reference_layer, reference_pass
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import DROPOUT, EPS, FORWARD, GRADIENT


def _compare(what: str, expected, outputs, key: str, cause: str, hint: str,
             variants: dict | None = None) -> Outcome:
    """pass if outputs[key] == expected; else name the variant it matches, or show where it differs."""
    got = read_array(outputs, key, what, np.shape(expected))
    if isinstance(got, Outcome):
        return failed(got.message, got.cause if got.cause in ("wrong_shape", "wrong_dtype") else "malformed_answer",
                      **got.evidence)
    if close(got, expected, FORWARD):
        return passed(f"{what} matches.")
    for name, (value, sentence) in (variants or {}).items():
        if close(got, value, FORWARD):
            return failed(f"{what}: {sentence}", name, **where_largest(got, expected))
    return failed(f"{what} differs from the expected value: {hint}", cause, **where_largest(got, expected))


# --- batchnorm ------------------------------------------------------------------------------------------


def running_stats(batches, momentum, unbiased=True, decay_old=False, start_var=1.0):
    """The running mean and variance after ``batches``, started at 0 and ``start_var`` (PyTorch's 1;
    CS231n's starter code, and layers that create them on the first batch, start both at 0)."""
    mean, var = np.zeros(batches[0].shape[1]), np.full(batches[0].shape[1], start_var)
    for xb in batches:
        m = 1 - momentum if decay_old else momentum  # decay_old: momentum weights the OLD value
        bv = xb.var(0, ddof=1 if unbiased else 0)
        mean, var = (1 - m) * mean + m * xb.mean(0), (1 - m) * var + m * bv
    return mean, var


def _at_own_eps(case: dict, out: dict) -> tuple[dict, str]:
    """The case at the eps the layer fixes in its own code (it takes none from the kit: Keras's 1e-3,
    1e-8), with the words that say so; else the case as it is. The maths is judged, not the constant."""
    eps = out.get("own_eps") if isinstance(out, dict) else None
    if not isinstance(eps, float) or not 0 < eps <= 1e-2 or eps == case["hyper"]["eps"]:
        return case, ""
    return {**case, "hyper": {**case["hyper"], "eps": eps}}, f" (at your layer's own eps = {eps:g})"


def _bn_expected(case, out=None):
    case, _ = _at_own_eps(case, out)
    return reference_pass(case, kind="batchnorm")


def bn_forward(case: dict, out: dict) -> Outcome:
    return _compare("batchnorm train-mode forward" + _at_own_eps(case, out)[1], _bn_expected(case, out)["y"], out,
                    "y", "batchnorm_forward", "normalise with the batch mean and the biased batch variance.")


def bn_input_grad(case: dict, out: dict) -> Outcome:
    return _compare("batchnorm dx" + _at_own_eps(case, out)[1], _bn_expected(case, out)["dx"], out, "dx",
                    "batchnorm_backward", "dx must include the paths through the batch mean and variance.")


def bn_param_grads(case: dict, out: dict) -> Outcome:
    expected = _bn_expected(case, out)["grads"]
    grads = out.get("grads") if isinstance(out, dict) and isinstance(out.get("grads"), dict) else {}
    for key in ("gamma", "beta"):
        result = _compare(f"batchnorm d{key}", expected[key], grads, key, "batchnorm_backward",
                          f"d{key} = sum over the batch of dy{' * x_hat' if key == 'gamma' else ''}.")
        if not result.passed:
            return result
    return passed("batchnorm dgamma and dbeta match.")


def bn_numerical_vjp(case: dict, out: dict) -> Outcome:
    """<dy, y(point)> central differences vs <(dx, dgamma, dbeta), v>: the student's own forward."""
    pts = out.get("point_outputs") if isinstance(out, dict) else None
    grads = out.get("grads") if isinstance(out, dict) and isinstance(out.get("grads"), dict) else {}
    analytic = {"x": read_array(out, "dx", "dx", np.shape(case["x"])),
                "gamma": read_array(grads, "gamma", "dgamma", np.shape(case["params"]["gamma"])),
                "beta": read_array(grads, "beta", "dbeta", np.shape(case["params"]["beta"]))}
    bad = next((v for v in analytic.values() if isinstance(v, Outcome)), None)
    if bad is not None or not isinstance(pts, list) or len(pts) != len(case["points"]):
        return failed("batchnorm numerical VJP: " + (bad.message if bad else "the forward values at the "
                     "kit's points were not returned."), "malformed_answer")
    errors = []
    for i, d in enumerate(case["directions"]):
        diff = np.asarray(pts[2 * i], float) - np.asarray(pts[2 * i + 1], float)
        num = float(np.sum(case["dy"] * diff)) / (2 * EPS)
        ana = sum(float(np.sum(analytic[k] * d[k])) for k in d)
        errors.append(abs(num - ana) / max(abs(num), abs(ana), 1e-12))
    if max(errors) <= GRADIENT.rtol:
        return passed("batchnorm backward is the exact VJP of your own train-mode forward.")
    return failed(f"batchnorm backward is not the VJP of your own train-mode forward (relative error "
                 f"{max(errors):.2e} > {GRADIENT.rtol:g} along a random direction).", "batchnorm_backward",
                 errors=errors)


def bn_eval(case: dict, out: dict) -> Outcome:
    xe = case["x_eval"]
    got = read_array(out, "y_eval", "batchnorm eval-mode output", np.shape(xe))
    if isinstance(got, Outcome):
        return failed(got.message, "malformed_answer")
    case, _ = _at_own_eps(case, out)
    gamma, beta = case["params"]["gamma"], case["params"]["beta"]
    eps, m = case["hyper"]["eps"], case["hyper"]["momentum"]
    batches = [np.asarray(b, float) for b in case["train_batches"]]

    def with_stats(mean, var):
        return (xe - mean) / np.sqrt(var + eps) * gamma + beta

    trained = reference_layer("batchnorm", case["hyper"], case["params"])
    for xb in batches:
        trained.forward(xb)
    trained.eval()
    fresh = reference_layer("batchnorm", case["hyper"], case["params"])  # train mode: batch statistics
    # how the layer was driven: a layer whose own default momentum weights the old value (CS231n's 0.9) is
    # handed 1 - momentum (the adapter says so), so the same running statistics are expected of it
    driven = (out.get("conventions") or {}).get("running_stats", "") if isinstance(out, dict) else ""
    own = f" ({driven})" if driven else ""
    flipped = ("your running statistics use momentum the other way round from "
               + ("your own default: " + driven.split(":")[0] + ", yet yours keeps only "
                  f"{m:g} of the old value" if driven else
                  f"PyTorch's: with momentum={m:g}, running = {1 - m:g} * running + {m:g} * batch") + ".")
    expected = trained.forward(np.array(xe, float))
    readings = [  # (cause: None for an accepted reading, expected eval output, sentence), tried in order
        (None, expected, f"batchnorm eval mode uses running statistics (momentum {m:g} on the batch, unbiased "
                         f"running variance){own}."),
        (None, with_stats(*running_stats(batches, m, unbiased=False)),
         f"batchnorm eval mode uses running statistics (kept with the biased batch variance; PyTorch keeps the "
         f"unbiased one: accepted){own}."),
        (None, with_stats(*running_stats(batches, m, start_var=0.0)),
         "batchnorm eval mode uses running statistics (the running variance starts at 0, as CS231n's starter "
         f"code; PyTorch starts it at 1: accepted){own}."),
        (None, with_stats(*running_stats(batches, m, unbiased=False, start_var=0.0)),
         "batchnorm eval mode uses running statistics (the running variance starts at 0, as CS231n's starter "
         f"code, and is kept with the biased batch variance: accepted){own}."),
        *(("batchnorm_momentum_convention", with_stats(*running_stats(batches, m, **kw)), flipped)
          for kw in ({"decay_old": True}, {"unbiased": False, "decay_old": True},
                     {"unbiased": False, "decay_old": True, "start_var": 0.0})),
        ("running_stats_not_updated", with_stats(np.zeros_like(gamma), np.ones_like(gamma)),
         "in eval mode your batchnorm normalises with mean 0 and variance 1: the running statistics are never "
         "updated by training-mode forwards."),
        ("batchnorm_eval_uses_batch_stats", fresh.forward(np.array(xe, float)),
         "in eval mode your batchnorm normalises with the batch's own statistics: use the running mean and "
         "variance."),
    ]
    for cause, want, sentence in readings:
        if close(got, want, FORWARD):
            return passed(sentence) if cause is None else failed(sentence, cause)
    return failed("batchnorm's eval-mode output matches no running-statistics convention the kit knows "
                 "(expected running = 0.9 * running + 0.1 * batch statistics).", "batchnorm_eval",
                 **where_largest(got, expected))


BATCHNORM_JUDGES = (bn_forward, bn_input_grad, bn_param_grads, bn_numerical_vjp, bn_eval)


# --- dropout --------------------------------------------------------------------------------------------


def _dropout_arrays(case, out):
    arrays = [read_array(out, k, f"dropout {k}", case["x"].shape) for k in ("y", "dx", "y_eval")]
    return next((a for a in arrays if isinstance(a, Outcome)), None), arrays


def dropout_keep_rate(case: dict, out: dict) -> Outcome:
    """Fraction kept within 6 binomial sd of 1 - p (sd = sqrt(p(1-p)/n) ~ 0.46% for n = 10,000)."""
    bad, (y, _, _) = _dropout_arrays(case, out)
    if bad:
        return failed(bad.message, "malformed_answer")
    p, rate = case["p"], float(np.mean(y != 0))
    tol = 6 * np.sqrt(p * (1 - p) / y.size)
    if abs(rate - (1 - p)) <= tol:
        return passed(f"dropout keeps {rate:.1%} of units (expected {1 - p:.0%} for p = {p}).")
    if abs(rate - p) <= tol:
        return failed(f"dropout keeps {rate:.1%} of units with p = {p}: p must be the probability of "
                     f"dropping a unit (keep 1 - p).", "dropout_p_is_keep_probability")
    return failed(f"dropout keeps {rate:.1%} of units, expected {1 - p:.0%} +- {tol:.1%}.", "dropout_rate")


def dropout_scaling(case: dict, out: dict) -> Outcome:
    bad, (y, _, _) = _dropout_arrays(case, out)
    if bad:
        return failed(bad.message, "malformed_answer")
    kept, p = y != 0, case["p"]
    if not kept.any():
        return failed("dropout dropped every unit in training mode.", "dropout_rate")
    scale = y[kept] / case["x"][kept]
    if close(scale, 1 / (1 - p), DROPOUT):
        return passed("kept units are scaled by 1/(1-p) (inverted dropout).")
    if close(scale, 1.0, DROPOUT):
        return failed("kept units are not scaled in training: inverted dropout multiplies them by 1/(1-p) "
                     "so that eval mode can be the identity.", "dropout_not_inverted")
    return failed(f"kept units are scaled by {np.median(scale):.4g}, expected 1/(1-p) = {1 / (1 - p):.4g}.",
                 "dropout_scale")


def dropout_mask(case: dict, out: dict) -> Outcome:
    bad, (y, dx, _) = _dropout_arrays(case, out)
    if bad:
        return failed(bad.message, "malformed_answer")
    expected = case["dy"] * np.where(y != 0, y / case["x"], 0.0)  # the forward's mask and scale
    if close(dx, expected, FORWARD):
        return passed("dropout backward uses the forward's mask and scale.")
    return failed("dropout backward does not use the mask (and scale) of its forward pass: keep the mask "
                 "from forward and reuse it; never draw a new one in backward.", "dropout_mask_mismatch",
                 **where_largest(dx, expected))


def dropout_eval(case: dict, out: dict) -> Outcome:
    bad, (_, _, y_eval) = _dropout_arrays(case, out)
    if bad:
        return failed(bad.message, "malformed_answer")
    x, p = case["x"], case["p"]
    if close(y_eval, x, FORWARD):
        return passed("dropout is the identity in eval mode.")
    if close(y_eval, x * (1 - p), FORWARD):
        return failed("in eval mode your dropout multiplies by (1-p): with inverted dropout eval mode is "
                     "the identity.", "dropout_eval_scaled")
    return failed(f"dropout is still active in eval mode ({float(np.mean(y_eval == 0)):.1%} zeros): "
                 f"eval() / training=False must make it the identity.", "dropout_active_in_eval")


DROPOUT_JUDGES = (dropout_keep_rate, dropout_scaling, dropout_mask, dropout_eval)


# --- conv2d ---------------------------------------------------------------------------------------------


def _conv(case, out):
    c = case["cases"][0]
    h = c["hyper"]
    got = out.get("cases") if isinstance(out, dict) else None
    got = got[0] if isinstance(got, list) and got and isinstance(got[0], dict) else {}
    tag = f"conv2d (in {h['in_channels']}, out {h['out_channels']}, k={h['kernel_size']}, stride={h['stride']}, " \
          f"padding={h['padding']})"
    return c, h, got, tag


def conv_values(case: dict, out: dict) -> Outcome:
    c, h, got, tag = _conv(case, out)
    W, b = c["params"]["W"], c["params"]["b"]
    flipped = reference_pass(c, kind="conv2d", params={"W": W[:, :, ::-1, ::-1], "b": b})["y"]
    variants = {"conv_flipped_kernel": (flipped, "you flip the kernel (true convolution); the specification "
                                                 "is cross-correlation.")}
    if W.shape[2] == W.shape[3]:  # a square kernel read as W[..., col, row] still has the right shape
        swapped = reference_pass(c, kind="conv2d", params={"W": W.swapaxes(2, 3), "b": b})["y"]
        variants["conv_kernel_transposed"] = (swapped, "you index the kernel as W[o, c, kw, kh]: the window's "
                                              "row i meets W[o, c, i, :], its column j meets W[o, c, :, j].")
    return _compare(f"{tag} forward", reference_pass(c, kind="conv2d")["y"], got, "y",
                    "conv2d_forward", "cross-correlate the padded NCHW input with W (out, in, kh, kw), plus b.",
                    variants)


def conv_gradients(case: dict, out: dict) -> Outcome:
    c, h, got, tag = _conv(case, out)
    ref = reference_pass(c, kind="conv2d")
    dx, dW, db = ref["dx"], ref["grads"]["W"], ref["grads"]["b"]
    grads = got.get("grads") if isinstance(got.get("grads"), dict) else {}
    result = _compare(f"{tag} dx", dx, got, "dx", "conv2d_backward",
                      "dx is the full correlation of dy with the kernel, cropped by the padding.")
    if not result.passed:
        return result
    batch = np.shape(c["x"])[0]
    averaged = [_compare(what, want / batch, grads, key, "conv2d_backward", "")
                for what, want, key in ((f"{tag} dW", dW, "W"), (f"{tag} db", db, "b"))]
    if batch > 1 and all(r.passed for r in averaged):  # the batch mean inside the layer, as linear allows (SPEC 0.2)
        return passed(f"{tag}: dx, dW and db match, dW and db averaged over the batch (allowed).",
                      convention="gradients averaged over the batch")
    for what, want, key, hint in ((f"{tag} dW", dW, "W", "dW sums input windows times dy over the batch and "
                                   "positions (or averages them over the batch, dW and db alike)."),
                                  (f"{tag} db", db, "b", "db sums dy over batch, height and width (or averages "
                                   "it over the batch, dW and db alike).")):
        result = _compare(what, want, grads, key, "conv2d_backward", hint)
        if not result.passed:
            return result
    return passed(f"{tag}: dx, dW and db match.")


CONV2D_JUDGES = (conv_values, conv_gradients)
