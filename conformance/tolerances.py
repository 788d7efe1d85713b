"""Every tolerance a judge compares with (numpy's |got - expected| <= atol + rtol |expected|) and
why: SPEC.md 0.5's table, row for row (tests/test_plugin.py keeps the two equal)."""
from __future__ import annotations

from dataclasses import dataclass

EPS = 1e-6  # the central-difference step of every numerical derivative the judges take (float64)


@dataclass(frozen=True)
class Tolerance:
    name: str
    rtol: float
    atol: float
    why: str


FORWARD = Tolerance("forward", 1e-7, 1e-9, "float64, same formula, other summation order; a clip at 1e-10 stays below")
GRADIENT = Tolerance("gradient", 1e-5, 1e-7, "central differences, eps 1e-6: truncation ~1e-12, rounding ~1e-10")
SCALE = Tolerance("scale", GRADIENT.rtol, GRADIENT.atol, "c times the numerical gradient: the budget of gradient")
FLOAT32 = Tolerance("float32", 1e-4, 1e-5, "float32 epsilon 1.2e-7, a few operations deep")
LOSS = Tolerance("loss", 1e-7, 1e-9, "float64; a student's clip at 1e-10..1e-12 stays far below")
TRAJECTORY = Tolerance("trajectory", 1e-6, 1e-9, "50 steps of a few flops; each named mistake differs by 1e-3")
FACTOR = Tolerance("factor", 1e-6, 1e-8, "a constant fitted to float64 arrays is the one named (1, 1/B, B)")
PREDICTION = Tolerance("prediction", 1e-6, 1e-10, "a model's gradients equal a known bug's, computed the same way")
EXACT = Tolerance("exact", 1e-10, 1e-12, "appendix_a's short decimals, compared as the assignment does")
ROWS = Tolerance("rows", 0.0, 1e-10, "softmax rows: a sum of a few probabilities is 1")
DROPOUT = Tolerance("dropout", 1e-9, 1e-8, "a kept unit is x / (1 - p): one division")
NAMING = Tolerance("naming", 1e-5, 1e-8, "numpy's default, for naming only: a wrong factor (2, 1/2, 1/B), ReLU'(0)")
CERTAIN = Tolerance("certain", 0.0, 1e-6, "cross-entropy of a certain classification is 0; a clip at 1e-7 stays below")

TOLERANCES = (FORWARD, GRADIENT, SCALE, FLOAT32, LOSS, TRAJECTORY, FACTOR, PREDICTION, EXACT, ROWS, DROPOUT, NAMING,
              CERTAIN)
