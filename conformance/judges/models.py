"""Judge for model_gradcheck: the student's parameter gradients against central differences of
the loss the student's own code reports, end to end.

Fast mode first (like torch.autograd.gradcheck's fast_mode): compare <grad, v> with
(L(theta + eps v) - L(theta - eps v)) / (2 eps) along a few random unit directions v. Only on a
failure does the kit ask for element-wise differences, for the report (``ELEMENTWISE``). The
cases are ``conformance/cases/models.py``.

Tolerance: float64, eps = 1e-6. Truncation error is O(eps^2) ~ 1e-12 and rounding ~ 1e-16 / eps
~ 1e-10 relative, so a relative error above 1e-5 is a real gradient error (the bugs this check
exists for are off by factors like 1/B or B, i.e. relative errors of 0.5 and more).
"""
from __future__ import annotations

import numpy as np

from conformance.cases.models import DETAIL_MAX, detail_inputs
from conformance.cases import snippet
from conformance.judges.common import close, fit_scale, read_array, relative_error, where_largest
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import EPS, FACTOR, GRADIENT, PREDICTION

RTOL = GRADIENT.rtol


def bad_answer(outputs, key: str, shape=None) -> str | None:
    """A sentence when ``outputs[key]`` is missing, non-numeric, mis-shaped or non-finite; else None."""
    got = read_array(outputs, key, repr(key), shape)
    return got.message.rstrip(".") if isinstance(got, Outcome) else None


# --- expectations from the reference ----------------------------------------------------------------------


def reference_mlp(params: dict, sizes) -> "reference.Sequential":
    """The reference Sequential(Linear, ReLU, ..., Linear) holding ``params`` (keys "<2k>.W"/"<2k>.b")."""
    import reference as ref

    layers = []
    for k in range(len(sizes) - 1):
        lin = ref.Linear(sizes[k], sizes[k + 1], rng=np.random.default_rng(0))
        lin.params.update(W=np.array(params[f"{2 * k}.W"], float), b=np.array(params[f"{2 * k}.b"], float))
        layers += [lin, ref.ReLU()]
    return ref.Sequential(*layers[:-1])


def _grads_after(model, x, dlogits) -> dict:
    model.forward(x)
    model.backward(dlogits)
    return {f"{i}.{k}": np.array(v) for i, layer in enumerate(model.layers) for k, v in layer.grads.items()}


def known_bug_gradients(inputs: dict) -> dict[str, dict]:
    """What each known convention clash would hand the optimizer, for the kit's network and batch,
    computed with the reference (SoftmaxCrossEntropy = mean over the batch)."""
    import reference as ref

    if inputs["sizes"][-1] == 1:  # one sigmoid output scored by the student's own cost: no softmax clash to name
        return {}
    x, labels, B = np.asarray(inputs["x"], float), np.asarray(inputs["labels"]), len(inputs["x"])
    model, loss = reference_mlp(inputs["params"], inputs["sizes"]), ref.SoftmaxCrossEntropy()
    logits = model.forward(x)
    loss.forward(logits, labels)
    g = loss.backward()                                   # d(mean CE)/d(logits), (B, C)
    softmax = ref.Softmax()
    softmax.forward(logits)
    twice = softmax.backward(g)                           # the Jacobian applied to d/dlogits again
    true, bug = _grads_after(model, x, g), _grads_after(model, x, twice)
    return {
        "correct": true,
        "double_batch_average": {k: v / B for k, v in true.items()},
        "missing_batch_average": {k: v * B for k, v in true.items()},
        "softmax_jacobian_on_logits_grad": bug,
        "softmax_jacobian_on_logits_grad+double_batch_average": {k: v / B for k, v in bug.items()},
    }


BUG_SENTENCES = {
    "double_batch_average": "your dW is 1/B of the true gradient (B = {B}): you average over the batch in "
                            "Linear.backward and again in the loss; average in one place only (the loss).",
    "missing_batch_average": "your gradients are B times the true gradient (B = {B}): your loss reports the "
                             "batch mean but its backward returns the gradient of the batch sum; divide by B there.",
    "softmax_jacobian_on_logits_grad": "your loss's backward already returns d/dlogits (p - y), and Softmax.backward "
                              "multiplies it by the softmax Jacobian again; pass the loss gradient straight "
                              "to the last Linear layer, or make the loss return d/dprobabilities.",
    "softmax_jacobian_on_logits_grad+double_batch_average":
        "two clashes at once: Softmax.backward applies its Jacobian to the loss's d/dlogits again, and the "
        "batch average is taken in Linear.backward as well as in the loss (B = {B}).",
    "sign_error_in_gradient": "your gradients have the opposite sign of dL/dθ for L = (f - y)^2 / 2: "
                              "dL/df is f - y, not y - f.",
}


# --- judges ---------------------------------------------------------------------------------------------


