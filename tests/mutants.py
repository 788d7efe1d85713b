"""The mutation library: single-bug copies of the correct implementations in tests/impls.

Each ``Mutant`` is one bug students really make (assignments 000-004 and the classics), planted
by an exact text replacement applied once to a file of tests/impls (a cell of a notebook, a
module of the single_sample package). tests/test_mutants.py runs the conformance suite on every
mutant and asserts that the intended component fails, through the intended check, naming the
intended cause, and that nothing outside ``component`` + ``also`` fails.

>>> MUTANTS[0].id, MUTANTS[0].component, MUTANTS[0].cause
('canonical-linear-transposed-dW', 'linear', 'transposed_gradient')

Fields:
    base       file under tests/impls ("canonical.py", "dense_net.ipynb", "single_sample/models.py")
    old, new   the replacement; ``old`` must occur exactly once in ``base`` (a base edit that breaks
               a mutant is noticed, never silently ignored)
    component  the component id that must fail
    check      name prefix(es) of the checks allowed to fail within ``component`` (a check's name is
               its test id, e.g. "test_linear[b4_5to3-parameter_gradient]"); a prefix of a
               parametrised id may also name the parameter after the "[" (e.g. "test_linear[*-shapes");
               at least one of them must fail, every failing one must name ``cause``
    cause      the diagnosis catalogue id (conformance/diagnoses.py) the failing checks must name
    also       other components this bug may fail too (e.g. a Linear bug fails model_gradcheck)
    xfail_reason  set only when the kit cannot catch the bug yet (the test is then a strict xfail
               and the catch rate counts the mutant as missed)
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from conformance.components import COMPONENTS

REPO = Path(__file__).resolve().parents[1]
IMPLS = REPO / "tests" / "impls"
WORKERS = 2  # suites run at once (the CI machine has 2 cores)
TIMEOUT_S = 300
RESULTS: dict[str, bool] = {}  # mutant id -> caught with the intended diagnosis (filled by test_mutants.py)


@dataclass(frozen=True)
class Mutant:
    id: str
    base: str
    old: str
    new: str
    component: str
    check: str | tuple[str, ...]
    cause: str
    also: tuple[str, ...] = ()
    xfail_reason: str | None = None

    @property
    def checks(self) -> tuple[str, ...]:
        return (self.check,) if isinstance(self.check, str) else tuple(self.check)

    @property
    def style_root(self) -> str:
        """What --impl gets: the file, or the package directory for single_sample/..."""
        return self.base.split("/")[0]

    def components_run(self) -> tuple[str, ...]:
        return (self.component, *self.also)


def check_matches(name: str, pattern: str) -> bool:
    """``name`` (a report check name) matches ``pattern``: a prefix, or "test_x[*-param" for any
    parametrisation whose id ends with that parameter."""
    if "[*-" in pattern:
        head, param = pattern.split("[*-", 1)
        return name.startswith(head + "[") and name.rstrip("]").endswith("-" + param)
    return name.startswith(pattern)


# Check name patterns used by several mutants.
def unit(component: str, judge: str) -> tuple[str, ...]:
    """The fixed-case check of ``judge`` and the property test that re-runs it on random cases."""
    return (f"test_{component}[*-{judge}", f"test_{component}_property")


STABILITY_1E3 = "_stability[1e3]"
# softmax keeps its gradient property test apart from its forward's (a folded Softmax needs no backward)
SOFTMAX_GRADIENT = ("test_softmax[*-input_gradient", "test_softmax_gradient_property")

M = Mutant
MUTANTS: list[Mutant] = [
    # --- canonical style (the reference API) ------------------------------------------------------------
    M("canonical-linear-transposed-dW", "canonical.py",
      'self.grads["W"] = dy.T @ self.x  # (out, B) @ (B, in)', 'self.grads["W"] = self.x.T @ dy',
      "linear", ("test_linear[*-shapes", *unit("linear", "parameter_gradient")), "transposed_gradient",
      also=("model_gradcheck",)),
    M("canonical-linear-missing-db", "canonical.py",
      '        self.grads["b"] = dy.sum(axis=0)\n', "",
      "linear", ("test_linear[*-shapes", *unit("linear", "parameter_gradient")), "missing_bias_gradient",
      also=("model_gradcheck",)),
    M("canonical-linear-db-averaged", "canonical.py",
      'self.grads["b"] = dy.sum(axis=0)', 'self.grads["b"] = dy.mean(axis=0)',
      "linear", unit("linear", "parameter_gradient"), "bias_gradient_averaged", also=("model_gradcheck",)),
    M("canonical-linear-dx-averaged", "canonical.py",
      'return dy @ self.params["W"]', 'return dy @ self.params["W"] / len(dy)',
      "linear", unit("linear", "input_gradient"), "input_gradient_scaled",
      also=("model_gradcheck",)),
    M("canonical-relu-in-place", "canonical.py",
      "        return np.where(self.mask, x, 0.0)", "        x[~self.mask] = 0.0\n        return x",
      "relu", "test_relu_stability", "in_place_mutation",
      also=("appendix_a",)),  # the reference-style single-sample model's a1 cache is zeroed by it
    M("canonical-sigmoid-derivative-missing-term", "canonical.py",
      "return dy * self.y * (1 - self.y)", "return dy * self.y",
      "sigmoid", unit("sigmoid", "input_gradient"), "derivative_missing_factor"),
    M("canonical-tanh-derivative-not-squared", "canonical.py",
      "return dy * (1 - self.y ** 2)", "return dy * (1 - self.y)",
      "tanh", unit("tanh", "input_gradient"), "derivative_missing_factor"),
    M("canonical-sigmoid-backward-ignores-dy", "canonical.py",
      "return dy * self.y * (1 - self.y)", "return self.y * (1 - self.y)",
      "sigmoid", unit("sigmoid", "input_gradient"), "ignores_upstream_gradient"),
    M("canonical-tanh-derivative-sign-flipped", "canonical.py",
      "return dy * (1 - self.y ** 2)", "return dy * (1 + self.y ** 2)",
      "tanh", unit("tanh", "input_gradient"), "derivative_sign_error"),
    M("canonical-tanh-overflow", "canonical.py",
      "self.y = np.tanh(x)", "self.y = (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1)",
      "tanh", ("test_tanh" + STABILITY_1E3, "test_tanh_golden[tanh-extreme]"), "unstable_tanh"),
    M("canonical-softmax-no-max-shift", "canonical.py",
      "e = np.exp(x - x.max(axis=1, keepdims=True))", "e = np.exp(x)",
      "softmax", ("test_softmax" + STABILITY_1E3, "test_softmax_golden[softmax-extreme]"), "unstable_softmax"),
    M("canonical-ce-logits-no-max-shift", "canonical.py",
      "shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits",
      "cross_entropy", ("test_cross_entropy_stability", "test_cross_entropy_golden[cross_entropy-logits-extreme"),
      "unstable_cross_entropy"),
    M("canonical-mse-missing-2", "canonical.py",
      "grad = 2 * self.diff", "grad = self.diff",
      "mse", unit("mse", "loss_gradient"), "missing_half_factor"),
    M("canonical-adam-no-bias-correction", "canonical.py",
      "                m_hat = m[key] / (1 - self.beta1 ** self.t)\n"
      "                v_hat = v[key] / (1 - self.beta2 ** self.t)\n",
      "                m_hat, v_hat = m[key], v[key]\n",
      "adam", "test_adam", "adam_missing_bias_correction"),
    M("canonical-checker-always-passes", "canonical.py",
      "    return max(errors)", "    return 0.0",
      "gradient_checker", "test_gradient_checker", "checker_too_lenient"),
    M("canonical-he-fan-out", "canonical.py",
      "normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))",
      "normal(0.0, np.sqrt(2.0 / fan_out), size=(fan_out, fan_in))",
      "init", "test_init[he]", "wrong_init_variance"),
    M("canonical-batchnorm-eval-batch-stats", "canonical.py",
      "        if not self.training:\n", "        if False:\n",
      "batchnorm", "test_batchnorm[bn_eval]", "batchnorm_eval_uses_batch_stats"),
    M("canonical-layernorm-dx-no-mean-terms", "canonical.py",
      "        return self.rstd * (dxn - dxn.mean(axis=1, keepdims=True) - self.xn * (dxn * self.xn).mean(axis=1, keepdims=True))",
      "        return self.rstd * dxn",
      "layernorm", ("test_layernorm[*-input_gradient", "test_layernorm_property"), "layernorm_backward"),
    M("canonical-dropout-not-inverted", "canonical.py",
      "(self.rng.random(x.shape) >= self.p) / (1 - self.p)", "(self.rng.random(x.shape) >= self.p) * 1.0",
      "dropout", "test_dropout[dropout_scaling]", "dropout_not_inverted"),
    M("canonical-dropout-active-in-eval", "canonical.py",
      "if not self.training or self.p == 0:", "if self.p == 0:",
      "dropout", "test_dropout[dropout_eval]", "dropout_active_in_eval"),
    M("canonical-dropout-p-keeps", "canonical.py",
      "(self.rng.random(x.shape) >= self.p)", "(self.rng.random(x.shape) < self.p)",
      "dropout", "test_dropout[dropout_keep_rate]", "dropout_p_is_keep_probability"),
    M("canonical-conv2d-flipped-kernel", "canonical.py",
      'np.tensordot(patch, self.params["W"], axes=([1, 2, 3], [1, 2, 3]))',
      'np.tensordot(patch, self.params["W"][:, :, ::-1, ::-1], axes=([1, 2, 3], [1, 2, 3]))',
      "conv2d", "test_conv2d[*-conv_values", "conv_flipped_kernel"),
    M("canonical-conv2d-kernel-transposed", "canonical.py",
      'np.tensordot(patch, self.params["W"], axes=([1, 2, 3], [1, 2, 3]))',
      'np.tensordot(patch, self.params["W"].swapaxes(2, 3), axes=([1, 2, 3], [1, 2, 3]))',
      "conv2d", "test_conv2d[*-conv_values", "conv_kernel_transposed"),
    M("canonical-conv2d-db-averaged", "canonical.py",
      'self.grads["b"] = dy.sum(axis=(0, 2, 3))', 'self.grads["b"] = dy.sum(axis=(0, 2, 3)) / dy.shape[0]',
      "conv2d", "test_conv2d[*-conv_gradients", "conv2d_backward"),
    M("canonical-sgd-sign-error", "canonical.py",
      "params[key] -= self.lr * velocity[key]", "params[key] += self.lr * velocity[key]",
      "training_spiral", "test_training_spiral", "diverged", also=("sgd", "momentum")),

    # --- layer_dicts style (assignment 000) -------------------------------------------------------------
    M("layer_dicts-double-batch-average", "layer_dicts.ipynb",
      '        self.grads["W"] = grad_output.T @ x\n        self.grads["b"] = np.sum(grad_output, axis=0)\n',
      '        self.grads["W"] = grad_output.T @ x / x.shape[0]\n        self.grads["b"] = np.mean(grad_output, axis=0)\n',
      "model_gradcheck", "test_model_gradcheck", "double_batch_average"),
    M("layer_dicts-relu-mask-from-output", "layer_dicts.ipynb",
      "return grad_output * (x > 0)", "return grad_output * np.maximum(0, x)",
      "relu", (*unit("relu", "input_gradient"), "test_relu_kink"), "wrong_relu_mask",
      also=("model_gradcheck",)),
    M("layer_dicts-sigmoid-derivative-from-input", "layer_dicts.ipynb",
      '        self.cache["y"] = y\n        return y\n\n    def backward(self, grad_output):\n'
      '        y = self.cache["y"]\n        return grad_output * y * (1 - y)',
      '        self.cache["y"] = x\n        return y\n\n    def backward(self, grad_output):\n'
      '        y = self.cache["y"]\n        return grad_output * y * (1 - y)',
      "sigmoid", unit("sigmoid", "input_gradient"), "derivative_from_input"),
    M("layer_dicts-batchnorm-running-stats-frozen", "layer_dicts.ipynb",
      "        self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean\n"
      "        self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var\n", "",
      "batchnorm", "test_batchnorm[bn_eval]", "running_stats_not_updated"),
    M("layer_dicts-batchnorm-dx-no-mean-terms", "layer_dicts.ipynb",
      "return inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))", "return inv_std * g",
      "batchnorm", ("test_batchnorm[bn_input_grad]", "test_batchnorm[bn_numerical_vjp]"), "batchnorm_backward"),
    M("layer_dicts-momentum-velocity-reset", "layer_dicts.ipynb",
      "        if self.velocities is None:\n            self.velocities =",
      "        if True:\n            self.velocities =",
      "momentum", "test_momentum", "momentum_not_applied"),
    M("layer_dicts-adam-sign-error", "layer_dicts.ipynb",
      "p[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)",
      "p[key] += self.lr * m_hat / (np.sqrt(v_hat) + self.eps)",
      "adam", "test_adam", "sign_error_in_update"),
    M("layer_dicts-checker-forward-difference", "layer_dicts.ipynb",
      "numerical[ix] = (plus - minus) / (2 * epsilon)", "numerical[ix] = (plus - minus) / epsilon",
      "gradient_checker", "test_gradient_checker", "checker_too_strict"),
    M("layer_dicts-checker-sign-flipped", "layer_dicts.ipynb",
      "numerical[ix] = (plus - minus) / (2 * epsilon)", "numerical[ix] = (minus - plus) / (2 * epsilon)",
      "gradient_checker", "test_gradient_checker", "checker_sign_error"),
    M("layer_dicts-xavier-bound-as-variance", "layer_dicts.ipynb",
      "limit = np.sqrt(6 / (input_dim + output_dim))", "limit = np.sqrt(2 / (input_dim + output_dim))",
      "init", "test_init[xavier]", "wrong_init_variance"),

    # --- attr_grads style (assignment 001) --------------------------------------------------------------
    M("attr_grads-missing-batch-average", "attr_grads.py",
      "        self.dW = X.T @ dZ / batch_size\n        self.db = np.mean(dZ, axis=0)\n",
      "        self.dW = X.T @ dZ\n        self.db = np.sum(dZ, axis=0)\n",
      "model_gradcheck", "test_model_gradcheck", "missing_batch_average"),
    M("attr_grads-linear-dW-transposed", "attr_grads.py",
      "self.dW = X.T @ dZ / batch_size", "self.dW = dZ.T @ X / batch_size",
      "linear", ("test_linear[*-shapes", *unit("linear", "parameter_gradient")), "transposed_gradient",
      also=("model_gradcheck",)),
    M("attr_grads-relu-inverted-mask", "attr_grads.py",
      "mask = (Z > 0).astype(float)", "mask = (Z < 0).astype(float)",
      "relu", (*unit("relu", "input_gradient"), "test_relu_kink"), "wrong_relu_mask", also=("model_gradcheck",)),
    M("attr_grads-ce-sums-over-batch", "attr_grads.py",
      "return -np.mean(np.log(picked))", "return -np.sum(np.log(picked))",
      "cross_entropy", ("test_cross_entropy[*-loss_value", "test_cross_entropy[*-loss_gradient",
                        "test_cross_entropy_property", "test_cross_entropy_golden"), "loss_not_averaged",
      also=("model_gradcheck",)),
    # the Softmax has a forward only (its gradient folded into the loss): its forward is still judged
    M("attr_grads-folded-softmax-no-max-shift", "attr_grads.py",
      "        shifted = Z - np.max(Z, axis=1, keepdims=True)\n", "        shifted = Z\n",
      "softmax", ("test_softmax" + STABILITY_1E3, "test_softmax_golden[softmax-extreme]"), "unstable_softmax"),
    M("attr_grads-momentum-velocity-dropped", "attr_grads.py",
      "self.velocity[(i, name)] = v", "self.velocity[(i, name)] = np.zeros_like(v)",
      "momentum", "test_momentum", "momentum_not_applied"),
    M("attr_grads-lecun-instead-of-xavier", "attr_grads.py",
      "std = np.sqrt(2.0 / (in_features + out_features))", "std = np.sqrt(1.0 / in_features)",
      "init", "test_init[xavier]", "wrong_init_variance"),
    M("attr_grads-learning-rate-ignored", "attr_grads.py",
      "self.lr = learning_rate", "self.lr = 1e-4  # the argument is ignored",
      "training_mnist", "test_training_mnist", "did_not_learn", also=("sgd", "momentum")),

    # --- dense_net style (assignment 003) ---------------------------------------------------------------
    M("dense_net-softmax-jacobian-on-logits-grad", "dense_net.ipynb",
      "        grad = -self.y_true / self.y_pred\n        return grad / batch_size",
      "        grad = self.y_pred - self.y_true\n        return grad / batch_size",
      "model_gradcheck", "test_model_gradcheck", "softmax_jacobian_on_logits_grad", also=("cross_entropy",)),
    M("dense_net-softmax-diagonal-jacobian", "dense_net.ipynb",
      "return self.a * (grad_output - dot)", "return grad_output * self.a * (1 - self.a)",
      "softmax", SOFTMAX_GRADIENT, "softmax_diagonal_jacobian", also=("model_gradcheck",)),
    M("dense_net-softmax-backward-passthrough", "dense_net.ipynb",
      "return self.a * (grad_output - dot)", "return grad_output",
      "softmax", SOFTMAX_GRADIENT, "softmax_backward_passthrough", also=("model_gradcheck",)),
    M("dense_net-mse-gradient-ignores-output-dim", "dense_net.ipynb",
      "return diff / diff.size", "return diff / diff.shape[0]",
      "mse", unit("mse", "loss_gradient"), "inconsistent_loss_scaling"),
    M("dense_net-zero-bias-gradient", "dense_net.ipynb",
      'self.grads["b"] = np.sum(grad_z, axis=0)', 'self.grads["b"] = np.zeros_like(self.params["b"])',
      "linear", unit("linear", "parameter_gradient"), "zero_bias_gradient", also=("model_gradcheck",)),
    M("dense_net-sigmoid-overflow", "dense_net.ipynb",
      "self.a = 1 / (1 + np.exp(-np.clip(z, -500, 500)))", "self.a = 1 / (1 + np.exp(-z))",
      "sigmoid", "test_sigmoid" + STABILITY_1E3, "unstable_sigmoid"),
    M("dense_net-ce-log-of-zero", "dense_net.ipynb",
      "self.y_pred = np.clip(y_pred, 1e-300, 1.0)", "self.y_pred = y_pred",
      "cross_entropy", ("test_cross_entropy_stability", "test_cross_entropy_golden[*-extreme"),
      "unstable_cross_entropy"),
    M("dense_net-relu-backward-in-place", "dense_net.ipynb",
      "        return grad_output * grad_z\n", "        grad_output *= grad_z\n        return grad_output\n",
      "relu", "test_relu_stability", "in_place_mutation"),
    M("dense_net-checker-always-true", "dense_net.ipynb",
      "    return all_match", "    return True",
      "gradient_checker", "test_gradient_checker", "checker_too_lenient"),
    M("dense_net-he-on-fan-out-in-constructor", "dense_net.ipynb",
      "std = np.sqrt(2.0 / input_dim)", "std = np.sqrt(2.0 / output_dim)",
      "init", "test_init[he]", "wrong_init_variance"),
    M("dense_net-zero-init", "dense_net.ipynb",
      'self.params["W"] = np.random.randn(output_dim, input_dim) * std',
      'self.params["W"] = np.zeros((output_dim, input_dim))',
      "training_xor", "test_training_xor", "did_not_learn", also=("init",)),

    # --- single_sample style (assignment 004) -----------------------------------------------------------
    M("single_sample-sigmoid-derivative-from-input", "single_sample/activations.py",
      "        s = self.forward(z)\n        return s * (1 - s)", "        return z * (1 - z)",
      "sigmoid", unit("sigmoid", "input_gradient"), "derivative_from_input"),
    M("single_sample-tanh-derivative-from-input", "single_sample/activations.py",
      "return 1 - np.tanh(z) ** 2", "return 1 - z ** 2",
      "tanh", unit("tanh", "input_gradient"), "derivative_from_input"),
    M("single_sample-relu-derivative-is-output", "single_sample/activations.py",
      "return (z > 0).astype(float)", "return np.maximum(0.0, z)",
      "relu", (*unit("relu", "input_gradient"), "test_relu_kink"), "wrong_relu_mask",
      also=("model_gradcheck", "appendix_a")),
    M("single_sample-gradient-sign-error", "single_sample/models.py",
      "dL_df = f - y", "dL_df = y - f",
      "model_gradcheck", "test_model_gradcheck", "sign_error_in_gradient", also=("appendix_a",)),
    M("single_sample-a1-cached-after-activation", "single_sample/models.py",
      "        self.h1_cache = self.activation.forward(self.a1_cache)\n",
      "        self.h1_cache = self.activation.forward(self.a1_cache)\n        self.a1_cache = self.h1_cache\n",
      "appendix_a", "test_appendix_a[a1]", "appendix_a_mismatch"),
    M("single_sample-dW1-transposed", "single_sample/models.py",
      "dL_dW1 = np.outer(dL_da1, x)", "dL_dW1 = np.outer(x, dL_da1)",
      "appendix_a", "test_appendix_a[dL_dW1]", "appendix_a_mismatch", also=("model_gradcheck",)),
    M("single_sample-sgd-sign-error", "single_sample/optimization.py",
      'params[name] - self.learning_rate * grads["dL_d" + name]',
      'params[name] + self.learning_rate * grads["dL_d" + name]',
      "sgd", "test_sgd", "sign_error_in_update"),
    M("single_sample-init-tiny-constant-std", "single_sample/models.py",
      "            std = np.sqrt(2.0 / input_dim)\n", "            std = 0.01\n",
      "init", "test_init[he]", "wrong_init_variance"),
    M("single_sample-checker-always-passes", "single_sample/gradient_check.py",
      '"passed": bool(error < threshold)', '"passed": True',
      "gradient_checker", "test_gradient_checker", "checker_too_lenient"),
    # right on a linear layer, wrong on a nonlinear one at its own defaults (issue #13)
    M("single_sample-checker-one-sided", "single_sample/gradient_check.py",
      "            value[ix] = old - epsilon\n            model.set_parameters({name: value})\n"
      "            minus = _loss(model, x, y)\n            value[ix] = old\n            model.set_parameters({name: value})\n"
      "            numerical[ix] = (plus - minus) / (2 * epsilon)",
      "            value[ix] = old\n            model.set_parameters({name: value})\n"
      "            minus = _loss(model, x, y)\n            numerical[ix] = (plus - minus) / epsilon",
      "gradient_checker", "test_gradient_checker", "checker_one_sided_difference"),
    M("single_sample-checker-step-too-large", "single_sample/gradient_check.py",
      "def check_all_gradients(model, x, y, epsilon=1e-5, threshold=1e-7):",
      "def check_all_gradients(model, x, y, epsilon=1e-2, threshold=1e-7):",
      "gradient_checker", "test_gradient_checker", "checker_step_too_large"),
    # a submission built on its own autograd engine (issue #12)
    M("autograd_engine-grad-assigned", "autograd_engine.py",
      "self.grad = self.grad + _reduce_to(grad, self.data.shape)", "self.grad = _reduce_to(grad, self.data.shape)",
      "autograd", "test_autograd_accumulation", "gradient_not_accumulated"),
    M("autograd_engine-broadcast-not-summed", "autograd_engine.py",
      "self.grad = self.grad + _reduce_to(grad, self.data.shape)", "self.grad = self.grad + grad",
      "autograd", "test_autograd_broadcasting", "broadcast_not_summed", also=("linear", "model_gradcheck")),
    M("autograd_engine-no-zero-grad", "autograd_engine.py",
      "    def zero_grad(self):\n        self.grad = np.zeros_like(self.data)\n", "",
      "autograd", "test_autograd_zero_grad", "zero_grad_missing"),
]


def mutant_ids() -> list[str]:
    return [m.id for m in MUTANTS]


def _table_problems() -> list[str]:
    """Sanity of the table itself (ids unique, components and causes known)."""
    from conformance.diagnoses import CAUSES

    problems, seen = [], set()
    for m in MUTANTS:
        if m.id in seen:
            problems.append(f"duplicate mutant id {m.id}")
        seen.add(m.id)
        for comp in m.components_run():
            if comp not in COMPONENTS:
                problems.append(f"{m.id}: unknown component {comp!r}")
        if m.cause not in CAUSES:
            problems.append(f"{m.id}: cause {m.cause!r} is not in conformance/diagnoses.py")
        if not (IMPLS / m.base).is_file():
            problems.append(f"{m.id}: base {m.base} is not a file under tests/impls")
        elif code_of(m.base).count(m.old) != 1:
            problems.append(f"{m.id}: the old text occurs {code_of(m.base).count(m.old)} times in {m.base}, not once")
    return problems


def code_of(base: str) -> str:
    """The code of a file under tests/impls (a notebook's code cells, joined)."""
    path = IMPLS / base
    if path.suffix != ".ipynb":
        return path.read_text()
    return "\n\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


# --- the harness shared by test_mutants.py and test_correct_variants.py ----------------------------------


def plant(base: str, edits: list[tuple[str, str]], dest: Path) -> Path:
    """Copy ``base`` (a file under tests/impls, or a module of a package there) to ``dest`` with each
    (old, new) replacement applied once; return what --impl gets (the file or the package dir).
    A notebook is edited cell by cell (code cells only) with nbformat."""
    root = base.split("/")[0]
    if "/" in base:
        shutil.copytree(IMPLS / root, dest / root, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        shutil.copy(IMPLS / root, dest / root)
    target = dest / base
    notebook = nbformat.read(target, as_version=4) if target.suffix == ".ipynb" else None
    texts = [c for c in notebook.cells if c.cell_type == "code"] if notebook else None
    text = None if notebook else target.read_text()
    for old, new in edits:
        count = sum(c.source.count(old) for c in texts) if notebook else text.count(old)
        assert count == 1, f"{base}: {old!r} occurs {count} times, expected exactly once (was the base edited?)"
        if notebook:
            cell = next(c for c in texts if old in c.source)
            cell.source = cell.source.replace(old, new)
        else:
            text = text.replace(old, new)
    if notebook:
        nbformat.write(notebook, target)
    else:
        target.write_text(text)
    return dest / root


def run_suite(impl: Path, components, workdir: Path) -> dict:
    """The conformance report of ``impl`` on the test modules of ``components`` (a subprocess,
    like a student's run), or {"crash": output} when no report was written."""
    report = workdir / "report.json"
    files = [str(REPO / "conformance" / f"test_{c}.py") for c in components]
    cmd = [sys.executable, "-m", "pytest", *files, "--impl", str(impl), "--report", str(report),
           "-p", "no:cacheprovider", "-q", "--no-header", "-o", "addopts="]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("BACKPROP_KIT_IMPL", None)
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if not report.is_file():
        return {"crash": (proc.stdout + proc.stderr)[-3000:]}
    return json.loads(report.read_text())
