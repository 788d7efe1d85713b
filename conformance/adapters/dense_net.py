"""Style ``dense_net`` (assignment 003): ``Dense(input_dim, output_dim, activation=None)`` with
``params``/``grads`` dicts and W (out, in), ``NeuralNetwork(layer_sizes, activations,
learning_rate)``, losses on one-hot targets. Its tables are data (``styles.toml``); what differs
in behaviour is its gradient checker, ``check_gradients(network, X, y, loss_fn)``, which takes a
whole network and a loss object rather than a layer."""
from __future__ import annotations

import numpy as np

from conformance.adapters._common import construct, find, interpret_check, need, one_hot, plant_bug, quiet
from conformance.adapters.style import StyleAdapter


class DenseNetAdapter(StyleAdapter.for_style("dense_net")):
    def _network(self, sizes, hidden, task, seed=0):
        name, Net = need(self.namespace, "whole model", "NeuralNetwork")
        acts = [self._activation(hidden) for _ in sizes[2:]]
        acts.append(self._activation("softmax") if task == "classification" else None)
        return name, construct(Net, list(sizes), activations=acts, seed=seed)

    def gradient_checker(self):
        """The student's checker on the student's NeuralNetwork and cross-entropy, correct or with
        every parameter gradient scaled by 1.5 after backward."""
        name, check = need(self.namespace, "gradient-checking function", "check_gradients", "gradient_check")
        _, Loss = need(self.namespace, "cross-entropy loss", "CrossEntropyLoss", "CrossEntropy")

        def scale_param_grads(result, net):
            for layer in net.layers:
                for k, g in list(getattr(layer, "grads", {}).items()):
                    layer.grads[k] = np.asarray(g) * 1.5
            return result

        def run(planted_bug: bool, seed: int):
            rng = np.random.default_rng(seed)
            _, net = self._network([4, 5, 3], "tanh" if find(self.namespace, "Tanh") else "relu", "classification", seed)
            if planted_bug:
                plant_bug(net, scale_param_grads)
            X, y = rng.normal(size=(5, 4)), one_hot(rng.integers(0, 3, size=5), 3)
            with quiet():
                return interpret_check(check(net, X, y, construct(Loss)))

        return run