def directional_errors(grads: dict, directions: list[dict], values: list[float], eps: float = EPS):
    """(analytic <g, v>, numerical slope) per direction, from values at theta +- eps v."""
    pairs = []
    for i, d in enumerate(directions):
        analytic = sum(float(np.sum(np.asarray(grads[k], float) * d[k])) for k in d)
        pairs.append((analytic, (values[2 * i] - values[2 * i + 1]) / (2 * eps)))
    return pairs


def check_grads_shape(outputs: dict, params: dict) -> str | None:
    grads = outputs.get("grads") if isinstance(outputs, dict) else None
    if not isinstance(grads, dict):
        return "the probe returned no gradient dict"
    for k, v in params.items():
        problem = bad_answer(grads, k, np.shape(v))
        if problem:
            return f"gradient {problem}"
    return None


def judge_gradcheck(inputs: dict, outputs: dict, *, values_key="point_losses", to_loss=None,
                    bugs=None, snippet_text="") -> Outcome:
    """Fast-mode check of the returned gradients against central differences of the returned values.
    ``to_loss`` maps a returned value (e.g. the single-sample output f) to the loss."""
    params = inputs["params"]
    problem = check_grads_shape(outputs, params) or bad_answer(outputs, values_key, (len(inputs["points"]),))
    if problem:
        batch = len(inputs["x"]) if "x" in inputs else None
        unsummed = [k for k, v in params.items() if k.split(".")[-1] in ("b", "bias") and
                    np.ndim(outputs["grads"].get(k) if isinstance(outputs.get("grads"), dict) else None) == 2 and
                    np.shape(outputs["grads"][k]) == (batch, *np.shape(v))] if batch and isinstance(outputs, dict) else []
        if unsummed:  # one row per sample: the bias gradient (or update) is dy itself, not its sum
            return failed(f"model_gradcheck: the gradient of {unsummed[0]} has one row per sample "
                          f"{np.shape(outputs['grads'][unsummed[0]])}, not the sum over the batch {np.shape(params[unsummed[0]])}.",
                          "bias_gradient_not_summed", snippet=snippet_text)
        return failed(f"model_gradcheck could not read the answer: {problem}.", "malformed_answer",
                      snippet=snippet_text)
    values = [to_loss(v) if to_loss else float(v) for v in outputs[values_key]]
    pairs = directional_errors(outputs["grads"], inputs["directions"], values)
    errors = [abs(a - n) / max(abs(a), abs(n), 1e-12) for a, n in pairs]
    evidence = {"directional": [{"analytic": a, "numerical": n} for a, n in pairs], "rtol": RTOL, "eps": EPS,
                "snippet": snippet_text}
    if max(errors) <= RTOL:
        return passed(f"parameter gradients match central differences of your own loss along "
                      f"{len(pairs)} random directions (max relative error {max(errors):.1e}).", **evidence)
    B = len(np.atleast_2d(inputs["x"]))
    for name, candidate in (bugs or {}).items():
        if name != "correct" and all(close(outputs["grads"][k], candidate[k], PREDICTION)
                                     for k in params):
            return failed(BUG_SENTENCES[name].format(B=B), name.split("+")[0], **evidence)
    scaled = per_parameter_scales(outputs["grads"], (bugs or {}).get("correct"), B)
    if scaled:
        off = ", ".join(f"{k} x {v}" for k, v in scaled.items())
        biases_only = all(k.endswith("b") for k in scaled) and all(v == "1/B" for v in scaled.values())
        if biases_only:
            return failed(f"your bias gradients are 1/B of the true ones (B = {B}) while the weight gradients are "
                          f"right: db must sum dY over the batch, as dW does ({off}).", "bias_gradient_averaged",
                          scales=scaled, **evidence)
        return failed(f"some parameter gradients are off by a constant factor ({off}; B = {B}): look for an "
                      f"extra or missing batch average in those layers' backward.", "wrong_gradient_scale",
                      scales=scaled, **evidence)
    return failed(f"your parameter gradients disagree with central differences of the loss your own code "
                  f"reports (max relative error {max(errors):.2e} > {RTOL:g}).", "model_gradient_mismatch", **evidence)


def per_parameter_scales(grads: dict, true: dict | None, B: int) -> dict[str, str]:
    """{key: "1/B" | "B" | "c"} for parameters whose gradient is a constant multiple (not 1) of the
    true one, when every parameter is such a multiple; {} otherwise."""
    if not true:
        return {}
    out = {}
    for k, want in true.items():
        c = fit_scale(np.asarray(grads[k], float), want)
        if c is None:
            return {}
        if not close(c, 1.0, FACTOR):
            out[k] = "1/B" if close(c * B, 1.0, FACTOR) else "B" if close(c, B, FACTOR) else f"{c:.4g}"
    return out


def detail_for(inputs: dict, outcome: Outcome) -> dict | None:
    """The element-wise case worth asking for after ``outcome``: a fail that is not a malformed
    answer, on a network of at most DETAIL_MAX parameters (a network whose code fixes 784-64-10
    would need 100,000 points: its directional verdict stands alone); else None."""
    small = sum(int(np.size(v)) for v in inputs["params"].values()) <= DETAIL_MAX
    wanted = outcome.verdict == "fail" and outcome.cause not in ("malformed_answer", "bias_gradient_not_summed")
    return detail_inputs(inputs) if wanted and small else None  # (a gradient of the wrong shape has no element-wise error)


