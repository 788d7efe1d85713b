"""The zoo's stretch shapes: batchnorm, dropout, conv2d and layernorm written in APIs the kit has no names for.

Each shape is a student-style file in ``tests/zoo/stretch/<id>.py`` (numpy only, definitions only)
graded by the stretch tier (``STRETCH``: the suites of SPEC 18-20 and 22). ``expect`` gives the
verdict of the correct file for every stretch component it defines; one it does not define must
come out ``missing``. Every shape plants at least one bug per stretch component it defines, each a
mistake the stretch judges name. ``Bug`` and ``Shape`` are the unit catalogue's (``old`` occurs
exactly once).

>>> len(STRETCH_SHAPES) >= 4, all(s.bugs for s in STRETCH_SHAPES)
(True, True)
"""
from __future__ import annotations

from dataclasses import dataclass

from zoo.catalogue import Bug, Feature, Shape
from zoo.catalogue import feature as _f

STRETCH = ("batchnorm", "dropout", "conv2d", "layernorm")


@dataclass(frozen=True)
class StretchShape(Shape):
    @property
    def components(self) -> tuple[str, ...]:
        return STRETCH

    def expected(self) -> dict[str, str]:
        """Every stretch component's verdict for the correct version (undefined ones missing)."""
        return {c: self.expect.get(c, "missing") for c in STRETCH}


B = Bug
S = StretchShape
STRETCH_SHAPES: list[StretchShape] = [
    S("cs231n_stretch_functional", "stretch/cs231n_stretch_functional.py",
      "CS231n functions: batchnorm_forward(x, gamma, beta, bn_param) with momentum 0.9 weighting the old value and "
      "the biased running variance, dropout_forward(x, dropout_param) with p, mode and seed, conv_forward_naive(x, "
      "w, b, conv_param); each backward(dout, cache) returns dx and the parameter gradients",
      {"batchnorm": "pass", "dropout": "pass", "conv2d": "pass"},
      (B("bn-dx-no-mean-terms", "dx = (n * dxn - dxn.sum(axis=0) - xn * (dxn * xn).sum(axis=0)) / (n * std)",
         "dx = dxn / std", "batchnorm"),
       B("dropout-not-inverted", "mask = (np.random.rand(*x.shape) >= p) / (1 - p)",
         "mask = (np.random.rand(*x.shape) >= p) * 1.0", "dropout"),
       B("conv-db-averaged", "db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(0, 2, 3)) / dout.shape[0]",
         "conv2d"))),
    S("nnfs_stretch_layers", "stretch/nnfs_stretch_layers.py",
      "nnfs: Layer_BatchNorm(n_features) and Layer_Dropout(rate) with forward(inputs, training) storing self.output, "
      "backward(dvalues) storing self.dinputs; gamma/beta (1, F), dgamma/dbeta stored",
      {"batchnorm": "pass", "dropout": "pass"},
      (B("bn-running-stats-frozen",
         "            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean\n"
         "            self.running_variance = (1 - self.momentum) * self.running_variance + self.momentum * variance"
         " * n / (n - 1)\n", "            pass\n", "batchnorm"),
       B("bn-dx-no-mean-terms",
         "        self.dinputs = self.inv_std * (dnorm - np.mean(dnorm, axis=0, keepdims=True)\n"
         "                                       - self.normalised * np.mean(dnorm * self.normalised, axis=0, "
         "keepdims=True))", "        self.dinputs = self.inv_std * dnorm", "batchnorm"),
       B("dropout-new-mask-in-backward", "self.dinputs = dvalues * self.binary_mask",
         "self.dinputs = dvalues * np.random.binomial(1, self.rate, size=dvalues.shape) / self.rate", "dropout"))),
    S("keras_stretch_layers", "stretch/keras_stretch_layers.py",
      "Keras-like: BatchNormalization(dim, momentum=0.99, epsilon=1e-3) (momentum weights the old value, biased "
      "moving variance), LayerNormalization(dim), Dropout(rate, seed); __call__(inputs, training=False); "
      "gradients in a list",
      {"batchnorm": "pass", "dropout": "pass", "layernorm": "pass"},
      (B("bn-momentum-the-other-way",
         "            self.moving_mean = self.moving_mean * self.momentum + mean * (1 - self.momentum)\n"
         "            self.moving_variance = self.moving_variance * self.momentum + variance * (1 - self.momentum)\n",
         "            self.moving_mean = self.moving_mean * (1 - self.momentum) + mean * self.momentum\n"
         "            self.moving_variance = self.moving_variance * (1 - self.momentum) + variance * self.momentum\n",
         "batchnorm"),
       B("layernorm-over-batch",
         "        mean = inputs.mean(axis=-1, keepdims=True)\n        variance = inputs.var(axis=-1, keepdims=True)\n",
         "        mean = inputs.mean(axis=0, keepdims=True)\n        variance = inputs.var(axis=0, keepdims=True)\n",
         "layernorm"),
       B("dropout-rate-keeps", "self.keep = self.generator.random(inputs.shape) >= self.rate",
         "self.keep = self.generator.random(inputs.shape) < self.rate", "dropout"))),
    S("conv_own_names", "stretch/conv_own_names.py",
      "Convolution(filters, kernel, in_depth, stride, pad) with the kernel stored (kh, kw, in, out), fprop(images) "
      "on NCHW, bprop(grad_out) returning dx and storing kernel_grad/offset_grad",
      {"conv2d": "pass"},
      (B("conv-flipped-kernel", 'np.einsum("nchw,hwcf->nf", patch, self.kernel)',
         'np.einsum("nchw,hwcf->nf", patch, self.kernel[::-1, ::-1])', "conv2d"),
       B("conv-db-averaged", "self.offset_grad = grad_out.sum(axis=(0, 2, 3))",
         "self.offset_grad = grad_out.sum(axis=(0, 2, 3)) / grad_out.shape[0]", "conv2d"))),
]

STRETCH_BY_ID = {s.id: s for s in STRETCH_SHAPES}


STRETCH_COVERAGE: list[Feature] = [
    _f("functional pairs f(x, ..., param dict) -> (out, cache)", "cs231n_stretch_functional",
       r"^def (batchnorm|dropout|conv)_forward(_naive)?\(x, .*(bn|dropout|conv)_param\):"),
    _f("momentum weighting the old value (default above 0.5)", "cs231n_stretch_functional keras_stretch_layers",
       r"(get\(\"momentum\", 0\.9\)|momentum=0\.99)"),
    _f("train/eval by a forward argument", "nnfs_stretch_layers keras_stretch_layers",
       r"def (forward|__call__)\(self, inputs, training(=False)?\):"),
    _f("train/eval by a mode key", "cs231n_stretch_functional", r"\[\"mode\"\]"),
    _f("output stored in self.output, dx in self.dinputs", "nnfs_stretch_layers", r"self\.dinputs = "),
    _f("gamma/beta (1, F)", "nnfs_stretch_layers", r"np\.ones\(\(1, n_features\)\)"),
    _f("dropout named by rate", "nnfs_stretch_layers keras_stretch_layers", r"def __init__\(self, rate"),
    _f("conv weight (kh, kw, in, out)", "conv_own_names", r"np\.random\.randn\(kernel, kernel, in_depth, filters\)"),
]
