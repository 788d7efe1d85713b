"""The kit's canonical view of a student implementation.

An adapter wraps the namespace a student's code defined (module, file or notebook) and hands
the probes *handles* with one fixed set of methods, whatever the course's API style. Handles
translate calls and layouts; they never fix the student's maths. Conventions that the spec
allows (weights stored (in, out), batch averaging inside a layer, losses on probabilities...)
are *reported* in ``conventions`` so that judges can name them, never silently normalised away
where that would hide a bug.

All arrays crossing a handle are in the kit's canonical layout:
    Linear  W (out, in), b (out,)          BatchNorm1d gamma (F,), beta (F,)
    Conv2D  W (out_c, in_c, kh, kw), b (out_c,), inputs NCHW
A handle that finds weights stored (in, out) transposes on the way in and out and says so in
``conventions["weight_layout"] = "in_out"``.

Anything a probe needs that the implementation lacks raises ``Missing`` with a sentence that
names what was looked for (e.g. "no class named Tanh (looked for Tanh, TanhActivation)").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Missing(Exception):
    """The implementation does not define what this check needs (never a pass, never an error).

    ``gradient_of``: the parameter ("b") when what is missing is its gradient after a backward
    that ran; the judges choose a cause from it (``missing_bias_gradient``), never from the text."""

    def __init__(self, message: str = "", *, gradient_of: str | None = None):
        super().__init__(message)
        self.gradient_of = gradient_of


@dataclass
class Found:
    """Where the inventory found a component: the student's name for it and how it is used."""

    component: str
    name: str | None  # e.g. "Linear", "Dense", "OneHiddenLayerMLP.backward"; None when missing
    detail: str = ""  # one sentence: how it was recognised, or why it is missing


class LayerHandle:
    """One student layer (or activation) object.

    kinds: "linear", "relu", "sigmoid", "tanh", "softmax" and the stretch layers "batchnorm",
           "dropout", "conv2d", "layernorm" (each the layer of a component of SPEC.md).
    """

    student_name: str = ""
    conventions: dict[str, Any]  # e.g. {"weight_layout": "out_in", "activation_api": "backward"}

    def forward(self, x: np.ndarray) -> np.ndarray: ...

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Return dL/dx for upstream gradient dy. Activations with only ``derivative(z)``
        are wrapped as dx = dy * derivative(z) (reported as activation_api="derivative")."""

    def param_names(self) -> tuple[str, ...]:
        """Canonical parameter names: ("W", "b"), ("gamma", "beta"), or () for activations."""
        return ()

    def get_params(self) -> dict[str, np.ndarray]: ...

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Overwrite the student's parameters (copies, canonical layout in)."""

    def get_grads(self) -> dict[str, np.ndarray]:
        """The parameter gradients the last backward stored, canonical layout. A gradient the
        student never stores raises Missing."""

    def set_training(self, training: bool) -> None:
        """train/eval mode for batchnorm and dropout; a no-op elsewhere."""


class LossHandle:
    """One student loss object.

    kinds: "cross_entropy" (whatever the student offers: fused softmax+CE on logits, or CE on
           probabilities) and "mse".
    conventions:
        "input":   "logits" | "probs" | "pred"        what forward takes
        "targets": "int" | "onehot"                    what forward takes
        "grad_wrt": "logits" | "probs" | "pred"        what backward returns the gradient of
                    (a CE-on-probabilities whose backward returns probs - onehot reports "logits")
    """

    student_name: str = ""
    conventions: dict[str, Any]

    def forward(self, pred: np.ndarray, labels: np.ndarray) -> float:
        """labels: int class ids (B,) for cross-entropy, targets (B, D) for mse; the handle
        converts to one-hot itself when the student's loss wants one-hot."""

    def backward(self) -> np.ndarray:
        """The raw gradient the student's backward returns (its own scaling)."""


class PipelineHandle:
    """A student's whole model plus its own loss: the unit of model_gradcheck and training.

    Parameters are addressed by flat keys "<layer index>.<canonical name>", e.g. "0.W", "2.b"
    (single-sample style: "W1", "b1", "W2", "b2").
    """

    conventions: dict[str, Any]  # e.g. {"output": "probs", "loss": "CrossEntropyLoss", ...}

    def get_params(self) -> dict[str, np.ndarray]: ...

    def set_params(self, params: dict[str, np.ndarray]) -> None: ...

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Model output for a batch (logits or probabilities, as the model returns them)."""

    def loss(self, x: np.ndarray, labels: np.ndarray) -> float:
        """The loss value the student's own code reports for this batch (forward only)."""

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """One forward + backward through the student's model and loss; the parameter
        gradients the student's code would hand to its optimizer (canonical layout)."""

    def sgd_step(self, lr: float) -> None:
        """Update parameters with the student's own optimizer or update method (plain SGD)."""


