"""Judges for linear, relu, sigmoid, tanh and softmax (SPEC.md sections 1-5).

Each judge is ``fn(case, out) -> Outcome`` over a case from ``conformance.cases`` and the
outputs of the ``layer.check`` / ``layer.stability`` probes. Expectations come from the
reference; gradients are judged against central differences of the student's own forward;
a failure names the known bug (predicted with the reference) that the answer matches.
"""
from __future__ import annotations

import inspect

import numpy as np

from conformance.judges.common import (close, excerpt, fit_scale, match_bug, numerical_vjp, read_array, where_largest,
                                       which_scale)
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import FLOAT32, FORWARD, GRADIENT, NAMING, ROWS

NAMES = {"linear": "Linear", "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
         "batchnorm": "BatchNorm1d", "conv2d": "Conv2D", "layernorm": "LayerNorm"}  # also the reference's class names


def reference_layer(kind: str, hyper: dict | None = None, params: dict | None = None):
    """The reference layer of ``kind`` (unit or stretch) built with the constructor arguments in
    ``hyper`` (a case's seed and the like are left out) and holding ``params``."""
    import reference

    cls = getattr(reference, NAMES[kind])
    accepted = inspect.signature(cls).parameters
    layer = cls(**{k: v for k, v in (hyper or {}).items() if k in accepted and k != "rng"},
                **({"rng": np.random.default_rng(0)} if "rng" in accepted else {}))
    for name, value in (params or {}).items():
        layer.params[name] = np.array(value, dtype=float)
    return layer


def reference_pass(case: dict, **replaced) -> dict:
    """y, dx and the parameter gradients of the reference layer (train mode) on ``case`` (kind,
    hyper, params, x, dy), with any of those ``replaced``."""
    c = {**case, **replaced}
    layer = reference_layer(c["kind"], c.get("hyper"), c.get("params"))
    y = layer.forward(np.array(c["x"], dtype=float))
    dx = layer.backward(np.array(c["dy"], dtype=float))
    return {"y": y, "dx": dx, "grads": {k: np.array(v) for k, v in getattr(layer, "grads", {}).items()}}


def _who(case: dict, out: dict) -> str:
    return (out or {}).get("student_name") or NAMES.get(case["kind"], case["kind"])


# --- 1. shapes and dtypes --------------------------------------------------------------------


def shapes(case: dict, out: dict) -> Outcome:
    """y has the reference's shape, dx the shape of x, each parameter gradient its parameter's."""
    who, ref = _who(case, out), reference_pass(case)
    x = np.asarray(case["x"])
    for key, what, shape in (("y", f"{who}.forward output", ref["y"].shape),
                             ("dx", f"{who}.backward output (dx)", x.shape)):
        if key == "dx" and "backward_missing" in out:
            return Outcome("missing", out["backward_missing"], "no_backward")
        got = read_array(out, key, what, shape)
        if isinstance(got, Outcome):
            return got
        if np.asarray(out[key]).dtype.kind != "f":
            return failed(f"{what} has dtype {np.asarray(out[key]).dtype}, expected float64.", "wrong_dtype")
    if case["kind"] == "linear":
        outcome = _grads_present(case, out)
        if outcome is not None:
            return outcome
        W, b = case["params"]["W"], case["params"]["b"]
        if np.shape(out["grads"]["W"]) != W.shape:
            cause = "transposed_gradient" if np.shape(out["grads"]["W"]) == W.T.shape else "wrong_shape"
            return failed(f"{who}'s weight gradient has shape {np.shape(out['grads']['W'])}, expected "
                          f"{W.shape} (the shape of W, canonical layout).", cause)
        if np.shape(out["grads"]["b"]) != b.shape:
            cause = "bias_gradient_not_summed" if np.shape(out["grads"]["b"])[:1] == x.shape[:1] else "wrong_shape"
            return failed(f"{who}'s bias gradient has shape {np.shape(out['grads']['b'])}, expected {b.shape}.", cause)
    return passed(f"{who}: output and gradient shapes and dtypes are right.")


