"""A correct implementation in the canonical style (the kit's reference API), written as a
student following SPEC.md would: every backward is the exact vector-Jacobian product of its
forward; only the loss averages over the batch. Randomness comes from ``rng`` arguments."""
import numpy as np


def _rng(rng):
    return np.random.default_rng() if rng is None else rng


def he_normal(fan_in, fan_out, rng=None):
    return _rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))


def he_uniform(fan_in, fan_out, rng=None):
    limit = np.sqrt(6.0 / fan_in)
    return _rng(rng).uniform(-limit, limit, size=(fan_out, fan_in))


def xavier_normal(fan_in, fan_out, rng=None):
    return _rng(rng).normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_out, fan_in))


def xavier_uniform(fan_in, fan_out, rng=None):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-limit, limit, size=(fan_out, fan_in))


INITIALISERS = {"he": he_normal, "xavier": xavier_normal}


class Module:
    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True

    def __call__(self, x):
        return self.forward(x)

    def train(self):
        self.training = True

    def eval(self):
        self.training = False


class Linear(Module):
    def __init__(self, in_features, out_features, *, rng=None, init="he", dtype=np.float64):
        super().__init__()
        self.params["W"] = INITIALISERS[init](in_features, out_features, rng).astype(dtype)
        self.params["b"] = np.zeros(out_features, dtype=dtype)

    def forward(self, x):
        self.x = x
        return x @ self.params["W"].T + self.params["b"]

    def backward(self, dy):
        self.grads["W"] = dy.T @ self.x  # (out, B) @ (B, in)
        self.grads["b"] = dy.sum(axis=0)
        return dy @ self.params["W"]


class ReLU(Module):
    def forward(self, x):
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, dy):
        return dy * self.mask


class Sigmoid(Module):
    def forward(self, x):
        self.y = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic
        return self.y

    def backward(self, dy):
        return dy * self.y * (1 - self.y)


class Tanh(Module):
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        return dy * (1 - self.y ** 2)


class Softmax(Module):
    def forward(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        self.y = e / e.sum(axis=1, keepdims=True)
        return self.y

    def backward(self, dy):
        dot = np.sum(dy * self.y, axis=1, keepdims=True)
        return self.y * (dy - dot)


class Flatten(Module):
    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self.shape)


