"""The zoo's whole-network shapes (issue #12): containers, optimisers, training, two autograd engines.

Each shape is a student-style file in ``tests/zoo/networks/<id>.py`` (numpy only, definitions only,
its own layers, activations and loss). ``expect`` gives the verdict of the correct file for the
whole-network components (``NETWORK``); a component not listed must come out ``missing``. ``drive``
says in one line how the shape is built at sizes [5, 7, 4], where its parameters and gradients
are, and how it steps: the calling conventions discovery has to find by behaviour.

The bugs are ones only the whole chain reveals: every layer, activation and loss still passes
its unit check (a layer that averages over the batch is an allowed convention; so is a loss
whose gradient is d/dlogits), but the network's gradients, its optimiser or its training are
wrong. ``Bug`` and ``Shape`` are the unit catalogue's (``old`` occurs exactly once).

What the kit does not get right yet is in ``NETWORK_KNOWN_GAPS``, each with its reason.

Every correct file was checked outside the kit: gradients against central differences of its own
loss (max relative error <= 1e-8), its optimisers against the textbook trajectories on a
quadratic, and XOR (2-8-2, 200 epochs) and spiral (2-64-32-3, 300 epochs) at lr 0.1 with its own
update, as the kit's loop does (on a scalar engine, spiral's task for one: 2-16-3, 60 epochs, lr 0.5).

>>> len(NETWORK_SHAPES) >= 16, all(s.bugs for s in NETWORK_SHAPES)
(True, True)
"""
from __future__ import annotations

from dataclasses import dataclass

from conformance.components import COMPONENTS
from zoo.catalogue import Bug, Feature, Shape
from zoo.catalogue import feature as _f

TRAINING = ("training_xor", "training_spiral")
NETWORK = tuple(c for c in ("model_gradcheck", "sgd", "momentum", "adam", "gradient_checker", "autograd", *TRAINING)
                if c in COMPONENTS)
WRONG_GRADIENTS = TRAINING  # what a wrong network gradient may fail besides model_gradcheck
CHECKED_GRADIENTS = ("gradient_checker", *TRAINING)  # the same in a shape with its own gradient checker


@dataclass(frozen=True)
class NetworkShape(Shape):
    drive: str = ""  # build at [5, 7, 4]; parameters and gradients; the update
    units: tuple[str, ...] = ()  # unit components graded with the network tier (an mse only a scalar engine holds)

    @property
    def components(self) -> tuple[str, ...]:
        return NETWORK + self.units

    def expected(self) -> dict[str, str]:
        """Every graded component's verdict for the correct version (undefined ones missing)."""
        return {c: self.expect.get(c, "missing") for c in self.components}


def _pass(*components: str, **others: str) -> dict[str, str]:
    return {**{c: "pass" for c in components}, **others}