def _grads_present(case: dict, out: dict) -> Outcome | None:
    if "backward_missing" in out:
        return Outcome("missing", out["backward_missing"], "no_backward")
    if "grads_missing" in out:
        if out.get("gradient_missing_of") == "b":
            return failed(out["grads_missing"], "missing_bias_gradient")
        return Outcome("missing", out["grads_missing"])
    grads, names = out.get("grads"), list(case["params"])
    if not isinstance(grads, dict) or not set(names) <= set(grads):
        return failed(f"{_who(case, out)} returned no parameter gradients for {' and '.join(names)}.",
                      "wrong_parameter_gradient")
    return None


# --- 2. forward values ------------------------------------------------------------------------


def forward(case: dict, out: dict) -> Outcome:
    """Forward values against the reference on the kit's inputs."""
    who, ref = _who(case, out), reference_pass(case)
    got = read_array(out, "y", f"{who}.forward output", ref["y"].shape)
    if isinstance(got, Outcome):
        return got
    if close(got, ref["y"], FORWARD):
        return passed(f"{who}.forward matches the reference.")
    x = np.asarray(case["x"], dtype=float)
    bugs = {}
    if case["kind"] == "softmax":
        e = np.exp(x - x.max(axis=0, keepdims=True))
        bugs["wrong_forward"] = e / e.sum(axis=0, keepdims=True)
    if case["kind"] == "layernorm" and x.shape[0] > 1:  # batchnorm's axis
        p, eps = case["params"], case["hyper"]["eps"]
        bugs["layernorm_over_batch"] = (x - x.mean(0)) / np.sqrt(x.var(0) + eps) * p["gamma"] + p["beta"]
    cause = match_bug(got, bugs, FORWARD) or "wrong_forward"
    hint = " (it normalises over the batch axis: use axis=1)" if case["kind"] == "softmax" and bugs and \
        close(got, bugs["wrong_forward"], FORWARD) else ""
    return failed(f"{who}.forward differs from the reference{hint}.", cause,
                  where=where_largest(got, ref["y"]), **excerpt(ref["y"], got))


def golden_forward(case: dict, out: dict) -> Outcome:
    """Forward values against the golden fixture ``case["fixture"]`` (reference values checked
    against PyTorch when the fixtures were made)."""
    import fixtures

    who, expected = _who(case, out), fixtures.load(case["fixture"])["y"]
    got = read_array(out, "y", f"{who}.forward output", expected.shape, finite=False)
    if isinstance(got, Outcome):
        return got
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(expected)):
        return failed(f"{who}.forward returns NaN or inf on the golden fixture {case['fixture']} (inputs up to "
                      f"{np.abs(np.asarray(case['x'])).max():g}).", UNSTABLE.get(case["kind"]) or "wrong_forward",
                      where=where_largest(np.nan_to_num(got), expected))
    if close(got, expected, FORWARD):
        return passed(f"{who}.forward matches the golden fixture {case['fixture']}.")
    return failed(f"{who}.forward differs from the golden fixture {case['fixture']}.", "wrong_forward",
                  where=where_largest(got, expected), **excerpt(expected, got))


# --- 3. input gradient ------------------------------------------------------------------------


