"""Backprop Kit from inside a notebook or a Python session.

    import backprop_kit
    backprop_kit.check()            # the table of verdicts for the code defined above

See ``backprop_kit.run.check`` for the options and ``CheckResult`` for what comes back.
"""
from backprop_kit.run import CheckError, check, earlier_cell_problems
from backprop_kit.result import CheckResult

__all__ = ["check", "CheckResult", "CheckError", "earlier_cell_problems"]