ALL_OPTIMISERS = ("sgd", "momentum", "adam")
B = Bug
S = NetworkShape
NETWORK_SHAPES: list[NetworkShape] = [
    S("seq_varargs_held_params", "networks/seq_varargs_held_params.py",
      "Sequential(*layers) of layers with params/grads dicts (W (in, out)); fused CrossEntropyLoss on logits; "
      "SGD/Momentum/Adam(model.parameters(), lr) then step() with no argument; gradient_check(model, loss, x, y)",
      _pass("model_gradcheck", *ALL_OPTIMISERS, "gradient_checker", *TRAINING),
      (B("double-batch-average",
         '        self.grads["W"][...] = self.x.T @ dout\n        self.grads["b"][...] = dout.sum(axis=0)\n',
         '        self.grads["W"][...] = self.x.T @ dout / len(dout)\n'
         '        self.grads["b"][...] = dout.sum(axis=0) / len(dout)\n', "model_gradcheck", also=CHECKED_GRADIENTS),
       B("momentum-sign", "params[key] -= self.lr * vel[key]", "params[key] += self.lr * vel[key]", "momentum"),
       B("adam-no-bias-correction", "m_hat = m[key] / (1 - self.beta1 ** self.t)", "m_hat = m[key]", "adam")),
      drive="Sequential(Linear(5, 7), ReLU(), Linear(7, 4)); loss = CrossEntropyLoss(); "
            "loss.forward(model.forward(x), labels); model.backward(loss.backward()); params/grads: "
            "model.parameters() -> [(layer.params, layer.grads)] ({'W' (in, out), 'b' (out,)}, grads written in "
            "place); SGD(model.parameters(), lr).step(), Momentum(..., lr, momentum), Adam(..., lr, beta1, beta2, eps)"),
    S("seq_list_step_model", "networks/seq_list_step_model.py",
      "Sequential([layers]) ending in a Softmax layer; CrossEntropy(probs, labels) whose backward is already "
      "d/dlogits, so the container's backward skips the softmax; SGD/MomentumSGD/Adam(lr).step(model), state per layer",
      _pass("model_gradcheck", *ALL_OPTIMISERS, *TRAINING),
      (B("softmax-jacobian-on-dlogits",
         "        layers = self.layers[:-1] if isinstance(self.layers[-1], Softmax) else self.layers\n",
         "        layers = self.layers\n", "model_gradcheck", also=WRONG_GRADIENTS),
       B("momentum-sign-mixed-conventions", "            layer.W += vW\n            layer.b += vb\n",
         "            layer.W -= vW\n            layer.b -= vb\n", "momentum")),
      drive="Sequential([Dense(5, 7), ReLU(), Dense(7, 4), Softmax()]) (outputs probabilities); "
            "loss = CrossEntropy(); loss.forward(model.forward(x), labels); model.backward(loss.backward()); "
            "Dense.W (out, in), b (out,), dW/db rebound by backward; SGD(lr).step(model) walks model.layers; "
            "MomentumSGD(lr, momentum) (v = m v - lr g, W += v), Adam(lr, beta1, beta2, eps), state keyed by id(layer)"),
    S("seq_add_update_params", "networks/seq_add_update_params.py",
      "Sequential().add(layer), book style: weights (in, out), biases (1, out), dweights/dbiases; Softmax layer and "
      "CategoricalCrossentropy.backward(probs, y_true) on probabilities; optimiser.update_params(layer), state on the layer",
      _pass("model_gradcheck", *ALL_OPTIMISERS, *TRAINING),
      (B("double-batch-average",
         "        self.dweights = np.dot(self.inputs.T, dvalues)\n"
         "        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)\n",
         "        self.dweights = np.dot(self.inputs.T, dvalues) / len(dvalues)\n"
         "        self.dbiases = np.sum(dvalues, axis=0, keepdims=True) / len(dvalues)\n",
         "model_gradcheck", also=WRONG_GRADIENTS),
       B("adam-second-moment-corrected-with-beta1", 'w_v_hat = s["w_v"] / (1 - b2 ** s["t"])',
         'w_v_hat = s["w_v"] / (1 - b1 ** s["t"])', "adam")),
      drive="net = Sequential(); net.add(LinearLayer(5, 7)); net.add(ReLUActivation()); net.add(LinearLayer(7, 4)); "
            "net.add(SoftmaxActivation()) (outputs probabilities); p = net.forward(x); loss = CategoricalCrossentropy(); "
            "loss.forward(p, y); net.backward(loss.backward(p, y)) (d/dprobs, through the softmax); layer.weights/biases, "
            "dweights/dbiases; SGDOptimizer(learning_rate, momentum=0.).update_params(layer) for each LinearLayer, "
            "AdamOptimizer(learning_rate, beta_1, beta_2, epsilon).update_params(layer); state in layer.optimizer_state"),
    S("mlp_sizes_step_model", "networks/mlp_sizes_step_model.py",
      "MLP(layer_sizes) building its own Linear/ReLU (W (in, out)), logits out; loss as functions cross_entropy/"
      "cross_entropy_grad(logits, y); SGD/Momentum (EMA form)/Adam.step(model); grad_check(model, x, y)",
      _pass("model_gradcheck", *ALL_OPTIMISERS, "gradient_checker", *TRAINING),
      (B("momentum-ema-sign", "vW = self.beta * vW + (1 - self.beta) * layer.dW",
         "vW = self.beta * vW - (1 - self.beta) * layer.dW", "momentum"),
       B("adam-step-count-per-parameter",
         "        self.t += 1\n        for i, layer in enumerate(model.linear_layers()):\n"
         "            for j, (param, grad) in enumerate(((layer.W, layer.dW), (layer.b, layer.db))):\n",
         "        for i, layer in enumerate(model.linear_layers()):\n"
         "            for j, (param, grad) in enumerate(((layer.W, layer.dW), (layer.b, layer.db))):\n"
         "                self.t += 1\n", "adam")),
      drive="model = MLP([5, 7, 4]); z = model.forward(x); cross_entropy(z, y); model.backward(cross_entropy_grad(z, y)); "
            "model.linear_layers() -> Linear with W (in, out), b (out,), dW/db; SGD(lr).step(model), "
            "Momentum(lr, beta) (EMA), Adam(lr, beta1, beta2, eps); grad_check(model, x, y) -> relative error"),
    S("mlp_three_ints", "networks/mlp_three_ints.py",
      "one class MLP(n_inputs, n_hidden, n_classes) with W1, b1, W2, b2 attributes, tanh hidden, softmax output, "
      "loss(X, y), backward(y) filling dW1..; update as a method sgd_step(lr); Adam(lr, betas).step(model) keyed by name",
      _pass("model_gradcheck", "sgd", "adam", "training_xor",
            training_spiral="missing"),  # one hidden layer only: it cannot be built at 2-64-32-3
      (B("double-batch-average-output-layer", "        self.dW2 = self.h.T @ dz2\n        self.db2 = dz2.sum(axis=0)\n",
         "        self.dW2 = self.h.T @ dz2 / n\n        self.db2 = dz2.sum(axis=0) / n\n", "model_gradcheck",
         also=WRONG_GRADIENTS),
       B("adam-second-moment-not-squared", "(1 - b2) * g ** 2", "(1 - b2) * np.abs(g)", "adam")),
      drive="model = MLP(5, 7, 4) (seed=0 keyword); probs = model.forward(X) or model.loss(X, y); model.backward(y) "
            "(uses the cached forward); W1 (in, hidden), b1 (hidden,), W2, b2 and dW1, db1, dW2, db2 attributes; "
            "model.sgd_step(lr); Adam(lr, betas=(b1, b2), eps).step(model) through model.params_and_grads()"),
    S("dense_net_activations_lr", "networks/dense_net_activations_lr.py",
      "NeuralNetwork(layer_sizes, activations, lr) of Dense(in, out, activation name); one-hot targets; the softmax "
      "output layer takes d/dlogits from the loss; update(lr) on every layer, network.update() with its own lr",
      _pass("model_gradcheck", "sgd", *TRAINING),
      (B("softmax-jacobian-on-dlogits",
         "        if self.activation == \"softmax\":\n            dZ = dA  # the loss already gave d/dlogits\n",
         "        if self.activation == \"softmax\":\n"
         "            dZ = self.A * (dA - np.sum(dA * self.A, axis=1, keepdims=True))\n",
         "model_gradcheck", also=WRONG_GRADIENTS),
       B("double-batch-average",
         "        self.dW = self.X.T @ dZ\n        self.db = dZ.sum(axis=0, keepdims=True)\n",
         "        self.dW = self.X.T @ dZ / len(dZ)\n        self.db = dZ.sum(axis=0, keepdims=True) / len(dZ)\n",
         "model_gradcheck", also=WRONG_GRADIENTS)),
      drive="net = NeuralNetwork([5, 7, 4], ['relu', 'softmax'], lr=0.1) (one activation per layer); P = net.forward(X) "
            "(probabilities); categorical_cross_entropy(Y one-hot, P); net.backward(Y, P) (computes the loss gradient "
            "itself); layer.W (in, out), b (1, out), dW/db; layer.update(lr) or net.update() (uses net.lr)"),
    S("nn_layers_loss_step_params", "networks/nn_layers_loss_step_params.py",
      "NeuralNetwork(layers, loss): FullyConnected layers average their gradients over the batch, so the loss "
      "gradient is unscaled (p - y); compute_loss(x, t), backward(); opt.step(params, grads) on lists, state per index",
      _pass("model_gradcheck", *ALL_OPTIMISERS, *TRAINING),
      (B("double-batch-average", "        return delta  # the layers divide by the batch size\n",
         "        return delta / len(self.target)\n", "model_gradcheck", also=WRONG_GRADIENTS),
       B("momentum-sign", "self.velocities[i] = self.momentum * self.velocities[i] + g",
         "self.velocities[i] = self.momentum * self.velocities[i] - g", "momentum")),
      drive="net = NeuralNetwork([FullyConnected(5, 7), ReLU(), FullyConnected(7, 4)], SoftmaxCrossEntropy()); "
            "net.compute_loss(x, labels); net.backward() (starts from the loss); W (out, in), b (out,), grad_W/grad_b "
            "(averaged in the layer); SGD(lr)/SGDMomentum(lr, momentum)/Adam(lr, beta1, beta2, eps)"
            ".step(net.params(), net.grads()) with lists of arrays updated in place"),
    S("keras_add_fit", "networks/keras_add_fit.py",
      "Keras-like Sequential().add(Dense(units, activation=, input_dim=)), compile(loss, optimizer), fit(x, y, "
      "epochs, batch_size), predict(x); softmax output with its full Jacobian; optimiser.apply_gradients(zip(grads, "
      "vars)), slots per variable",
      _pass("model_gradcheck", *ALL_OPTIMISERS, *TRAINING),
      (B("softmax-jacobian-on-dlogits",
         "        g[rows, y_true] = -1.0 / np.clip(y_pred[rows, y_true], 1e-7, 1.0)\n        return g / len(y_true)\n",
         "        g = y_pred.copy()\n        g[rows, y_true] -= 1.0\n        return g / len(y_true)\n",
         "model_gradcheck", also=WRONG_GRADIENTS),
       B("momentum-sign", "                var += v\n", "                var -= v\n", "momentum"),
       B("adam-no-bias-correction", 'm_hat = slot["m"] / (1 - self.beta_1 ** slot["t"])', 'm_hat = slot["m"]', "adam")),
      drive="model = Sequential(); model.add(Dense(7, activation='relu', input_dim=5)); model.add(Dense(4, "
            "activation='softmax')); model.compile(loss=SparseCategoricalCrossentropy(), optimizer=SGD(learning_rate)); "
            "y_pred = model.predict(x); model.loss(y_true, y_pred), model.loss.gradient(y_true, y_pred) (d/dprobs); "
            "layer.backward(grad) in reverse; kernel (in, units), bias, kernel_grad/bias_grad; "
            "optimizer.apply_gradients(zip(grads, model.trainable_weights)) (or model.train_on_batch(x, y)); "
            "SGD(learning_rate, momentum), Adam(learning_rate, beta_1, beta_2, epsilon)"),
    S("model_add_layer_kind", "networks/model_add_layer_kind.py",
      "Model(input_dim).add_layer(kind, units=, activation=) building DenseLayer/DropoutLayer by name; the model "
      "owns its SoftmaxCrossEntropy (y_true one-hot, logits); update(lr) on the model steps every layer",
      _pass("model_gradcheck", "sgd", *TRAINING),
      (B("double-batch-average",
         "        self.dw = self.x.T @ grad_out\n        self.db = np.sum(grad_out, axis=0, keepdims=True)\n",
         "        self.dw = self.x.T @ grad_out / len(grad_out)\n"
         "        self.db = np.sum(grad_out, axis=0, keepdims=True) / len(grad_out)\n",
         "model_gradcheck", also=WRONG_GRADIENTS),),
      drive="m = Model(5); m.add_layer('dense', units=7, activation='relu'); m.add_layer('dense', units=4) (logits); "
            "loss = m.loss(Y one-hot, m.forward(x)); m.backward(m.loss.backward()); w (in, units), b (1, units), dw/db; "
            "m.update(lr) (or m.train_step(x, Y, lr))"),
    S("nielsen_network_sizes", "networks/nielsen_network_sizes.py",
      "Network(sizes) after the online book: weights/biases lists, column vectors, feedforward(a), backprop(x, y) -> "
      "(nabla_b, nabla_w) for one example, update_mini_batch(mini_batch, eta) averaging them; sigmoid everywhere; "
      "cost objects fn(a, y) / delta(z, a, y), cross-entropy by default",
      _pass("model_gradcheck", "sgd", *TRAINING),
      (B("delta-uses-activation-not-z", "            sp = sigmoid_prime(zs[-layer])\n",
         "            sp = sigmoid_prime(activations[-layer])\n", "model_gradcheck", also=WRONG_GRADIENTS),
       B("mini-batch-gradient-not-accumulated",
         "            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]\n"
         "            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]\n",
         "            nabla_b = delta_nabla_b\n            nabla_w = delta_nabla_w\n", "sgd",
         also=TRAINING)),  # the step is update_mini_batch: only the last example's gradient
      drive="net = Network([5, 7, 4]); per example x (5, 1), y one-hot (4, 1): net.cost.fn(net.feedforward(x), y) "
            "(network loss = mean over the batch), net.backprop(x, y) -> (nabla_b, nabla_w) (sum them / B); "
            "weights[l] (out, in), biases[l] (out, 1), lists rebound by update_mini_batch; "
            "net.update_mini_batch([(x, y), ...], eta) is the SGD step (it runs backprop itself)"),
    S("cs231n_two_layer", "networks/cs231n_two_layer.py",
      "functional model: TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale, reg) with a params dict, "
      "loss(X) -> scores, loss(X, y) -> (loss, grads); affine/relu (out, cache) functions; update rules "
      "sgd/sgd_momentum/adam(w, dw, config) -> (w, config); eval_numerical_gradient(f, x) and rel_error",
      _pass("model_gradcheck", *ALL_OPTIMISERS, "gradient_checker", *TRAINING),
      (B("double-batch-average", "    dw = x2.T @ dout\n    db = dout.sum(axis=0)\n",
         "    dw = x2.T @ dout / x.shape[0]\n    db = dout.sum(axis=0) / x.shape[0]\n", "model_gradcheck",
         also=CHECKED_GRADIENTS),
       B("momentum-sign", "    next_w = w + v\n", "    next_w = w - v\n", "momentum"),
       B("adam-no-bias-correction", 'm_hat = config["m"] / (1 - beta1 ** config["t"])', 'm_hat = config["m"]', "adam")),
      drive="net = TwoLayerNet(input_dim=5, hidden_dim=7, num_classes=4, weight_scale=1e-3, reg=0.0); "
            "net.params {'W1' (D, H), 'b1', 'W2' (H, C), 'b2'}; loss, grads = net.loss(X, y) (same keys); "
            "net.loss(X) -> scores; step: net.params[k], config[k] = sgd(net.params[k], grads[k], "
            "{'learning_rate': lr}), likewise sgd_momentum (config 'momentum', 'velocity') and adam (beta1, beta2, "
            "epsilon, m, v, t), one config per key; checker eval_numerical_gradient(f, x) + rel_error(a, b). "
            "Spiral needs two hidden layers: chain affine_forward/relu_forward/softmax_loss"),
    S("no_container_train_fn", "networks/no_container_train_fn.py",
      "no container: Layer(fan_in, fan_out, rng) with weights (in, out), grad_weights/grad_bias and update(lr); Relu, "
      "Sigmoid, SoftmaxCrossEntropyLoss; train(X, y, ...) builds two layers and chains them by hand",
      _pass("model_gradcheck", "sgd", *TRAINING),
      (B("double-batch-average",
         "        self.grad_weights = self.inputs.T @ grad\n        self.grad_bias = grad.sum(axis=0)\n",
         "        self.grad_weights = self.inputs.T @ grad / len(grad)\n        self.grad_bias = grad.sum(axis=0) / len(grad)\n",
         "model_gradcheck", also=WRONG_GRADIENTS),),
      drive="the kit chains Layer(5, 7), Relu(), Layer(7, 4) and SoftmaxCrossEntropyLoss (forward(scores, labels), "
            "backward()) itself; weights (in, out), bias (out,), grad_weights/grad_bias; layer.update(lr)"),
    S("micrograd_value_engine", "networks/micrograd_value_engine.py",
      "a micrograd-style engine over arrays: Value(data) with .grad and backward(); Layer(nin, nout), MLP(nin, nouts) "
      "with parameters()/zero_grad(); cross_entropy(logits Value, labels) from Value ops; the update written by hand",
      _pass("model_gradcheck", "autograd", *TRAINING),
      (B("sum-gradient-overwritten", "            self.grad += np.broadcast_to(g, self.data.shape)\n",
         "            self.grad = np.broadcast_to(g, self.data.shape)\n", "model_gradcheck",
         also=("autograd", *WRONG_GRADIENTS)),
       B("pow-gradient-missing-exponent", "self.grad += k * self.data ** (k - 1) * out.grad",
         "self.grad += self.data ** (k - 1) * out.grad", "model_gradcheck", also=("autograd", *WRONG_GRADIENTS))),
      drive="model = MLP(5, [7, 4]) (ReLU between, logits out); loss = cross_entropy(model(Value(x)), labels); "
            "model.zero_grad(); loss.backward(); model.parameters() -> [w (in, out), b (out,), ...] Values with .data/"
            ".grad; no optimiser: the kit's SGD p.data -= lr * p.grad (train() does the same by hand)"),
    S("functional_ops_engine", "networks/functional_ops_engine.py",
      "an engine with no operators: Node(array) .value/.grad, operations as functions add/mul/matmul/relu/total "
      "building closures, the graph walk a function run_backward(root) (a node's own backprop() is one step), "
      "gradients that add up until the node's zero_grad()",
      _pass("autograd"),
      (B("broadcast-operand-not-summed", "        b.grad += _unbroadcast(g, b.value.shape)\n",
         "        b.grad = b.grad + g\n", "autograd"),
       B("sum-gradient-assigned",
         "        a.grad += _unbroadcast(g, a.value.shape)\n        b.grad += _unbroadcast(g, b.value.shape)\n",
         "        a.grad = _unbroadcast(g, a.value.shape)\n        b.grad = _unbroadcast(g, b.value.shape)\n",
         "autograd")),
      drive="no network: the engine alone; x = Node(array); y = mul(x, Node(c)); run_backward(total(y)); x.grad"),
    S("micrograd_scalar_neurons", "networks/micrograd_scalar_neurons.py",
      "a scalar engine as in the famous lecture: Value holds one float, backward() sorts the graph recursively; "
      "Neuron(nin) with a list w of Values and a Value b, Layer(nin, nout) a list of neurons called on one sample "
      "as a list, MLP(nin, nouts) with ReLU between; parameters()/zero_grad(); no loss on arrays, no optimiser",
      _pass("model_gradcheck", "autograd", *TRAINING),
      (B("mul-gradient-overwritten", "            self.grad += other.data * out.grad\n",
         "            self.grad = other.data * out.grad\n", "model_gradcheck", also=("autograd", *WRONG_GRADIENTS)),
       B("relu-derivative-of-output", "self.grad += (out.data > 0) * out.grad",
         "self.grad += out.data * out.grad", "model_gradcheck", also=("autograd", *WRONG_GRADIENTS)),
       B("parameters-miss-biases", "        return self.w + [self.b]\n", "        return self.w\n", "autograd")),
      drive="model = MLP(5, [7, 4]); each sample a list of Values -> a list of 4 Values (one Value when nout == 1); "
            "W (out, in) stacked from the neurons' w lists, b from their b; the kit's cross-entropy on the numbers, "
            "sum(y * dL/dy) backpropagated by backward(); model.zero_grad() resets .grad; the kit's SGD on .data"),
    S("scalar_var_functional", "networks/scalar_var_functional.py",
      "a scalar engine of another shape: Var with .value/.adjoint and backprop() (an explicit stack, no "
      "recursion), maths as module functions tanh(v)/sigmoid(v)/exp(v)/log(v); Dense(n_in, n_out) holding a 2-D list "
      "W[i][j] (in, out) and a list b; Net(sizes) with tanh between; params()/clear_grads()",
      _pass("model_gradcheck", "autograd", *TRAINING),
      (B("add-adjoint-overwritten", "                parent.adjoint += local * node.adjoint\n",
         "                parent.adjoint = local * node.adjoint\n", "model_gradcheck",
         also=("autograd", *WRONG_GRADIENTS)),
       B("tanh-derivative-wrong", "return Var(t, ((v, 1.0 - t * t),))", "return Var(t, ((v, 1.0 - t),))",
         "model_gradcheck", also=("autograd", *WRONG_GRADIENTS)),
       B("clear-grads-misses-biases", "        return [w for row in self.W for w in row] + self.b\n",
         "        return [w for row in self.W for w in row]\n", "autograd")),
      drive="model = Net([5, 7, 4]); each sample a list of Vars -> a list of 4 Vars; W (in, out) from the 2-D list "
            "W[i][j], b from the list b; the kit's cross-entropy on the numbers, sum(y * dL/dy) backpropagated by "
            "backprop() into .adjoint; clear_grads() resets them; the kit's SGD on .value"),
    S("scalar_node_optimisers", "networks/scalar_node_optimisers.py",
      "a scalar engine whose nodes carry their chain rule: Node .val/.grad, rule(g) -> (input, share) pairs, "
      "backward() with an explicit stack; Module.parameters()/zero_grad(), Neuron/Layer/Net(sizes) over lists; "
      "SGD(params, lr)/Momentum(params, lr, momentum) over the flat parameter list, velocity keyed by id; "
      "mse(preds, targets) one fused Node with its rule written by hand",
      _pass("model_gradcheck", "sgd", "momentum", "autograd", "mse", *TRAINING),
      (B("momentum-sign", "            p.val -= self.lr * v\n", "            p.val += self.lr * v\n", "momentum"),
       B("mse-gradient-missing-2", "(p, g * 2.0 * d / n)", "(p, g * d / n)", "mse")),
      drive="model = Net([5, 7, 4]); each sample a list of Nodes -> a list of 4 Nodes; W (out, in) stacked from the "
            "neurons' weights lists, b from their biases; the kit's cross-entropy on the numbers, sum(y * dL/dy) "
            "backpropagated by backward(); opt = SGD(model.parameters(), lr) or Momentum(model.parameters(), lr, "
            "momentum); opt.zero_grad(); opt.step() on .val; mse([Nodes], [numbers]) -> one Node",
      units=("mse",)),
    S("tensor_module_engine", "networks/tensor_module_engine.py",
      "a torch-flavoured engine: Tensor (.grad None until reached), Parameter, Module.parameters() by walking "
      "attributes, Linear(in, out) weight (out, in), MLP(sizes); cross_entropy from Tensor ops (logsumexp); "
      "SGD(params, lr, momentum)/Adam(params, lr, betas, eps) with step()/zero_grad(), state per parameter",
      _pass("model_gradcheck", *ALL_OPTIMISERS, "autograd", *TRAINING),
      (B("gradient-not-accumulated", "self.grad = g.copy() if self.grad is None else self.grad + g",
         "self.grad = g.copy()", "model_gradcheck", also=("autograd", *WRONG_GRADIENTS)),
       B("momentum-sign", "                p.data -= self.lr * self.velocity[i]\n",
         "                p.data += self.lr * self.velocity[i]\n", "momentum")),
      drive="model = MLP([5, 7, 4]); model.zero_grad(); loss = cross_entropy(model(Tensor(x)), labels); loss.backward(); "
            "model.parameters() -> Parameters (weight (out, in), bias (out,)) with .data/.grad; opt = SGD(model."
            "parameters(), lr, momentum=0.0) or Adam(params, lr, betas=(b1, b2), eps); opt.zero_grad(); opt.step()"),
    S("ng_functional_deep", "networks/ng_functional_deep.py",
      "column-major functions of the famous course: parameters dict W1 (n1, n0), b1 (n1, 1)...; L_model_forward(X, "
      "parameters) -> (AL, caches) with a softmax output; compute_cost(AL, Y); L_model_backward -> grads dW/db "
      "averaged over m; update_parameters, update_parameters_with_momentum (EMA, v dict), update_parameters_with_adam",
      _pass("model_gradcheck", *ALL_OPTIMISERS, *TRAINING),
      (B("double-batch-average", "    dZ = AL - Y  # softmax and cross-entropy together; linear_backward divides by m\n",
         "    dZ = (AL - Y) / Y.shape[1]\n", "model_gradcheck", also=WRONG_GRADIENTS),
       B("momentum-sign",
         '        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * v["dW" + str(l)]\n',
         '        parameters["W" + str(l)] = parameters["W" + str(l)] + learning_rate * v["dW" + str(l)]\n', "momentum"),
       B("adam-bias-correction-without-t", "v_corrected = v[key] / (1 - beta1 ** t)", "v_corrected = v[key] / (1 - beta1)",
         "adam")),
      drive="parameters = initialize_parameters_deep([5, 7, 4]); AL, caches = L_model_forward(X.T, parameters) (columns); "
            "compute_cost(AL, Y one-hot (C, m)); grads = L_model_backward(AL, Y, caches) ('dW1', 'db1'...); "
            "parameters = update_parameters(parameters, grads, learning_rate) (returns a new dict); "
            "v = initialize_velocity(parameters), update_parameters_with_momentum(parameters, grads, v, beta, "
            "learning_rate) -> (parameters, v); v, s = initialize_adam(parameters), update_parameters_with_adam("
            "parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon) -> (parameters, v, s), t from 1"),
    S("ng_binary_one_hidden", "networks/ng_binary_one_hidden.py",
      "column-major functions with one hidden layer fixed by the code: make_params(n_in, n_hidden, n_out), "
      "run_forward(X, parameters) -> (prob, cache) asserting one sigmoid output, cost(A2, Y) a binary "
      "cross-entropy on a 0/1 row, backprop(parameters, cache, X, Y), step(parameters, grads, lr) naming W1..b2 "
      "by hand",
      _pass("model_gradcheck", "sgd", "training_xor",
            training_spiral="missing"),  # one hidden layer and one output: no 2-64-32-3 network, no three classes
      (B("output-bias-gradient-summed", "    db2 = np.sum(delta_out, axis=1, keepdims=True) / count\n",
         "    db2 = np.sum(delta_out, axis=1, keepdims=True)\n", "model_gradcheck", also=("training_xor",)),
       B("step-sign-on-output-weights", 'W2 = parameters["W2"] - learning_rate * grads["dW2"]',
         'W2 = parameters["W2"] + learning_rate * grads["dW2"]', "sgd", also=("training_xor",))),
      drive="parameters = make_params(5, 7, 1) (it asserts one output); prob, cache = run_forward(X.T, parameters); "
            "cost(prob, Y 0/1 (1, m)); grads = backprop(parameters, cache, X.T, Y) ('dW1'..'db2'); "
            "step(parameters, grads, learning_rate) -> new dict; two classes are p and 1 - p"),
    S("ng_three_layer_fixed", "networks/ng_three_layer_fixed.py",
      "setup(dims) builds any depth but forward_pass(X, parameters) reads exactly W1..W3 (ReLU, ReLU, sigmoid) "
      "and returns (A3, cache tuple); cost_of(A3, Y) binary cross-entropy with nansum; backward_pass(X, Y, cache) "
      "with the data first; no optimiser",
      _pass("model_gradcheck", "training_spiral",
            training_xor="missing"),  # three layers fixed: no 2-8-2 network
      (B("first-weight-gradient-summed", "    dW1 = dZ1 @ X.T / m\n", "    dW1 = dZ1 @ X.T\n", "model_gradcheck",
         also=("training_spiral",)),),
      drive="parameters = setup([5, 7, 6, 4]); A3, cache = forward_pass(X.T, parameters); cost_of(A3, Y one-hot "
            "(4, m)); grads = backward_pass(X.T, Y, cache) ('dW1'..'db3', and dZ); the kit's SGD on them"),
    S("cost_in_forward_no_init", "networks/cost_in_forward_no_init.py",
      "no initialiser (it came with the course's helpers): forward_and_cost(X, Y, params) reads w1..b2 (rows, "
      "w (in, out), b (1, out)), tanh then sigmoid outputs, returns (cost, cache dict); grads_of(X, Y, cache)",
      _pass("model_gradcheck", "training_xor",
            training_spiral="missing"),  # two layers fixed in the forward: no 2-64-32-3 network
      (B("cost-summed-gradients-averaged",
         "    cost = -np.sum(Y * np.log(o) + (1.0 - Y) * np.log(1.0 - o)) / n\n",
         "    cost = -np.sum(Y * np.log(o) + (1.0 - Y) * np.log(1.0 - o))\n", "model_gradcheck"),
       B("tanh-derivative-dropped", "    d_h = (d_o @ cache[\"w2\"].T) * (1.0 - cache[\"h\"] ** 2)\n",
         "    d_h = d_o @ cache[\"w2\"].T\n", "model_gradcheck", also=("training_xor",))),
      drive="no init: the kit builds {'w1' (5, 7), 'b1' (1, 7), 'w2' (7, 4), 'b2' (1, 4)} as the forward reads "
            "them; cost, cache = forward_and_cost(X, Y one-hot, params); grads = grads_of(X, Y, cache) ('dw1'..'db2'); "
            "the output read from the cache; the kit's SGD on the gradients"),
    S("self_updating_layers", "networks/self_updating_layers.py",
      "layers whose backward(output_error, learning_rate) takes the SGD step itself; FCLayer weights (in, out), "
      "ActivationLayer(f, f'), SoftmaxLayer; Network(loss, loss_prime) with add(layer), predict(x), fit(...)",
      _pass("model_gradcheck", "sgd", *TRAINING),
      (B("stale-gradient-step",
         "        self.weights_error = self.input.T @ output_error\n"
         "        self.bias_error = output_error.sum(axis=0, keepdims=True)\n"
         "        self.weights -= learning_rate * self.weights_error\n"
         "        self.bias -= learning_rate * self.bias_error\n",
         "        self.weights -= learning_rate * self.weights_error\n"
         "        self.bias -= learning_rate * self.bias_error\n"
         "        self.weights_error = self.input.T @ output_error\n"
         "        self.bias_error = output_error.sum(axis=0, keepdims=True)\n", "sgd", also=TRAINING),),
      drive="net = Network() (cross_entropy/cross_entropy_prime on one-hot targets and probabilities); net.add(FCLayer(5, "
            "7)); net.add(ActivationLayer(relu, relu_prime)); net.add(FCLayer(7, 4)); net.add(SoftmaxLayer()); "
            "p = net.predict(x); e = net.loss_prime(Y, p); for layer reversed: e = layer.backward(e, lr) (lr=0 to read "
            "weights_error/bias_error without a step; the step is the same backward with lr)"),
]