def _input_bugs(case: dict, ref: dict) -> list[tuple[str, np.ndarray]]:
    """What dx would be under each known bug (computed with the reference's values), in order."""
    x, dy, y = np.asarray(case["x"], dtype=float), np.asarray(case["dy"], dtype=float), ref["y"]
    kind, batch = case["kind"], x.shape[0]
    bugs: list[tuple[str, np.ndarray]] = []
    if kind == "linear" and batch > 1:
        bugs.append(("input_gradient_scaled", ref["dx"] / batch))
    if kind == "relu":
        bugs += [("wrong_relu_mask", dy),  # no mask at all
                 ("wrong_relu_mask", dy * y),  # multiplied by the output instead of the 0/1 mask
                 ("wrong_relu_mask", dy * (x < 0))]  # the mask inverted
    if kind == "sigmoid":
        bugs += [("derivative_from_input", dy * x * (1 - x)),
                 ("derivative_missing_factor", dy * y), ("derivative_missing_factor", dy * (1 - y))]
    if kind == "tanh":
        bugs += [("derivative_from_input", dy * (1 - x ** 2)),
                 ("derivative_missing_factor", dy * (1 - y)), ("derivative_missing_factor", dy * y ** 2)]
    if kind == "softmax":
        bugs += [("softmax_diagonal_jacobian", dy * y * (1 - y)), ("softmax_backward_passthrough", dy)]
    if kind == "layernorm":  # dx without the terms through the row's mean, its variance, or both
        x_hat = (ref["y"] - case["params"]["beta"]) / case["params"]["gamma"]
        inv_std = 1 / np.sqrt(x.var(axis=1, keepdims=True) + case["hyper"]["eps"])
        dx_hat = dy * case["params"]["gamma"]
        bugs += [("layernorm_backward", inv_std * d) for d in (
            dx_hat, dx_hat - dx_hat.mean(axis=1, keepdims=True),
            dx_hat - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True))]
    local = {"relu": (x > 0).astype(float), "sigmoid": y * (1 - y), "tanh": 1 - y ** 2}.get(kind)
    if local is not None:  # f'(x) alone: dY never multiplied in; f'(x) with a sign wrong
        bugs.append(("ignores_upstream_gradient", local))
        flipped = {"sigmoid": [y * (1 + y), -local], "tanh": [1 + y ** 2, -local], "relu": [-local]}[kind]
        bugs += [("derivative_sign_error", dy * f) for f in flipped]
    return bugs


def input_gradient(case: dict, out: dict) -> Outcome:
    """dx against the numerical VJP of the student's own forward (central differences)."""
    who = _who(case, out)
    if "backward_missing" in out:
        return Outcome("missing", out["backward_missing"], "no_backward")
    x, dy = np.asarray(case["x"], dtype=float), np.asarray(case["dy"], dtype=float)
    got = read_array(out, "dx", f"{who}.backward output (dx)", x.shape)
    if isinstance(got, Outcome):
        return got
    values = read_array(out, "y_at_x_points", f"{who}.forward at the perturbed inputs")
    if isinstance(values, Outcome):
        return values
    numerical = numerical_vjp(values, dy, x.shape)
    api = (out.get("conventions") or {}).get("activation_api", "backward")
    note = " (via derivative())" if api == "derivative" else ""
    if close(got, numerical, GRADIENT):
        return passed(f"{who}.backward{note} is the exact VJP of its forward.",
                      **({"convention": "activation derivative()"} if api == "derivative" else {}))
    cause = match_bug(got, _input_bugs(case, reference_pass(case))) or "wrong_input_gradient"
    return failed(f"{who}.backward{note} does not match the numerical derivative of your own forward "
                  f"(central differences, tolerance {GRADIENT.name}: rtol={GRADIENT.rtol:g}).", cause,
                  where=where_largest(got, numerical), **excerpt(numerical, got))


# --- 4. parameter gradients -------------------------------------------------------------------


SCALINGS = ("summed over the batch (canonical)", "averaged over the batch inside the layer (allowed)")


