"""Central differences of L = (f - y)^2 / 2 for every parameter of a OneHiddenLayerMLP."""
import numpy as np


def _loss(model, x, y):
    f = model.forward(x)
    return 0.5 * (f - y) ** 2


def check_all_gradients(model, x, y, epsilon=1e-5, threshold=1e-7):
    f = model.forward(x)
    analytical = model.backward(x, y, f)
    params = model.get_parameters()
    results = {}
    for name, value in params.items():
        numerical = np.zeros_like(value)
        for ix in np.ndindex(value.shape):
            old = value[ix]
            value[ix] = old + epsilon
            model.set_parameters({name: value})
            plus = _loss(model, x, y)
            value[ix] = old - epsilon
            model.set_parameters({name: value})
            minus = _loss(model, x, y)
            value[ix] = old
            model.set_parameters({name: value})
            numerical[ix] = (plus - minus) / (2 * epsilon)
        grad = analytical["dL_d" + name]
        error = np.linalg.norm(grad - numerical) / max(np.linalg.norm(grad) + np.linalg.norm(numerical), 1e-12)
        results[name] = {"error": float(error), "passed": bool(error < threshold)}
    return results