class OptimizerHandle:
    """One student optimizer. kinds: "sgd", "momentum", "adam".

    ``step`` updates ``params`` in place from ``grads`` (same keys, any shapes) using the
    student's optimizer, however its API wants them (lists of dicts, a model object, ...).
    """

    student_name: str = ""
    conventions: dict[str, Any]

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None: ...


@dataclass
class Adapter:
    """Base adapter: a namespace plus the style it was read in.

    Subclasses (one per style, ``conformance/adapters/<style>.py``) implement the factories.
    ``detected_because`` lists the sentences printed when the style is detected.
    """

    namespace: dict[str, Any]
    style: str = "canonical"
    detected_because: list[str] = field(default_factory=list)
    loaded: Any = None  # the conformance.loader.LoadedImpl it came from (origin, dropped cells)
    assumed: bool = False  # no style's clue held: the style is the kit's guess, not the student's assignment
    weak: bool = False  # only a name or two tie the code to the style's assignment: its demands are not assumed

    # --- inventory ---------------------------------------------------------------
    def inventory(self) -> dict[str, Found]:
        """component id -> Found, for every id in conformance.components.COMPONENTS."""
        raise NotImplementedError

    # --- factories (each raises Missing when the implementation lacks the piece) ---
    def make_layer(self, kind: str, **hyper) -> LayerHandle:
        """hyper: linear(in_features, out_features); batchnorm(num_features, eps, momentum);
        layernorm(num_features, eps);
        dropout(p); conv2d(in_channels, out_channels, kernel_size, stride, padding)."""
        raise Missing(f"this implementation has no {kind} layer")

    def make_loss(self, kind: str) -> LossHandle:
        raise Missing(f"this implementation has no {kind} loss")

    def make_pipeline(self, sizes: list[int], hidden: str = "relu", task: str = "classification") -> PipelineHandle:
        """A model with Linear layers of ``sizes`` and ``hidden`` activations between them, plus
        the student's loss for ``task`` ("classification": cross-entropy, "regression": mse)."""
        raise Missing("this implementation has no way to build a whole model")

    def network_sizes(self, sizes: list[int]) -> list[int]:
        """The sizes a whole-network check can build: ``sizes``, or the sizes the student's code
        fixes when its network cannot be built at any other (a constructor without size arguments)."""
        return list(sizes)

    def make_optimizer(self, kind: str, **hyper) -> OptimizerHandle:
        """hyper: lr; momentum (beta); betas, eps for adam."""
        raise Missing(f"this implementation has no {kind} optimizer")

    def gradient_checker(self):
        """A callable ``check(planted_bug: bool, seed: int) -> {"error": float | None,
        "passed": bool | None}`` that runs the student's own gradient-checking function on a
        correct layer/model built from the student's classes (planted_bug=False) or on the same
        thing with a kit-planted backward bug (planted_bug=True), and returns what the student's
        checker reported (its error number and/or its pass/fail answer)."""
        raise Missing("this implementation has no gradient-checking function")

    def init_weights(self, kind: str, fan_in: int, fan_out: int, seed: int) -> np.ndarray:
        """A weight matrix (fan_out, fan_in) drawn by the student's initialiser ("he" or "xavier")."""
        raise Missing(f"this implementation has no {kind} initialiser")

    def init_draw(self, kind: str, fan_in: int, fan_out: int, seed: int):
        """(W (fan_out, fan_in), one sentence saying what claims it is ``kind``: a function's name,
        a constructor's argument, its docstring or comment, or the assignment's text)."""
        return self.init_weights(kind, fan_in, fan_out, seed), f"your {kind} initialiser"

    def init_asks(self) -> tuple[str, ...]:
        """The initialisers the assignment asks for; one it does not ask for is judged only when present."""
        return ("he", "xavier")

    def capabilities(self) -> tuple[str, ...]:
        """What this code offers that changes how a multi-step check drives it: "one_sample" (its
        network takes one sample at a time, L = (f - y)^2 / 2: model_gradcheck and training_xor
        use the one-output network), "worked_example" (assignment 004's OneHiddenLayerMLP, for
        appendix_a), "any_assignment" (no assignment's API was recognised, so every answer some
        assignment allows is accepted; also when only a name or two tie the code to its style, as
        that is no assignment's API either). The probe ``capabilities`` reports them; the checks
        decide on the trusted side."""
        return ("any_assignment",) if self.assumed or self.weak else ()

    def single_sample_model(self, input_dim: int, hidden_dim: int, activation: str):
        """The single-sample one-hidden-layer MLP of the Appendix A assignment (style 004):
        returns the student's object; probes call forward(x), backward(x, y, f),
        set_parameters(dict), get_parameters() on it."""
        raise Missing("this implementation has no single-sample one-hidden-layer MLP")