def parameter_gradient(case: dict, out: dict) -> Outcome:
    """Each parameter's gradient (linear: dW and db) against the numerical gradient of
    sum(dy * forward), at scale 1 (canonical) or 1/B (batch mean inside the layer, allowed); every
    parameter must use the same scale."""
    who = _who(case, out)
    missing = _grads_present(case, out)
    if missing is not None:
        return missing
    x, dy = np.asarray(case["x"], dtype=float), np.asarray(case["dy"], dtype=float)
    batch, named = x.shape[0], {}
    for name in case["params"]:
        param = np.asarray(case["params"][name], dtype=float)
        values = read_array(out, f"y_at_{name}_points", f"{who}.forward at the perturbed {name}")
        if isinstance(values, Outcome):
            return values
        numerical = numerical_vjp(values, dy, param.shape)
        got = np.asarray(out["grads"][name], dtype=float)
        bugs = {"transposed_gradient": numerical.T.reshape(param.shape) if name == "W" and param.ndim == 2
                and not close(numerical, numerical.T.reshape(param.shape), NAMING) else None,
                "zero_bias_gradient": np.zeros_like(param) if name == "b" else None}
        if got.shape != param.shape:
            cause = "transposed_gradient" if name == "W" and got.shape == param.T.shape else \
                "bias_gradient_not_summed" if name == "b" and got.shape[:1] == (batch,) else "wrong_shape"
            return failed(f"{who}'s gradient for {name} has shape {got.shape}, expected {param.shape}.", cause)
        if not np.all(np.isfinite(got)):
            return failed(f"{who}'s gradient for {name} contains NaN or inf.", "wrong_parameter_gradient")
        found = which_scale(got, numerical, {SCALINGS[0]: 1.0, SCALINGS[1]: 1.0 / batch})
        if found is None:
            c = fit_scale(got, numerical)
            if c is None or c == 0:
                bug = match_bug(got, bugs) or match_bug(got, {k: v / batch for k, v in bugs.items() if v is not None})
                what = {"transposed_gradient": "is the transpose of", "zero_bias_gradient": "is zero instead of"}
                return failed(f"{who}'s gradient for {name} {what.get(bug, 'does not match')} the numerical derivative "
                              f"of your own forward{'' if bug else ', at any scale'}.", bug or "wrong_parameter_gradient",
                              where=where_largest(got, numerical), **excerpt(numerical, got))
            return failed(f"{who}'s gradient for {name} is {c:.4g} times the true gradient; allowed are 1 "
                          f"(summed over the batch) and 1/B = {1 / batch:.4g} (averaged).", "wrong_gradient_scale")
        named[name] = found
    first, *others = named
    if case["kind"] != "linear":
        other = next((o for o in others if named[o] != named[first]), None)
        if other is not None:
            return failed(f"{who}'s d{first} is {named[first]} but d{other} is {named[other]}: use one convention "
                          f"for both.", "wrong_gradient_scale")
        scale_note = "gradients summed over the batch" if named[first] == SCALINGS[0] else \
            "gradients averaged over the batch"
        return passed(f"{who}'s parameter gradients are right: {named[first]}.",
                      **({"convention": scale_note} if batch > 1 else {}))
    if named["W"] == SCALINGS[0] and named["b"] == SCALINGS[1] and batch > 1:
        return failed(f"{who}'s dW is summed over the batch but db is averaged (1/B = {1 / batch:.4g} of the "
                      f"true gradient): db must be dY summed over axis 0.", "bias_gradient_averaged")
    if named["W"] != named["b"]:
        return failed(f"{who}'s dW is {named['W']} but db is {named['b']}: use one convention for both.",
                      "wrong_gradient_scale")
    layout = (out.get("conventions") or {}).get("weight_layout", "out_in")
    layout_note = "W stored (in, out)" if layout == "in_out" else "W stored (out, in)"
    scale_note = "gradients summed over the batch" if named["W"] == SCALINGS[0] else "gradients averaged over the batch"
    convention = layout_note if batch == 1 else f"{layout_note}; {scale_note}"  # B = 1 cannot tell
    return passed(f"{who}'s parameter gradients are right: {layout_note}, {named['W']}.", convention=convention)


# --- 5. stability ----------------------------------------------------------------------------


UNSTABLE = {"softmax": "unstable_softmax", "sigmoid": "unstable_sigmoid", "tanh": "unstable_tanh",
            "relu": None, "linear": None}


