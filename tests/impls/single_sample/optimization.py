"""SGD over a batch: the mean of the per-sample gradients; train() and evaluate()."""
import numpy as np


class SGD:
    def __init__(self, learning_rate=0.01):
        self.learning_rate = learning_rate

    def step(self, model, grads):
        params = model.get_parameters()
        for name in params:
            params[name] = params[name] - self.learning_rate * grads["dL_d" + name]
        model.set_parameters(params)


def batch_gradients(model, X, y):
    total = None
    loss = 0.0
    for x_i, y_i in zip(X, y):
        f = model.forward(x_i)
        loss += 0.5 * (f - y_i) ** 2
        grads = model.backward(x_i, y_i, f)
        total = grads if total is None else {k: total[k] + grads[k] for k in total}
    n = len(X)
    return loss / n, {k: v / n for k, v in total.items()}


def evaluate(model, X, y, threshold=0.5):
    preds = np.array([model.forward(x_i) for x_i in X])
    loss = float(np.mean(0.5 * (preds - y) ** 2))
    accuracy = float(np.mean((preds >= threshold).astype(int) == y))
    return {"loss": loss, "accuracy": accuracy}


def train(model, X, y, optimizer, n_epochs=100, batch_size=32, X_val=None, y_val=None,
          verbose=False, print_every=10, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    history = {"train_loss": [], "val_loss": []}
    for epoch in range(n_epochs):
        order = rng.permutation(len(X))
        losses = []
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            loss, grads = batch_gradients(model, X[idx], y[idx])
            optimizer.step(model, grads)
            losses.append(loss)
        history["train_loss"].append(float(np.mean(losses)))
        if X_val is not None:
            history["val_loss"].append(evaluate(model, X_val, y_val)["loss"])
        if verbose and epoch % print_every == 0:
            print(f"epoch {epoch}: loss {history['train_loss'][-1]:.4f}")
    return history
