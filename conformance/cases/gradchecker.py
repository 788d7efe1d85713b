"""The case for gradient_checker: only a seed. The layers the student's checker is handed are
built on the probe side, the kit's maths in the student's classes (``adapters/standins.py``)."""


def build_gradchecker(seed: int = 0) -> dict:
    return {"seed": seed, "recipe": f"cases.gradchecker.build_gradchecker(seed={seed})"}
