"""The case for init: the He and Xavier initialisers drawn as FAN_OUT x FAN_IN matrices (large
enough for the variance test of ``judges/init.py``)."""
FAN_IN, FAN_OUT = 512, 384


def build_init(seed: int = 0) -> dict:
    return {"recipe": f"cases.init.build_init(seed={seed})", "kinds": ["he", "xavier"], "fan_in": FAN_IN,
            "fan_out": FAN_OUT, "seed": seed}
