"""Which checks a component needs (SPEC.md 0.6): a check is required only when the style or the
student's own pipeline needs it.

A missing piece is normally `missing`, never a pass. One piece can be missing by design: a layer
whose gradient the assignment folds into the loss. Assignment 001's Softmax has a forward only,
because its cross-entropy's backward returns the gradient w.r.t. the logits; nothing in that
pipeline ever calls a softmax backward. Two things decide it, both read here, never a class name:

* the style: ``fold_into_loss`` in ``conformance/adapters/styles.toml`` names the layers whose
  backward its assignment may leave to the loss (none when the style does not say, or for an
  ``--adapter`` of the student's own: then every check stays required);
* the pipeline, by behaviour: the student's cross-entropy is called on the kit's case and its
  backward() is measured against the derivative of its own value (``judges.losses.gradient_wrt``).
  Only a gradient w.r.t. the logits makes the layer's backward unneeded; one w.r.t. the
  probabilities needs it, and its gradient checks stay `missing` (or fail).

A backward that hands dY on unchanged (``softmax_backward_passthrough``) is that same design written
out: the student's loss already returned d/dlogits, so passing it through is right in their pipeline.
With a fold measured as above it is not required either; with a loss that returns d/dprobs it fails.

A check that is not needed keeps its outcome (`missing`, cause ``no_backward``) with
``required=False`` and the reason as its convention; it counts for neither the component's
verdict (``conformance.report.summarise``) nor its score (``graders.rubric.score_component``).
"""
from __future__ import annotations

from dataclasses import replace

from conformance.cases.losses import loss_case
from conformance.outcome import Outcome

# The loss a folded layer hands its gradient to, and the case the pipeline is measured on (the
# cross_entropy module's first case: the probe's answer is cached and shared with it).
FOLDS_INTO = {"softmax": "cross_entropy"}
PIPELINE_CASE = loss_case("cross_entropy", seed=0, batch=4, classes=3)


def folds(check) -> tuple[str, ...]:
    """The layers this run's assignment may fold into the loss: its style's, or, when no
    assignment's API was recognised, those of every style (each allowed answer is accepted)."""
    if check.offers("any_assignment"):
        from conformance.adapters.style import styles

        return tuple(sorted({c for table in styles().values() for c in table.get("fold_into_loss", ())}))
    return tuple(check.style_fact("fold_into_loss", ()))


def folded_reason(check, component: str) -> str | None:
    """Why ``component``'s backward is not needed in this run (a short phrase), or None when it is."""
    loss = FOLDS_INTO.get(component)
    if loss is None or component not in folds(check):
        return None
    key = ("requirements", component)
    if key not in check.cache:
        from conformance.judges.losses import gradient_wrt

        out = check.answer("loss.check", PIPELINE_CASE)
        wrt = None if isinstance(out, Exception) else gradient_wrt(PIPELINE_CASE, out)
        check.cache[key] = f"gradient folded into {loss} (d/dlogits)" if wrt == "logits" else None
    return check.cache[key]


# A backward written for the fold: it hands the loss's d/dlogits on unchanged (the layer's docstring
# usually says so). Right in the student's pipeline, wrong as the layer's own VJP, so not required.
FOLDED_BY_DESIGN = {"softmax": "softmax_backward_passthrough"}


def weigh(check, component: str | None, outcome: Outcome) -> Outcome:
    """``outcome`` marked not required when it is a missing backward the run does not need, or a
    backward that passes dY through because the run's loss already returns d/dlogits."""
    if not component:
        return outcome
    missing = outcome.verdict == "missing" and outcome.cause == "no_backward"
    passes_through = outcome.verdict == "fail" and outcome.cause == FOLDED_BY_DESIGN.get(component)
    if not (missing or passes_through):
        return outcome
    reason = folded_reason(check, component)
    if reason is None:
        return outcome
    if passes_through:
        reason += ", so a backward that passes dY through is what your pipeline needs"
    return replace(outcome, message=f"not required: {reason}. {outcome.message}", required=False,
                   evidence={**outcome.evidence, "convention": reason})
