"""Judge for init: the variance of large initialised matrices, and which initialiser it is.

Statistical tolerance, from the sampling distribution: for n i.i.d. draws with variance s2, the
sample variance has standard deviation s2 * sqrt((kurtosis - 1) / n) (kurtosis 3 for a normal,
1.8 for a uniform). A 512 x 384 matrix (n = 196,608) gives 0.32% for a normal; the kit accepts
6 standard deviations (about 2%), so a correct initialiser fails with probability < 1e-8, while
He (2/fan_in), Xavier (2/(fan_in + fan_out)), LeCun (1/fan_in) and He-on-fan_out differ by 25%+.
Normal vs uniform is read from the sample excess kurtosis (0 vs -1.2; its sd is sqrt(24/n) ~ 0.011).
"""
from __future__ import annotations

import numpy as np

from conformance.cases import snippet
from conformance.outcome import Outcome, failed, passed

SIGMAS = 6.0

VARIANCES = {  # name -> variance for (fan_in, fan_out)
    "he": lambda i, o: 2.0 / i,
    "xavier": lambda i, o: 2.0 / (i + o),
    "lecun": lambda i, o: 1.0 / i,
    "he_on_fan_out": lambda i, o: 2.0 / o,
    "xavier_uniform_bound_as_std": lambda i, o: 6.0 / (i + o),
    "unit_normal_times_0.01": lambda i, o: 1e-4,
}


def describe(W: np.ndarray, fan_in: int, fan_out: int) -> dict:
    """Sample statistics and the best-matching named initialiser (JSON-able)."""
    w = np.asarray(W, float).ravel()
    var = float(w.var())
    kurt = float(np.mean((w - w.mean()) ** 4) / var ** 2 - 3.0) if var > 0 else 0.0
    dist = "normal" if abs(kurt) < 0.3 else "uniform" if abs(kurt + 1.2) < 0.3 else f"unknown (excess kurtosis {kurt:.2f})"
    rel = {name: abs(var / f(fan_in, fan_out) - 1.0) for name, f in VARIANCES.items()}
    best = min(rel, key=rel.get)
    sd = np.sqrt(max(kurt + 2.0, 0.1) / w.size)  # sd of var / true var, (kurtosis - 1) = excess + 2
    return {"variance": var, "mean": float(w.mean()), "excess_kurtosis": kurt, "distribution": dist,
            "closest": best if rel[best] <= SIGMAS * sd else "none", "relative_sd": float(sd)}


def judge_one(kind: str, W, fan_in: int, fan_out: int, claim: str = "") -> Outcome:
    if isinstance(W, str):
        return Outcome("missing", W)
    by = f" ({claim})" if claim else ""
    try:
        W = np.asarray(W, float)
    except (TypeError, ValueError):
        return failed(f"{kind}{by}: the initialiser returned something that is not an array.", "malformed_answer")
    if W.shape not in ((fan_out, fan_in), (fan_in, fan_out)) or not np.all(np.isfinite(W)):
        return failed(f"{kind}{by}: expected a finite ({fan_out}, {fan_in}) matrix, got shape {W.shape}.",
                      "malformed_answer")
    stats = describe(W, fan_in, fan_out)
    target = VARIANCES[kind](fan_in, fan_out)
    tol = SIGMAS * stats["relative_sd"]
    evidence = {**stats, "expected_variance": target, "claim": claim,
                "tolerance": f"{SIGMAS:g} sd = {tol:.2%} of the variance"}
    mean_ok = abs(stats["mean"]) <= SIGMAS * np.sqrt(target / W.size)
    if abs(stats["variance"] / target - 1.0) <= tol and mean_ok:
        return passed(f"{kind}{by}: variance {stats['variance']:.3e} matches {target:.3e} within {tol:.1%} "
                      f"({stats['distribution']} distribution).", **evidence,
                      convention=f"{kind} {stats['distribution']}" + (f" by {claim}" if claim else ""))
    found = stats["closest"]
    what = f"it matches {found}" if found != "none" else "it matches no common initialiser"
    if not mean_ok:
        what += f", and its mean {stats['mean']:.2e} is not 0"
    return failed(f"{kind}{by}: your initialiser's variance is {stats['variance']:.3e}, expected {target:.3e} "
                  f"({kind}: {'2/fan_in' if kind == 'he' else '2/(fan_in + fan_out)'}); {what}.",
                  "wrong_init_variance", **evidence)


def judge_drawn(kind: str, outputs: dict, fan_in: int, fan_out: int) -> Outcome:
    """One initialiser, as the probe drew it. One the assignment does not ask for is judged only
    when present: absent, it is not a failure (a pass saying so) as long as some constructor or
    function initialises randomly; with none at all, it is `missing`."""
    W = outputs.get(kind, f"no {kind} initialiser was returned")
    asked = outputs.get("asked", ["he", "xavier"])
    if isinstance(W, str) and kind not in asked and any(not isinstance(outputs.get(k), str) for k in VARIANCES
                                                         if k in outputs):
        return passed(f"{kind}: not asked for by the assignment (it asks for {' and '.join(asked) or 'none'}) and "
                      f"not present ({W}); absent is not a failure.", convention=f"{kind} not asked for")
    claims = outputs.get("claims") if isinstance(outputs.get("claims"), dict) else {}
    return judge_one(kind, W, fan_in, fan_out, str(claims.get(kind, "")))


def kind_judge(kind: str):
    """A judge (case, outputs) -> Outcome for one initialiser ("he" or "xavier")."""
    def judge(case: dict, outputs: dict) -> Outcome:
        if not isinstance(outputs, dict):
            return failed("init: the probe returned nothing readable.", "malformed_answer")
        outcome = judge_drawn(kind, outputs, case["fan_in"], case["fan_out"])
        code = snippet(case["recipe"], "init.draw", then=f"W = out[{kind!r}]; print(W.var())")
        return Outcome(outcome.verdict, outcome.message, outcome.cause, {**outcome.evidence, "snippet": code})
    judge.__name__ = f"init_{kind}"
    return judge
