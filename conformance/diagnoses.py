"""The catalogue of likely causes a judge can name.

A judge names a cause by *predicting* what each known bug would produce (with the reference,
on the same inputs) and picking the one the student's answer matches; ``Outcome.cause`` is then
one of the ids below. ``explain(cause)`` gives the sentence a student reads.

>>> explain("transposed_gradient")[:40]
'Your weight gradient is the transpose of'

Add an entry when a judge learns to recognise a new bug; ids are snake_case and never reused.
"""
from __future__ import annotations

CAUSES: dict[str, str] = {
    # --- gradients of layers ---------------------------------------------------------------
    "double_batch_average": "Your gradient is 1/B of the true one: you average over the batch in the "
    "layer's backward and again in the loss; average in exactly one place (the loss, canonically).",
    "transposed_gradient": "Your weight gradient is the transpose of the true one: with W stored "
    "(out, in) the gradient is dY.T @ X, shape (out, in), the same shape as W.",
    "zero_bias_gradient": "Your bias gradient is zero or never updated: backward must store "
    "db = dY.sum(axis=0) every time it runs.",
    "missing_bias_gradient": "Your layer stores no bias gradient: backward must store db next to dW.",
    "bias_gradient_not_summed": "Your bias gradient keeps the batch axis: sum dY over axis 0 so db has "
    "the shape of b.",
    "wrong_gradient_scale": "Your gradient has the right direction but the wrong size: look for an "
    "extra or missing factor (batch size, 2, number of features) in backward.",
    "input_gradient_scaled": "Your input gradient dX is scaled by 1/B: only parameter gradients may "
    "be averaged, dX must be the exact dY @ W.",
    "wrong_input_gradient": "Your backward's returned gradient does not match the numerical "
    "derivative of your own forward: re-derive dX from the forward formula.",
    "wrong_parameter_gradient": "Your parameter gradient does not match the numerical derivative of "
    "your own forward: re-derive it from the forward formula.",
    "wrong_forward": "Your forward values differ from the specification's formula.",
    "wrong_shape": "An output has the wrong shape: every gradient has the shape of what it is the "
    "gradient of.",
    "wrong_dtype": "An output is not a floating-point array: return float arrays (float64 when given "
    "float64).",
    "no_backward": "This layer has no backward (or derivative) method, so its gradient cannot be checked.",
    # --- activations ---------------------------------------------------------------------------
    "wrong_relu_mask": "Your ReLU backward uses the wrong mask: pass dY where the forward input was "
    "positive and 0 elsewhere.",
    "derivative_from_input": "Your derivative is computed from the layer's input where the formula "
    "needs its output (sigmoid: y*(1-y), tanh: 1-y**2 with y the forward output), or the reverse.",
    "derivative_missing_factor": "Your activation's derivative drops a factor: sigmoid' = y*(1-y) "
    "(both factors), tanh' = 1-y**2 (squared), with y the forward output.",
    "ignores_upstream_gradient": "Your activation's backward returns its local derivative f'(x) "
    "without multiplying by the incoming gradient: the chain rule needs dX = dY * f'(x).",
    "derivative_sign_error": "Your activation's derivative has a sign wrong: sigmoid' = y*(1-y), "
    "tanh' = 1-y**2 (both with minus signs), relu' = 1 where x > 0, with y the forward output.",
    "softmax_diagonal_jacobian": "Your softmax backward uses only the diagonal of the Jacobian "
    "(dY * p * (1 - p)): the VJP is p * (dY - sum(dY * p, axis=1, keepdims=True)).",
    "softmax_backward_passthrough": "Your softmax backward returns dY unchanged, as if the "
    "cross-entropy had already been folded in: a standalone Softmax must apply its Jacobian.",
    "unstable_softmax": "Your softmax overflows for large logits: subtract the row maximum before "
    "exp (softmax is unchanged by that shift).",
    "unstable_sigmoid": "Your sigmoid overflows for large negative inputs: clip the input, or use "
    "exp(x)/(1+exp(x)) for x < 0.",
    "unstable_tanh": "Your tanh overflows for large inputs: use np.tanh, or a form that never "
    "computes exp of a large positive number.",
    "in_place_mutation": "Your code modifies the array the caller passed in: work on a copy "
    "(np.maximum(x, 0), not x[x < 0] = 0).",
    "float32_promoted": "Given float32 inputs your layer fails or returns non-finite values: avoid "
    "float64-only tricks and check the float32 path.",
    # --- losses --------------------------------------------------------------------------------
    "loss_not_averaged": "Your loss sums over the batch: the specification averages it (mean over "
    "samples), so the learning rate does not depend on the batch size.",
    "inconsistent_loss_scaling": "Your loss gradient does not match the numerical derivative of your "
    "own loss value by a constant factor: the value and backward scale differently (for example "
    "mean over all B*D elements in forward but /B in backward).",
    "wrong_loss_gradient": "Your loss gradient does not match the numerical derivative of your own "
    "loss value: re-derive backward from forward.",
    "wrong_loss_value": "Your loss value matches none of the allowed forms.",
    "unstable_cross_entropy": "Your cross-entropy returns inf/NaN or warns for extreme inputs: use "
    "log-sum-exp on logits, or clip probabilities before the log.",
    "missing_half_factor": "Your MSE gradient is twice (or half) the derivative of your MSE value: "
    "with L = mean((p-y)**2) the gradient is 2*(p-y)/N, with the 1/2 factor it is (p-y)/N.",
    # --- whole models, optimizers, checkers, initialisers, training, stretch layers -------------
    # (conformance/judges/{models,optim,gradchecker,init,single_sample,training,stretch}.py)
    "missing_batch_average": "Your parameter gradients are B times the gradient of the loss you "
    "report: the loss value is a batch mean but nothing in backward divides by B; divide once (in "
    "the loss backward, canonically).",
    "softmax_jacobian_on_logits_grad": "Your model applies the softmax Jacobian to a gradient that "
    "is already d(loss)/d(logits) (probs - onehot): skip the softmax backward when the loss "
    "returns the logits gradient, or make the loss return d(loss)/d(probs).",
    "sign_error_in_gradient": "Your gradients have the opposite sign of the loss's derivative: with "
    "L = (f - y)^2 / 2, dL/df = f - y.",
    "bias_gradient_averaged": "Your bias gradients are 1/B of the true ones while the weight gradients "
    "are right: db must be dY summed over the batch (the loss already divides by B).",
    "model_gradient_mismatch": "Your model's parameter gradients do not match central differences of "
    "the loss your own code reports: check each layer with the unit checks first, then how the loss "
    "gradient enters the last layer.",
    "sign_error_in_update": "Your update moves parameters up the gradient: subtract lr * step.",
    "ema_vs_classical_momentum": "(information, not a failure) Your momentum is the EMA form "
    "v = b*v + (1-b)*g; PyTorch's classical form is v = b*v + g, so the same lr takes steps 1/(1-b) "
    "times longer there.",
    "momentum_in_plain_sgd": "Your plain SGD keeps a velocity (a default momentum argument?): with "
    "momentum 0 the step must be theta - lr * grad.",
    "momentum_not_applied": "Your momentum optimizer forgets its velocity between steps: keep one "
    "velocity per parameter in the optimizer.",
    "momentum_form_mismatch": "Your momentum matches neither v = b*v + g (classical, = v = b*v - lr*g "
    "with theta + v) nor v = b*v + (1-b)*g (EMA).",
    "adam_missing_bias_correction": "Your Adam omits the bias correction m/(1-b1**t), v/(1-b2**t) "
    "(t counted from 1), so its first steps are about 3x too long.",
    "stale_gradient": "Your update uses the gradient of the previous step: it runs before the new gradient "
    "is computed (or reads a gradient stored by the last call). Compute the gradient, then step with it.",
    "update_mismatch": "Your optimizer's steps match no update rule the kit knows: compare one step "
    "by hand with the formula.",
    "checker_too_lenient": "Your gradient checker reports a small error (or a pass) on a layer whose "
    "backward has a planted bug: compare every element, with a relative error and a tight threshold.",
    "checker_too_strict": "Your gradient checker reports a large error on a correct layer: use "
    "central differences with eps around 1e-5 in float64 and a relative error.",
    "checker_one_sided_difference": "Your gradient checker uses a one-sided difference (f(x + h) - "
    "f(x)) / h: its error grows with the curvature, so it rejects a correct nonlinear layer; use the "
    "central difference (f(x + h) - f(x - h)) / 2h.",
    "checker_step_too_large": "Your gradient checker's default step is too large for the curvature of "
    "a nonlinear layer: its error falls a hundredfold with a ten times smaller step; use h around 1e-5 in "
    "float64.",
    "checker_sign_error": "Your gradient checker compares gradients of opposite signs: it accepts a "
    "backward whose gradient is negated and rejects a correct one; the numerical gradient is "
    "(f(x + h) - f(x - h)) / 2h, compared with the analytic one as it is.",
    "checker_unreadable": "Your gradient checker returns nothing the kit can read as an error or a "
    "verdict: return the relative error (a float) or a bool.",
    "wrong_init_variance": "Your initialiser's variance is not the one its name promises: He "
    "2/fan_in, Xavier (Glorot) 2/(fan_in + fan_out); uniform bounds are sqrt(3) standard deviations.",
    "appendix_a_mismatch": "A value of the Appendix A worked example differs: recompute it by hand "
    "(a1 = W1 x + b1, h1 = relu(a1), f = W2 h1 + b2, L = (f - y)^2 / 2) and compare step by step.",
    "too_slow": "Training ran out of its time budget: vectorise over the batch (no Python loop over "
    "samples) and avoid needless copies of the weights.",
    "diverged": "The training loss became NaN or inf: look for an unstable softmax/log, or gradients "
    "scaled B times too large.",
    "did_not_learn": "Training did not reach the accuracy the assignment asks for, with the kit's "
    "learning rate and epochs: if model_gradcheck and sgd pass, look at initialisation.",
    "malformed_answer": "The check could not read your code's answer (missing, wrong shape or not "
    "finite): the message says which value.",
    "dropout_not_inverted": "Your dropout does not rescale kept units by 1/(1-p) during training.",
    "dropout_active_in_eval": "Your dropout still drops units in eval mode.",
    "dropout_eval_scaled": "Your dropout multiplies by (1-p) in eval mode; inverted dropout scales "
    "in training and is the identity in eval.",
    "dropout_p_is_keep_probability": "Your dropout keeps a fraction p of the units: p is the "
    "probability of dropping one.",
    "dropout_rate": "Your dropout keeps a fraction of units far from 1 - p.",
    "dropout_scale": "Your dropout scales kept units by something other than 1/(1-p).",
    "dropout_mask_mismatch": "Your dropout backward does not reuse the forward's mask and scale.",
    "batchnorm_forward": "Your batchnorm's train-mode output differs from (x - mean) / sqrt(var + "
    "eps) * gamma + beta with the batch's biased variance.",
    "batchnorm_backward": "Your batchnorm gradients differ from the exact ones: dx has terms through "
    "the batch mean and the batch variance.",
    "batchnorm_eval_uses_batch_stats": "Your batchnorm uses the batch statistics in eval mode: use "
    "the running mean and variance.",
    "running_stats_not_updated": "Your batchnorm never updates running_mean/running_var in training.",
    "batchnorm_momentum_convention": "Your running statistics use momentum the other way round: "
    "PyTorch's running = (1 - momentum) * running + momentum * batch.",
    "batchnorm_eval": "Your batchnorm's eval-mode output matches no running-statistics convention.",
    "layernorm_over_batch": "Your layernorm normalises each feature over the batch (axis 0, as "
    "batchnorm does): layer normalisation takes the mean and variance of each sample over its features.",
    "layernorm_backward": "Your layernorm dx leaves out the terms through each row's mean and variance: "
    "dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / sqrt(var + eps), means over the features.",
    "conv_kernel_transposed": "Your conv2d reads the kernel transposed (W[o, c, kw, kh]): window row i "
    "must meet kernel row i, window column j kernel column j.",
    "conv_flipped_kernel": "Your conv2d flips the kernel (true convolution); the specification is "
    "cross-correlation, as in every deep-learning library.",
    "conv2d_forward": "Your conv2d output differs from the cross-correlation of the padded input "
    "with W (out, in, kh, kw) at the given stride, plus b.",
    "conv2d_backward": "Your conv2d gradients differ from the exact ones.",
    "autograd_wrong_gradient": "Your engine's gradient for this operation differs from the central "
    "differences of its own forward: re-derive that operation's backward closure (it must use out.grad).",
    "gradient_not_accumulated": "Your engine assigns gradients (grad = ...) where it must add them "
    "(grad += ...): a value used twice (x + x, x * x) gets only one of its two contributions.",
    "zero_grad_missing": "Your gradients add up across backward() calls and nothing resets them: give "
    "your Tensor or layers a zero_grad() that sets every .grad to zeros, and call it before each backward().",
    "broadcast_not_summed": "Your engine does not sum a broadcast gradient back to the operand's shape: "
    "for (B, n) + (n,) the gradient of the (n,) operand is out.grad summed over axis 0 (not averaged).",
}


def explain(cause: str | None) -> str:
    """The catalogue sentence for ``cause`` (empty for None, the id itself if unknown)."""
    if cause is None:
        return ""
    return CAUSES.get(cause, cause)