class BatchNorm1d(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.params["gamma"] = np.ones(num_features)
        self.params["beta"] = np.zeros(num_features)
        self.running_mean = np.zeros(num_features)
        self.running_var = np.ones(num_features)

    def forward(self, x):
        if not self.training:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.params["gamma"] * x_hat + self.params["beta"]
        mean = x.mean(axis=0)
        var = x.var(axis=0)
        n = x.shape[0]
        self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
        self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / max(n - 1, 1)
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.x_hat + self.params["beta"]

    def backward(self, dy):
        self.grads["gamma"] = np.sum(dy * self.x_hat, axis=0)
        self.grads["beta"] = dy.sum(axis=0)
        g = dy * self.params["gamma"]
        return self.inv_std * (g - g.mean(axis=0) - self.x_hat * (g * self.x_hat).mean(axis=0))


class LayerNorm(Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.params["gamma"] = np.ones(num_features)
        self.params["beta"] = np.zeros(num_features)

    def forward(self, x):
        mu = x.mean(axis=1, keepdims=True)
        sigma2 = x.var(axis=1, keepdims=True)
        self.rstd = 1.0 / np.sqrt(sigma2 + self.eps)
        self.xn = (x - mu) * self.rstd
        return self.xn * self.params["gamma"] + self.params["beta"]

    def backward(self, dy):
        self.grads["gamma"] = (dy * self.xn).sum(axis=0)
        self.grads["beta"] = dy.sum(axis=0)
        dxn = dy * self.params["gamma"]
        return self.rstd * (dxn - dxn.mean(axis=1, keepdims=True) - self.xn * (dxn * self.xn).mean(axis=1, keepdims=True))


class Dropout(Module):
    """Inverted dropout: kept units are scaled by 1/(1-p) in training; identity in eval."""

    def __init__(self, p=0.5, *, rng=None):
        super().__init__()
        self.p = p
        self.rng = _rng(rng)

    def forward(self, x):
        if not self.training or self.p == 0:
            self.mask = np.ones_like(x)
            return x
        self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return x * self.mask

    def backward(self, dy):
        return dy * self.mask


class Conv2D(Module):
    """Cross-correlation on NCHW inputs; W (out_c, in_c, kh, kw)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, *, rng=None):
        super().__init__()
        k = kernel_size
        fan_in = in_channels * k * k
        self.params["W"] = _rng(rng).normal(0.0, np.sqrt(2.0 / fan_in), size=(out_channels, in_channels, k, k))
        self.params["b"] = np.zeros(out_channels)
        self.stride = stride
        self.padding = padding

    def forward(self, x):
        p, s = self.padding, self.stride
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        self.x_shape = x.shape
        oc, _, kh, kw = self.params["W"].shape
        n, _, h, w = self.xp.shape
        oh, ow = (h - kh) // s + 1, (w - kw) // s + 1
        out = np.zeros((n, oc, oh, ow))
        for i in range(oh):
            for j in range(ow):
                patch = self.xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
                out[:, :, i, j] = np.tensordot(patch, self.params["W"], axes=([1, 2, 3], [1, 2, 3]))
        return out + self.params["b"][None, :, None, None]

    def backward(self, dy):
        p, s = self.padding, self.stride
        _, _, kh, kw = self.params["W"].shape
        dW = np.zeros_like(self.params["W"])
        dxp = np.zeros_like(self.xp)
        for i in range(dy.shape[2]):
            for j in range(dy.shape[3]):
                patch = self.xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
                dW += np.tensordot(dy[:, :, i, j], patch, axes=([0], [0]))
                dxp[:, :, i * s:i * s + kh, j * s:j * s + kw] += np.tensordot(dy[:, :, i, j], self.params["W"], axes=([1], [0]))
        self.grads["W"] = dW
        self.grads["b"] = dy.sum(axis=(0, 2, 3))
        h, w = self.x_shape[2], self.x_shape[3]
        return dxp[:, :, p:p + h, p:p + w]


class MaxPool2D(Module):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.k = kernel_size
        self.s = stride or kernel_size

    def forward(self, x):
        k, s = self.k, self.s
        n, c, h, w = x.shape
        oh, ow = (h - k) // s + 1, (w - k) // s + 1
        self.x = x
        out = np.zeros((n, c, oh, ow))
        for i in range(oh):
            for j in range(ow):
                out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
        self.out = out
        return out

    def backward(self, dy):
        k, s = self.k, self.s
        dx = np.zeros_like(self.x)
        for i in range(dy.shape[2]):
            for j in range(dy.shape[3]):
                window = self.x[:, :, i * s:i * s + k, j * s:j * s + k]
                mask = window == self.out[:, :, i, j][:, :, None, None]
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dy[:, :, i, j][:, :, None, None]
        return dx


class Sequential(Module):
    def __init__(self, *layers):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def parameters(self):
        return [(layer.params, layer.grads) for layer in self.layers if layer.params]

    def train(self):
        for layer in self.layers:
            layer.train()

    def eval(self):
        for layer in self.layers:
            layer.eval()


def _as_onehot(labels, classes):
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.astype(float)
    out = np.zeros((labels.shape[0], classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


class SoftmaxCrossEntropy:
    def forward(self, logits, labels):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.probs = np.exp(log_probs)
        self.onehot = _as_onehot(labels, logits.shape[1])
        return float(-np.sum(self.onehot * log_probs) / logits.shape[0])

    def backward(self):
        batch_size = self.probs.shape[0]
        grad = self.probs - self.onehot
        return grad / batch_size


class CrossEntropy:
    """Cross-entropy on probabilities; backward is d(mean loss)/d(probs)."""

    def forward(self, probs, labels):
        self.probs = np.clip(probs, 1e-300, 1.0)
        self.onehot = _as_onehot(labels, probs.shape[1])
        return float(-np.sum(self.onehot * np.log(self.probs)) / probs.shape[0])

    def backward(self):
        batch_size = self.probs.shape[0]
        grad = -self.onehot / self.probs
        return grad / batch_size


class MSELoss:
    """Mean over all entries of (pred - target)^2."""

    def forward(self, pred, target):
        self.diff = pred - target
        return float(np.mean(self.diff ** 2))

    def backward(self):
        grad = 2 * self.diff
        return grad / self.diff.size


class SGD:
    """form="classical": v = momentum*v + g; form="ema": v = momentum*v + (1-momentum)*g; p -= lr*v."""

    def __init__(self, parameters, lr, momentum=0.0, form="classical"):
        self.parameters = list(parameters)
        self.lr = lr
        self.momentum = momentum
        self.form = form
        self.velocity = [{k: np.zeros_like(v) for k, v in p.items()} for p, _ in self.parameters]

    def step(self):
        for (params, grads), velocity in zip(self.parameters, self.velocity):
            for key in params:
                scale = 1 - self.momentum if self.form == "ema" else 1.0
                velocity[key] = self.momentum * velocity[key] + scale * grads[key]
                params[key] -= self.lr * velocity[key]


class Adam:
    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.parameters = list(parameters)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = [{k: np.zeros_like(v) for k, v in p.items()} for p, _ in self.parameters]
        self.v = [{k: np.zeros_like(v) for k, v in p.items()} for p, _ in self.parameters]

    def step(self):
        self.t += 1
        for (params, grads), m, v in zip(self.parameters, self.m, self.v):
            for key in params:
                m[key] = self.beta1 * m[key] + (1 - self.beta1) * grads[key]
                v[key] = self.beta2 * v[key] + (1 - self.beta2) * grads[key] ** 2
                m_hat = m[key] / (1 - self.beta1 ** self.t)
                v_hat = v[key] / (1 - self.beta2 ** self.t)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + eps
        plus = f()
        x[ix] = old - eps
        minus = f()
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def check_gradients(layer, x, dy):
    """Largest relative error between the layer's backward and central differences of
    sum(forward(x) * dy), over the input and every parameter."""
    x = np.array(x, dtype=float)
    layer.forward(x)
    dx = layer.backward(dy)
    analytical = {"x": dx, **{k: np.array(v) for k, v in layer.grads.items()}}
    targets = {"x": x, **layer.params}
    errors = [relative_error(analytical[k], numerical_gradient(lambda: np.sum(layer.forward(x) * dy), targets[k]))
              for k in analytical]
    return max(errors)


class OneHiddenLayerMLP:
    """Single-sample MLP: f = W2 phi(W1 x + b1) + b2, L = (f - y)^2 / 2."""

    def __init__(self, input_dim, hidden_dim, activation="relu", *, rng=None):
        rng = _rng(rng)
        self.phi = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}[activation]()
        init = he_normal if activation == "relu" else xavier_normal
        self.W1 = init(input_dim, hidden_dim, rng)
        self.b1 = np.zeros(hidden_dim)
        self.W2 = xavier_normal(hidden_dim, 1, rng)
        self.b2 = np.zeros(1)

    def forward(self, x):
        self.a1_cache = self.W1 @ x + self.b1
        self.h1_cache = self.phi.forward(self.a1_cache[None, :])[0]
        return float((self.W2 @ self.h1_cache + self.b2)[0])

    def backward(self, x, y, f):
        df = f - y
        dh1 = df * self.W2[0]
        da1 = self.phi.backward(dh1[None, :])[0]
        return {"dL_dW1": np.outer(da1, x), "dL_db1": da1,
                "dL_dW2": df * self.h1_cache[None, :], "dL_db2": np.array([df])}

    def get_parameters(self):
        return {"W1": self.W1.copy(), "b1": self.b1.copy(), "W2": self.W2.copy(), "b2": self.b2.copy()}

    def set_parameters(self, params):
        for name, value in params.items():
            setattr(self, name, np.array(value, dtype=float))
