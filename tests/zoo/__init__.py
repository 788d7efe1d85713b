"""The zoo: student-style API shapes the kit must discover by behaviour (see catalogue.py).

``shapes/`` holds one small file per API shape, ``catalogue.py`` what each must score and the
bugs planted in it, ``rename.py`` the rewrite that hides every telling name, ``harness.py`` the
planting and grading shared by ``bench/zoo.py`` and ``tests/test_zoo.py``.
"""
