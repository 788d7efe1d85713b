"""The recipe helpers' old address, kept for the multi-step builders still in ``judges/`` (issue
#16 moves them to ``conformance/cases/`` too); every builder lives in ``conformance/cases/``."""
from conformance.cases import PLACEHOLDER, recipe, reproduce, snippet  # noqa: F401
