"""Hand-made stand-ins for a student's adapter, each with switches that plant one known bug.

They let the kit's own tests drive the model/optimizer/init/checker/training probes end to end
(probe -> InProcessRunner -> judge) without depending on any one course's API.
"""
from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter, Missing, OptimizerHandle, PipelineHandle
from conformance.checking import Check


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class FakePipeline(PipelineHandle):
    """Linear/ReLU MLP + cross-entropy. ``layer_avg``: Linear.backward divides by B;
    ``loss_avg``: the loss backward divides by B; ``softmax_twice``: the model ends in Softmax and
    its backward applies the Jacobian to the loss's d/dlogits again; ``bias_avg``: db is averaged
    over the batch instead of summed."""

    def __init__(self, sizes, seed=0, layer_avg=False, loss_avg=True, softmax_twice=False, bias_avg=False):
        rng = np.random.default_rng(seed)
        self.n = len(sizes) - 1
        self.p = {}
        for k in range(self.n):
            self.p[f"{2 * k}.W"] = rng.standard_normal((sizes[k + 1], sizes[k])) * np.sqrt(2 / sizes[k])
            self.p[f"{2 * k}.b"] = np.zeros(sizes[k + 1])
        self.layer_avg, self.loss_avg, self.softmax_twice, self.bias_avg = layer_avg, loss_avg, softmax_twice, bias_avg
        self.conventions = {"output": "probs" if softmax_twice else "logits"}
        self.g = None

    def get_params(self):
        return {k: v.copy() for k, v in self.p.items()}

    def set_params(self, params):
        self.p.update({k: np.array(v, float) for k, v in params.items()})

    def _forward(self, x):
        acts, pre = [x], []
        for k in range(self.n):
            z = acts[-1] @ self.p[f"{2 * k}.W"].T + self.p[f"{2 * k}.b"]
            pre.append(z)
            acts.append(np.maximum(z, 0) if k < self.n - 1 else z)
        return pre, acts

    def predict(self, x):
        return self._forward(np.asarray(x, float))[1][-1]

    def loss(self, x, labels):
        p = _softmax(self.predict(x))
        return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))

    def loss_and_grads(self, x, labels):
        pre, acts = self._forward(np.asarray(x, float))
        B = len(x)
        p = _softmax(acts[-1])
        d = p - np.eye(p.shape[1])[labels]
        if self.loss_avg:
            d = d / B
        if self.softmax_twice:
            d = p * (d - np.sum(p * d, axis=1, keepdims=True))
        grads = {}
        for k in reversed(range(self.n)):
            scale = 1 / B if self.layer_avg else 1.0
            grads[f"{2 * k}.W"] = d.T @ acts[k] * scale
            grads[f"{2 * k}.b"] = (d.mean(0) if self.bias_avg else d.sum(0)) * scale
            if k:
                d = (d @ self.p[f"{2 * k}.W"]) * (pre[k - 1] > 0)
        self.g = grads
        return float(-np.mean(np.log(p[np.arange(B), labels]))), grads

    def sgd_step(self, lr):
        for k in self.p:
            self.p[k] -= lr * self.g[k]


class FakeOptimizer(OptimizerHandle):
    """variant: "right", "sign", "ema", "no_bias_correction", "epsilon_hat", "forget_velocity", "default_momentum",
    "stale" (each step with the previous call's gradient; the first with a leftover one)."""

    def __init__(self, kind, variant="right", lr=0.1, momentum=0.0, betas=(0.9, 0.999), eps=1e-8):
        self.kind, self.variant, self.student_name, self.conventions = kind, variant, f"Fake{kind}", {}
        self.lr, self.beta, self.betas, self.eps, self.state, self.t = lr, momentum, betas, eps, {}, 0
        if kind == "sgd" and variant == "default_momentum":
            self.beta = 0.9

    def step(self, params, grads):
        self.t += 1
        sign = -1.0 if self.variant == "sign" else 1.0
        for k, g in grads.items():
            if self.kind == "adam":
                b1, b2 = self.betas
                m = self.state[k + "m"] = b1 * self.state.get(k + "m", 0) + (1 - b1) * g
                v = self.state[k + "v"] = b2 * self.state.get(k + "v", 0) + (1 - b2) * g * g
                if self.variant == "epsilon_hat":  # the corrections folded into the step size
                    params[k] -= self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t) * m / (np.sqrt(v) + self.eps)
                    continue
                if self.variant != "no_bias_correction":
                    m, v = m / (1 - b1 ** self.t), v / (1 - b2 ** self.t)
                params[k] -= sign * self.lr * m / (np.sqrt(v) + self.eps)
                continue
            if self.variant == "stale":
                g, self.state["last" + k] = self.state.get("last" + k, np.full_like(g, 0.3)), np.array(g, float)
            old = 0.0 if self.variant == "forget_velocity" else self.state.get(k, 0.0)
            v = self.beta * old + ((1 - self.beta) * g if self.variant == "ema" else g)
            self.state[k] = v
            params[k] -= sign * self.lr * v


