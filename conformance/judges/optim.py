"""Judges for sgd, momentum and adam: one step and a 50-step trajectory on the kit's quadratic.

loss(theta) = 0.5 * sum(a * (theta - c)^2) over a W (3, 4) and b (4,) pair, grad = a * (theta - c).
The right trajectories come from the reference optimizers (reference.SGD in both momentum forms,
reference.Adam); each named mistake is replayed here as a small variant of the update rule (the
kit's tests check that the variants with the mistake switched off equal the reference). The
student's trajectory is matched against all of them. Tolerance ``trajectory`` (rtol 1e-6 / atol 1e-9)
in float64: 50 steps of a few flops each cannot drift further, while every named variant differs from
the right rule by at least 1e-3 within the first few steps.
"""
from __future__ import annotations

import numpy as np

from conformance.judges.common import close, where_largest
from conformance.judges.models import bad_answer
from conformance.outcome import Outcome, failed, passed
from conformance.tolerances import TRAJECTORY


def replay(inputs: dict, update) -> dict:
    """Trajectory {name: (steps, *shape)} of ``update(theta, g, state, t) -> theta`` on the quadratic."""
    out = {}
    for k, theta in inputs["params"].items():
        theta, state, steps = np.array(theta, float), {}, []
        a, c = np.asarray(inputs["a"][k]), np.asarray(inputs["c"][k])
        for t in range(1, inputs["steps"] + 1):
            theta = update(theta, a * (theta - c), state, t)
            steps.append(theta.copy())
        out[k] = np.stack(steps)
    return out


def replay_reference(inputs: dict, make) -> dict:
    """The same trajectory with a reference optimizer ``make([(params, grads)])``."""
    P = {k: np.array(v, float) for k, v in inputs["params"].items()}
    G = {k: np.zeros_like(v) for k, v in P.items()}
    opt, steps = make([(P, G)]), {k: [] for k in P}
    for _ in range(inputs["steps"]):
        for k in P:
            G[k][...] = np.asarray(inputs["a"][k]) * (P[k] - np.asarray(inputs["c"][k]))
        opt.step()
        for k in P:
            steps[k].append(P[k].copy())
    return {k: np.stack(v) for k, v in steps.items()}


def heavy_ball(lr, beta, ema=False, sign=1.0):
    def update(theta, g, state, t):
        state["v"] = beta * state.get("v", 0.0) + ((1 - beta) * g if ema else g)
        return theta - sign * lr * state["v"]
    return update


def adam(lr, betas, eps, bias_correction=True, sign=1.0):
    b1, b2 = betas

    def update(theta, g, state, t):
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        m, v = state["m"], state["v"]
        if bias_correction:
            m, v = m / (1 - b1 ** t), v / (1 - b2 ** t)
        return theta - sign * lr * m / (np.sqrt(v) + eps)
    return update


def adam_epsilon_hat(lr, betas, eps):
    """Adam's efficient form (Kingma & Ba, section 2; TensorFlow's): the bias corrections folded into
    the step size, lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t), and epsilon added to the uncorrected
    sqrt(v). The same rule up to where epsilon sits."""
    b1, b2 = betas

    def update(theta, g, state, t):
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        return theta - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * state["m"] / (np.sqrt(state["v"]) + eps)
    return update


def candidates(inputs: dict) -> dict[str, tuple[str, dict]]:
    """name -> (verdict, trajectory). The right ones come first; the others are named mistakes."""
    import reference as ref

    h, kind = inputs["hyper"], inputs["kind"]

    def variant(rule):
        return replay(inputs, rule)

    if kind == "sgd":
        return {"sgd": ("pass", replay_reference(inputs, lambda g: ref.SGD(g, h["lr"]))),
                "sign_error_in_update": ("fail", variant(heavy_ball(h["lr"], 0.0, sign=-1.0))),
                "momentum_in_plain_sgd": ("fail", variant(heavy_ball(h["lr"], 0.9))),
                "ema_momentum_in_plain_sgd": ("fail", variant(heavy_ball(h["lr"], 0.9, ema=True)))}
    if kind == "momentum":
        lr, beta = h["lr"], h["momentum"]
        return {"classical": ("pass", replay_reference(inputs, lambda g: ref.SGD(g, lr, beta, form="classical"))),
                "ema_vs_classical_momentum": ("pass", replay_reference(inputs, lambda g: ref.SGD(g, lr, beta, form="ema"))),
                "sign_error_in_update": ("fail", variant(heavy_ball(lr, beta, sign=-1.0))),
                "momentum_not_applied": ("fail", variant(heavy_ball(lr, 0.0))),
                # EMA form with a velocity that restarts at 0 every step: plain SGD at lr * (1 - beta)
                "momentum_not_applied_ema": ("fail", variant(heavy_ball(lr * (1 - beta), 0.0)))}
    return {"adam": ("pass", replay_reference(inputs, lambda g: ref.Adam(g, h["lr"], tuple(h["betas"]), h["eps"]))),
            "adam_epsilon_hat": ("pass", variant(adam_epsilon_hat(h["lr"], h["betas"], h["eps"]))),
            "adam_missing_bias_correction": ("fail", variant(adam(h["lr"], h["betas"], h["eps"], bias_correction=False))),
            "sign_error_in_update": ("fail", variant(adam(h["lr"], h["betas"], h["eps"], sign=-1.0)))}


