"""Style ``dense_net`` (assignment 003): ``Dense(input_dim, output_dim, activation=None)`` with
``params``/``grads`` dicts and W (out, in), ``NeuralNetwork(layer_sizes, activations,
learning_rate)``, losses on one-hot targets. Its tables are data (``styles.toml``); what differs
in behaviour is its gradient checker, ``check_gradients(network, X, y, loss_fn)``, which takes a
whole network and a loss object rather than a layer: it is handed the student's classes with the
kit's maths in them, so the student's own layers never decide its verdict."""
from __future__ import annotations

import numpy as np

from conformance.adapters._common import construct, find, interpret_check, need, one_hot, quiet
from conformance.adapters.standins import DictIO, loss_stand_in, network_stand_in, step_default, step_kwargs
from conformance.adapters.style import StyleAdapter


class DenseNetAdapter(StyleAdapter.for_style("dense_net")):
    def _network(self, sizes, hidden, task, seed=0):
        name, Net = need(self.namespace, "whole model", "NeuralNetwork")
        acts = [self._activation(hidden) for _ in sizes[2:]]
        acts.append(self._activation("softmax") if task == "classification" else None)
        return name, construct(Net, list(sizes), activations=acts, seed=seed)

    def gradient_checker(self):
        """The student's checker, at its own defaults, on the student's NeuralNetwork and
        cross-entropy class with the kit's maths in them (``standins.py``): 4-5-3, a linear or a
        tanh case, correct or with the kit's bug, one-hot labels."""
        name, check = need(self.namespace, "gradient-checking function", "check_gradients", "gradient_check")
        _, Loss = need(self.namespace, "cross-entropy loss", "CrossEntropyLoss", "CrossEntropy")

        def run(planted_bug, seed: int, nonlinear: bool = False, step_factor: float = 1.0):
            rng = np.random.default_rng(seed)
            sizes = [4, 5, 3]
            _, net = self._network(sizes, "tanh" if find(self.namespace, "Tanh") else "relu", "classification", seed)
            layers = [layer for layer in net.layers if isinstance(getattr(layer, "params", None), dict)
                      and "W" in layer.params]
            io = DictIO(in_out=np.shape(layers[0].params["W"]) == (sizes[0], sizes[1]))
            act, state = "tanh" if nonlinear else "identity", {}
            network_stand_in(net, layers, io, "forward", "backward", act, planted_bug, seed, state)
            loss = loss_stand_in(construct(Loss), state, act)
            X, y = rng.normal(size=(5, 4)), one_hot(rng.integers(0, 3, size=5), 3)
            with quiet():
                return interpret_check(check(net, X, y, loss, **step_kwargs(check, step_factor)))

        run.step = step_default(check)
        return run
