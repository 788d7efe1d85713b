"""A worked example of ``--adapter``: a course whose code follows assignment 001's API
(``attr_grads``: W stored (in, out), ``dW``/``db`` attributes, ``SGD.step(model)``) but names
its dense layer ``FullyConnected`` and its cross-entropy on probabilities ``NLLLoss``.

    pytest conformance --impl course.py --adapter conformance/adapters/example_adapter.py

Copy this file next to your code and change the names (see ``conformance/ADAPTERS.md``).
"""
from conformance.adapters._common import ObjLoss, construct, need, probe_ce_grad
from conformance.adapters.base import Missing
from conformance.adapters import AttrGradsAdapter


class FullyConnectedCourseAdapter(AttrGradsAdapter):
    STYLE = "fully_connected_course"  # the name shown in the summary and the report
    # Where the kit looks for each layer kind: the course's name first, the usual ones after.
    LAYER_NAMES = {**AttrGradsAdapter.LAYER_NAMES, "linear": ("FullyConnected", "Linear")}
    INVENTORY = {**AttrGradsAdapter.INVENTORY,
                 "linear": (("FullyConnected",), "FullyConnected(in, out), W (in, out), dW/db attributes"),
                 "cross_entropy": (("NLLLoss",), "NLLLoss.forward(probs, int targets), backward()")}

    def make_loss(self, kind):
        if kind != "cross_entropy":
            raise Missing(f"this course has no {kind} loss")
        name, cls = need(self.namespace, "cross-entropy loss", "NLLLoss")
        loss = construct(cls)
        # The loss takes probabilities and int labels; which gradient backward() returns
        # (d/dprobs or d/dlogits, per sample or averaged) is measured, never assumed.
        conventions = {"input": "probs", "targets": "int",
                       **probe_ce_grad(loss.forward, loss.backward, wants_onehot=False)}
        return ObjLoss(loss, kind, name, conventions)