def stability(case: dict, out: dict) -> Outcome:
    """Finite, warning-free outputs for extreme or float32 inputs; no mutation of the caller's arrays."""
    who = _who(case, out)
    x = np.asarray(case["x"])
    if out.get("x_mutated") or out.get("dy_mutated"):
        key = "x" if out.get("x_mutated") else "dy"
        what = "the input x passed to forward" if key == "x" else "the gradient dy passed to backward"
        before = np.asarray(case[key], dtype=float)
        after = np.asarray(out.get(f"{key}_after", before), dtype=float)
        where = where_largest(after, before) if after.shape == before.shape else {}
        return failed(f"{who} modified {what} in place: the caller's array changed.", "in_place_mutation", where=where)
    y = read_array(out, "y", f"{who}.forward output", None, finite=False)
    if isinstance(y, Outcome):
        return y
    cause = UNSTABLE.get(case["kind"]) if x.dtype == np.float64 else "float32_promoted"
    dx = np.asarray(out["dx"], dtype=float) if "dx" in out else None
    for key, got in (("y", y), ("dx", dx)):
        if got is not None and not np.all(np.isfinite(got)):
            plot = {"kind": "non_finite", "x": x.astype(float), "bad": ~np.isfinite(got),
                    "output": "forward y" if key == "y" else "backward dx"} if got.shape == x.shape else None
            return failed(f"{who} returns NaN or inf for inputs of {_describe(case)}.", cause,
                          where=_first_non_finite(case, key, got), **({"plot": plot} if plot else {}))
    if out.get("warnings"):
        return failed(f"{who} raises warnings for inputs of {_describe(case)}: {out['warnings'][0]}.", cause,
                      warnings=out["warnings"][:3])
    ref = reference_pass(case)
    tol = FORWARD if x.dtype == np.float64 else FLOAT32
    if y.shape != ref["y"].shape or not close(y, ref["y"], tol):
        return failed(f"{who}.forward is finite but wrong for inputs of {_describe(case)}.", cause,
                      where=where_largest(y, ref["y"]) if y.shape == ref["y"].shape else {})
    return passed(f"{who} is finite, warning-free and leaves its inputs alone for {_describe(case)}.")


def _first_non_finite(case: dict, key: str, got: np.ndarray) -> dict:
    """Where the first NaN/inf of ``got`` (the student's y or dx) is, with the input there and the
    reference's finite value."""
    idx = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
    where = {"output": "forward y" if key == "y" else "backward dx", "index": list(idx), "got": float(got[idx])}
    ref = reference_pass(case)[key]
    if ref.shape == got.shape:
        where["expected"] = float(ref[idx])
    x = np.asarray(case["x"], dtype=float)
    if x.shape == got.shape:
        where["x"] = float(x[idx])
    return where


def _describe(case: dict) -> str:
    x = np.asarray(case["x"])
    return f"magnitude up to {np.abs(x).max():g} ({x.dtype})"


# --- ReLU'(0) --------------------------------------------------------------------------------


def relu_kink(case: dict, out: dict) -> Outcome:
    """Reports the student's ReLU'(0); both 0 and 1 pass (SPEC.md 2)."""
    who = _who(case, out)
    if "backward_missing" in out:
        return Outcome("missing", out["backward_missing"], "no_backward")
    got = read_array(out, "dx", f"{who}.backward at 0", np.shape(case["x"]))
    if isinstance(got, Outcome):
        return got
    if not (close(got[0, 1], 1.0, NAMING) and close(got[0, 2], 0.0, NAMING)):
        return failed(f"{who}.backward at x = 1 and -1 gives {got[0, 1]:g} and {got[0, 2]:g}, expected 1 and 0.",
                      "wrong_relu_mask")
    if close(got[0, 0], 0.0, NAMING) or close(got[0, 0], 1.0, NAMING):
        return passed(f"{who} uses ReLU'(0) = {got[0, 0]:g} (both 0 and 1 are accepted).",
                      convention=f"ReLU'(0) = {got[0, 0]:g}")
    return failed(f"{who}.backward at x = 0 gives {got[0, 0]:g}: ReLU'(0) must be 0 or 1.", "wrong_relu_mask")


def softmax_rows(case: dict, out: dict) -> Outcome:
    """Property: softmax rows are positive and sum to 1; shifting a row leaves it unchanged."""
    who = _who(case, out)
    y = read_array(out, "y", f"{who}.forward output", np.shape(case["x"]))
    if isinstance(y, Outcome):
        return y
    if np.any(y < 0) or not close(y.sum(axis=1), 1.0, ROWS):
        return failed(f"{who}.forward rows are not probabilities (non-negative, summing to 1 along axis 1).",
                      "wrong_forward", row_sums=np.round(y.sum(axis=1), 8).tolist())
    return passed(f"{who}.forward rows are probability vectors.")


UNIT_CHECKS = (shapes, forward, input_gradient)