def add_detail(outcome: Outcome, detail_in: dict, detail_out: dict) -> Outcome:
    """The failing outcome plus, per parameter, the element with the largest gradient error (the
    single-sample case's values are outputs f, turned into L = (f - y)^2 / 2)."""
    values_key, to_loss = ("point_outputs", single_sample_loss(detail_in)) if "y" in detail_in else ("point_losses", None)
    try:
        values = [to_loss(v) if to_loss else float(v) for v in detail_out[values_key]]
        numerical = [n for _, n in directional_errors(detail_out["grads"], detail_in["directions"], values)]
    except Exception as exc:  # the detail is a courtesy: never let it hide the verdict
        return Outcome(outcome.verdict, outcome.message, outcome.cause,
                       {**outcome.evidence, "detail_error": f"{type(exc).__name__}: {exc}"})
    per_param, i = {}, 0
    for key, value in detail_in["params"].items():
        size = np.size(value)
        num = np.reshape(numerical[i:i + size], np.shape(value))
        got = np.asarray(detail_out["grads"][key], float)
        per_param[key] = {"relative_error": relative_error(got, num), **where_largest(got, num)}
        i += size
    worst = max(per_param, key=lambda k: per_param[k]["relative_error"])
    return Outcome(outcome.verdict, outcome.message + f" The largest error is in {worst} at "
                   f"{per_param[worst]['index']}.", outcome.cause, {**outcome.evidence, "elementwise": per_param})


ELEMENTWISE = (detail_for, add_detail)  # Check.run's detail: element-wise errors after a fail


def judge_pipeline(inputs: dict, outputs: dict) -> Outcome:
    outcome = judge_gradcheck(inputs, outputs, bugs=known_bug_gradients(inputs),
                              snippet_text=snippet(inputs["recipe"], "model_gradcheck.pipeline", judge_pipeline))
    return with_network_note(outcome, outputs)


def with_network_note(outcome: Outcome, outputs) -> Outcome:
    """The outcome, naming how discovery built the network and what updated it (the report's
    "conventions" and the grader's feedback show it): "your layers and loss, chained by the kit:
    no container was found", "your optimiser SGD"..."""
    conventions = (outputs.get("conventions") if isinstance(outputs, dict) else None) or {}
    if not conventions.get("built") or "convention" in outcome.evidence:
        return outcome
    note = f"network: {conventions['built']}"
    for key in ("hidden", "loss_for_classification", "loss_value", "update"):
        if conventions.get(key):
            note += f"; {key.replace('_', ' ')}: {conventions[key]}"
    return Outcome(outcome.verdict, outcome.message, outcome.cause, {**outcome.evidence, "convention": note})


# --- single-sample style (assignment 004): L = (f - y)^2 / 2 -------------------------------------------


def reference_single(params: dict, x: np.ndarray, y: float, activation: str = "relu") -> tuple[np.ndarray, dict]:
    """a1 and the gradients {W1, b1, W2, b2} of the reference OneHiddenLayerMLP at ``params``."""
    import reference as ref

    model = ref.OneHiddenLayerMLP(len(x), len(params["b1"]), activation, rng=np.random.default_rng(0))
    model.set_parameters(params)
    f = model.forward(np.asarray(x, float))
    grads = model.backward(np.asarray(x, float), y, f)
    return model.a1_cache, {k[4:]: v for k, v in grads.items()}


def single_sample_loss(inputs: dict):
    return lambda f: 0.5 * (float(f) - float(inputs["y"])) ** 2


def single_sample_bugs(inputs: dict) -> dict:
    """The sign error (gradient of -L, from using y - f) is the one bug worth naming here (with
    activations the reference has; others, e.g. tanh, are judged without naming)."""
    if inputs.get("activation", "relu") not in ("relu", "sigmoid"):
        return {}
    _, true = reference_single(inputs["params"], np.asarray(inputs["x"], float), float(inputs["y"]),
                               inputs.get("activation", "relu"))
    return {"correct": true, "sign_error_in_gradient": {k: -v for k, v in true.items()}}


def judge_single_sample(inputs: dict, outputs: dict) -> Outcome:
    for key in ("W2", "b2"):  # (1, h) or (h,), (1,) or () are all fine for the single output
        if isinstance(outputs, dict) and isinstance(outputs.get("grads"), dict) and key in outputs["grads"]:
            g = np.asarray(outputs["grads"][key], float)
            if g.size == np.size(inputs["params"][key]):
                outputs["grads"][key] = g.reshape(np.shape(inputs["params"][key]))
    return judge_gradcheck(inputs, outputs, values_key="point_outputs", to_loss=single_sample_loss(inputs),
                           bugs=single_sample_bugs(inputs),
                           snippet_text=snippet(inputs["recipe"], "model_gradcheck.single_sample",
                                                judge_single_sample))