NETWORK_BY_ID = {s.id: s for s in NETWORK_SHAPES}


# Issue #12's list of container and optimiser shapes; tests/test_zoo.py checks each marker (re.MULTILINE)
# in each listed file and that every item of the list (its NETWORK_REQUIRED_FEATURES) is here.
NETWORK_COVERAGE: list[Feature] = [
    _f("Sequential(*layers)", "seq_varargs_held_params", r"class Sequential:\n    def __init__\(self, \*layers\)"),
    _f("Sequential([layers])", "seq_list_step_model", r"class Sequential:\n    def __init__\(self, layers\)"),
    _f("Sequential().add(layer)", "seq_add_update_params keras_add_fit self_updating_layers",
       r"        self\.layers = \[\]\n[\s\S]*def add\(self, layer\):\n(        .*\n)*?        self\.layers\.append\(layer\)"),
    _f("MLP(layer_sizes)", "mlp_sizes_step_model tensor_module_engine",
       r"class MLP\b.*:\n    def __init__\(self, (layer_sizes|sizes)\b"),
    _f("MLP(n_inputs, n_hidden, n_classes)", "mlp_three_ints", r"def __init__\(self, n_inputs, n_hidden, n_classes\b"),
    _f("NeuralNetwork(layer_sizes, activations, lr)", "dense_net_activations_lr",
       r"class NeuralNetwork:\n    def __init__\(self, layer_sizes, activations, lr\b"),
    _f("NeuralNetwork(layers, loss)", "nn_layers_loss_step_params", r"class NeuralNetwork:\n    def __init__\(self, layers, loss\)"),
    _f("Model().add_layer(kind, units=, activation=)", "model_add_layer_kind",
       r"def add_layer\(self, kind, units=None, activation=None"),
    _f("Keras-like model.add(...) and fit(...)", "keras_add_fit",
       r"def compile\(self, loss, optimizer\)[\s\S]*def fit\(self, x, y, epochs=1, batch_size=32"),
    _f("Nielsen-style Network(sizes)", "nielsen_network_sizes",
       r"class Network:\n    def __init__\(self, sizes\b[\s\S]*def backprop\(self, x, y\)[\s\S]*"
       r"return nabla_b, nabla_w[\s\S]*def update_mini_batch\(self, mini_batch, eta\)"),
    _f("functional model: params dict, loss(X, y) -> (loss, grads)", "cs231n_two_layer",
       r"self\.params = \{[\s\S]*def loss\(self, X, y=None\)[\s\S]*return loss, grads"),
    _f("functional model: parameters dict and free functions", "ng_functional_deep",
       r"^def L_model_forward\(X, parameters\)[\s\S]*^def L_model_backward\(AL, Y, caches\)"),
    _f("functional network: init(n_x, n_h, n_y), one hidden layer fixed", "ng_binary_one_hidden",
       r"^def make_params\(n_in, n_hidden, n_out\)"),
    _f("functional network: three layers fixed in the forward, any-depth init", "ng_three_layer_fixed",
       r"^def setup\(dims\)[\s\S]*parameters\[\"W3\"\] @ A2"),
    _f("one sigmoid output and the student's own binary cost", "ng_binary_one_hidden ng_three_layer_fixed",
       r"^def (cost|cost_of)\(A[23], Y\)"),
    _f("functional network without an initialiser, its forward returning the cost", "cost_in_forward_no_init",
       r"^def forward_and_cost\(X, Y, params\):[\s\S]*return cost, cache"),
    _f("backward arguments in the student's order: (parameters, cache, X, Y), (X, Y, cache)",
       "ng_binary_one_hidden ng_three_layer_fixed",
       r"^def (backprop\(parameters, cache, X, Y\)|backward_pass\(X, Y, cache\))"),
    _f("update(parameters, grads, lr) naming every key by hand", "ng_binary_one_hidden",
       r"W2 = parameters\[\"W2\"\] - learning_rate \* grads\[\"dW2\"\]"),
    _f("no container (layers chained in a training function)", "no_container_train_fn",
       r"^def train\(X, y\b[\s\S]*layer2\.forward\(act1\.forward\(layer1\.forward"),
    _f("autograd: micrograd-like Value engine", "micrograd_value_engine",
       r"^class Value:[\s\S]*def backward\(self\):[\s\S]*def zero_grad\(self\)"),
    _f("autograd: operations as functions and the graph walk a function", "functional_ops_engine",
       r"^def mul\(a, b\):[\s\S]*^def run_backward\(root\):"),
    _f("autograd: scalar Value engine of one float, Neuron/Layer/MLP over lists", "micrograd_scalar_neurons",
       r"^class Value:[\s\S]*self\.grad = 0\.0[\s\S]*^class Neuron\(Module\):[\s\S]*self\.w = \[Value\("),
    _f("autograd: scalar Var engine with function maths and a 2-D list of weights", "scalar_var_functional",
       r"^class Var:[\s\S]*def backprop\(self\):[\s\S]*^def tanh\(v\):[\s\S]*self\.W = \[\[Var\("),
    _f("autograd: scalar Node engine, optimisers over the flat parameter list, an mse of Nodes",
       "scalar_node_optimisers",
       r"^class Node:[\s\S]*^class Module:[\s\S]*^def mse\(preds, targets\):[\s\S]*"
       r"^class SGD:\n    def __init__\(self, params, lr=0\.1\)[\s\S]*^class Momentum\(SGD\):"),
    _f("autograd: Tensor engine with Parameter/Module and an optimizer over parameters()", "tensor_module_engine",
       r"^class Parameter\(Tensor\)[\s\S]*^class Module:[\s\S]*def parameters\(self\)[\s\S]*"
       r"class SGD\(Optimizer\):\n    def __init__\(self, params"),
    _f("optimiser step() on held parameters", "seq_varargs_held_params tensor_module_engine",
       r"def __init__\(self, (parameters|params)\b[\s\S]*    def step\(self\):"),
    _f("optimiser step(model)", "seq_list_step_model mlp_sizes_step_model mlp_three_ints", r"def step\(self, model\):"),
    _f("optimiser step(params, grads)", "nn_layers_loss_step_params", r"def step\(self, params, grads\):"),
    _f("optimiser update_params(layer)", "seq_add_update_params", r"def update_params\(self, layer\):"),
    _f("sgd_step(lr)", "mlp_three_ints", r"def sgd_step\(self, lr\):"),
    _f("update(lr) on layers or model", "dense_net_activations_lr model_add_layer_kind no_container_train_fn",
       r"def update\(self, lr\):"),
    _f("backward(dy, lr) layers that update themselves", "self_updating_layers",
       r"def backward\(self, output_error, learning_rate\):\n(        .*\n)*?        self\.weights -= learning_rate"),
    _f("functions sgd(w, dw, config) -> (w, config)", "cs231n_two_layer",
       r"^def (sgd|sgd_momentum|adam)\(w, dw, config=None\):[\s\S]*return next_w, config"),
    _f("optimiser apply_gradients(zip(grads, vars))", "keras_add_fit", r"def apply_gradients\(self, grads_and_vars\)"),
    _f("functional update_parameters_with_momentum/adam(parameters, grads, v[, s, t])", "ng_functional_deep",
       r"^def update_parameters_with_momentum\(parameters, grads, v, beta, learning_rate\)[\s\S]*"
       r"^def update_parameters_with_adam\(parameters, grads, v, s, t"),
    _f("momentum and Adam state per layer", "seq_list_step_model seq_add_update_params",
       r"(self\.state\[id\(layer\)\]|layer\.optimizer_state)"),
    _f("momentum and Adam state per parameter key", "mlp_three_ints nn_layers_loss_step_params cs231n_two_layer "
       "ng_functional_deep tensor_module_engine keras_add_fit mlp_sizes_step_model",
       r"(self\.m\[name\]|self\.velocities\[i\]|config\[\"m\"\]|v\[key\]|zip\(self\.params, self\.state\)"
       r"|self\.slots\.setdefault\(id\(var\)|self\.m\[key\])"),
]


# --- what the kit does not get right yet, and why (tests/test_zoo.py fails on anything else) ---

NETWORK_KNOWN_GAPS: dict[tuple[str, str, str], str] = {  # (shape, component, "any" | "renamed") -> reason
}

NETWORK_KNOWN_FALSE_PASSES: dict[tuple[str, str], str] = {  # (shape, bug) -> why behaviour cannot settle it
}


def known_gap(shape_id: str, component: str, renamed: bool = False) -> str | None:
    """The reason a difference on a network shape is known (NETWORK_KNOWN_GAPS), else None: the
    difference fails tests/test_zoo.py."""
    return NETWORK_KNOWN_GAPS.get((shape_id, component, "renamed" if renamed else "any")) or \
        NETWORK_KNOWN_GAPS.get((shape_id, component, "any"))