MESSAGES = {
    "sgd": "one step and {n} steps of plain SGD match theta <- theta - lr * grad.",
    "classical": "classical momentum found (v <- beta v + grad; theta <- theta - lr v, the form PyTorch uses; "
                 "v <- beta v - lr grad; theta <- theta + v is the same rule).",
    "ema_vs_classical_momentum": "EMA momentum found (v <- beta v + (1 - beta) grad; theta <- theta - lr v): "
                                 "accepted; note its steps are (1 - beta) times those of classical momentum "
                                 "(PyTorch's) at the same lr, so use lr / (1 - beta) to compare with PyTorch.",
    "adam": "one step and {n} steps match Adam with bias correction.",
    "adam_epsilon_hat": "one step and {n} steps match Adam in its efficient form (lr_t = lr sqrt(1 - beta2^t) / "
                        "(1 - beta1^t), theta <- theta - lr_t m / (sqrt(v) + eps): epsilon added to the uncorrected "
                        "sqrt(v), as Kingma & Ba's section 2 and TensorFlow write it): accepted.",
    "sign_error_in_update": "your optimizer moves parameters along +grad, i.e. uphill: the update must subtract "
                            "(theta <- theta - lr * step).",
    "momentum_in_plain_sgd": "your plain SGD applies momentum 0.9 (probably a default argument): with momentum "
                             "0 it must be theta <- theta - lr * grad.",
    "ema_momentum_in_plain_sgd": "your plain SGD applies EMA momentum 0.9 (probably a default argument): with "
                                 "momentum 0 it must be theta <- theta - lr * grad.",
    "momentum_not_applied": "your momentum optimizer takes plain SGD steps: the velocity is not carried over "
                            "between steps (keep it in the optimizer, keyed per parameter).",
    "momentum_not_applied_ema": "your momentum optimizer takes plain SGD steps of lr * (1 - beta) * grad: the "
                                "EMA velocity restarts from 0 every step (keep it in the optimizer, keyed per "
                                "parameter, and create it once).",
    "adam_missing_bias_correction": "your Adam has no bias correction: divide m by (1 - beta1^t) and v by "
                                    "(1 - beta2^t) (t counts steps from 1), or its first steps are ~3x too long.",
}


CAUSE_OF = {"momentum_not_applied_ema": "momentum_not_applied",  # candidate name -> catalogue id
            "ema_momentum_in_plain_sgd": "momentum_in_plain_sgd"}


def _stale(inputs: dict, got: dict) -> bool:
    """Does each step from the second on use the previous step's gradient? (Its first step used
    whatever gradient was left over, so the trajectory is rebuilt from the student's own step 1.)"""
    lr = inputs["hyper"]["lr"]
    for k, theta0 in inputs["params"].items():
        a, c = np.asarray(inputs["a"][k]), np.asarray(inputs["c"][k])
        before, now, steps = np.array(theta0, float), got[k][0], []
        for _ in range(1, inputs["steps"]):
            before, now = now, now - lr * a * (before - c)
            steps.append(now)
        if not close(got[k][1:], np.stack(steps), TRAJECTORY):
            return False
    return True


def _close(a: dict, b: dict) -> bool:
    return all(close(a[k], b[k], TRAJECTORY) for k in b)


def judge_optim(inputs: dict, outputs: dict) -> Outcome:
    kind, n = inputs["kind"], inputs["steps"]
    traj = outputs.get("trajectory") if isinstance(outputs, dict) else None
    if not isinstance(traj, dict):
        return failed(f"{kind}: the probe returned no trajectory.", "malformed_answer")
    for k, v in inputs["params"].items():
        problem = bad_answer(traj, k, (n, *np.shape(v)))
        if problem:
            return failed(f"{kind}: the parameters after each step could not be read: {problem}.",
                          "malformed_answer")
    got = {k: np.asarray(traj[k], float) for k in inputs["params"]}
    mirrors = {}  # "W@2": "W", a copy of the kit's W the student's code stepped as its layer 2
    for m in traj:
        key, at, _ = str(m).partition("@")
        if at and key in inputs["params"] and bad_answer(traj, m, (n, *np.shape(inputs["params"][key]))) is None:
            mirrors[m] = key
    got.update({m: np.asarray(traj[m], float) for m in mirrors})  # each must follow its key's trajectory too
    expected = {name: (verdict, {**want, **{m: want[k] for m, k in mirrors.items()}})
                for name, (verdict, want) in candidates(inputs).items()}
    for name, (verdict, want) in expected.items():
        if _close(got, want):
            cause = None if name in ("sgd", "classical", "adam", "adam_epsilon_hat") else CAUSE_OF.get(name, name)
            return Outcome(verdict, MESSAGES[name].format(n=n), cause, {"matched": name})
    if kind == "sgd" and _stale(inputs, got):
        return failed(f"{kind}: from step 2 on, each step uses the gradient of the step before (theta_t+1 = theta_t - "
                      f"lr * grad(theta_t-1)): the update runs before the new gradient is computed.",
                      "stale_gradient", matched="stale_gradient")
    right = next(iter(expected.values()))[1]
    first = min(int(np.argmax(np.any(~np.isclose(got[k], right[k], TRAJECTORY.rtol, TRAJECTORY.atol).reshape(n, -1),
                                     axis=1)))
                for k in got if not close(got[k], right[k], TRAJECTORY))
    worst = max(got, key=lambda k: float(np.max(np.abs(got[k][first] - right[k][first]))))
    where = (f"largest in {worst}: the kit's {mirrors[worst]} handed to your code as its layer "
             f"{worst.split('@')[1]} too" if worst in mirrors else f"largest in {worst}")
    return failed(f"{kind}: your parameters first differ from the expected update at step {first + 1} "
                  f"({where}), and the trajectory matches none of the known variants "
                  f"({', '.join(list(expected)[1:])}).",
                  "momentum_form_mismatch" if kind == "momentum" else "update_mismatch",
                  step=first + 1, param=worst, **where_largest(got[worst][first], right[worst][first]),
                  hyper={k: list(v) if isinstance(v, tuple) else v for k, v in inputs["hyper"].items()})