class FakeSingleSample:
    """A single-sample one-hidden-layer ReLU MLP (assignment 004's API); ``sign`` flips dL/df."""

    def __init__(self, input_dim, hidden_dim, sign=1.0):
        self.W1, self.b1 = np.zeros((hidden_dim, input_dim)), np.zeros(hidden_dim)
        self.W2, self.b2 = np.zeros((1, hidden_dim)), np.zeros(1)
        self.sign = sign

    def set_parameters(self, params):
        for k, v in params.items():
            setattr(self, k, np.array(v, float))

    def get_parameters(self):
        return {k: getattr(self, k).copy() for k in ("W1", "b1", "W2", "b2")}

    def forward(self, x):
        self.a1_cache = self.W1 @ x + self.b1
        self.h1_cache = np.maximum(self.a1_cache, 0)
        return float((self.W2 @ self.h1_cache + self.b2)[0])

    def loss(self, f, y):
        return 0.5 * (f - y) ** 2

    def backward(self, x, y, f):
        r = self.sign * (f - y)
        da1 = self.W2[0] * r * (self.a1_cache > 0)
        return {"dL_dW2": r * self.h1_cache[None, :], "dL_db2": np.array([r]),
                "dL_dW1": np.outer(da1, x), "dL_db1": da1}


class FakeAdapter(Adapter):
    """switches: pipeline (FakePipeline kwargs), optimizer variant, init {kind: (dist, variance
    rule)}, checker ("right" | "lenient" | "strict"), single_sample sign, slow (seconds per step)."""

    def __init__(self, style="canonical", pipeline=None, optimizer="right", init=None, checker="right",
                 single_sign=1.0, slow=0.0):
        super().__init__(namespace={}, style=style)
        self.pipeline_kw, self.optimizer, self.checker = pipeline or {}, optimizer, checker
        self.init = init if init is not None else {"he": ("normal", "he"), "xavier": ("uniform", "xavier")}
        self.single_sign, self.slow = single_sign, slow

    def make_pipeline(self, sizes, hidden="relu", task="classification"):
        pipe = FakePipeline(sizes, **self.pipeline_kw)
        if self.slow:
            import time
            inner = pipe.loss_and_grads

            def slow_step(x, labels):
                time.sleep(self.slow)
                return inner(x, labels)
            pipe.loss_and_grads = slow_step
        return pipe

    def make_optimizer(self, kind, **hyper):
        return FakeOptimizer(kind, self.optimizer, **hyper)

    def init_weights(self, kind, fan_in, fan_out, seed):
        if kind not in self.init:
            raise Missing(f"no {kind} initialiser")
        dist, rule = self.init[kind]
        var = {"he": 2 / fan_in, "xavier": 2 / (fan_in + fan_out), "lecun": 1 / fan_in}[rule]
        rng = np.random.default_rng(seed)
        if dist == "normal":
            return rng.standard_normal((fan_out, fan_in)) * np.sqrt(var)
        bound = np.sqrt(3 * var)
        return rng.uniform(-bound, bound, (fan_out, fan_in))

    def gradient_checker(self):
        def check(planted_bug, seed):
            if self.checker == "lenient":
                return {"error": 1e-6 if planted_bug else 1e-9, "passed": None}
            if self.checker == "strict":
                return {"error": None, "passed": False}
            return {"error": 0.05 if planted_bug else 1e-9, "passed": None}
        return check

    def single_sample_model(self, input_dim, hidden_dim, activation):
        if self.style != "single_sample":
            raise Missing("this implementation has no single-sample one-hidden-layer MLP")
        return FakeSingleSample(input_dim, hidden_dim, self.single_sign)


class OutcomeCheck(Check):
    """The conformance suite's ``check`` outside pytest: the outcome is returned, not handed to pytest."""

    def __init__(self, runner):
        super().__init__(runner, item=None, impl=None, cache={})

    def expect(self, outcome):
        return outcome
