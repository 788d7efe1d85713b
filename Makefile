# Backprop Kit: `make test` and `make demo` create .venv, install, and run.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: install test test-oldest fast demo bench fixtures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned to the local CPU wheel: an unpinned torch pulls gigabytes of CUDA packages.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[torch,data]'
	touch $(STAMP)

install: $(STAMP)

# The kit's own tests plus the whole conformance suite on the reference (slow tier included).
test: $(STAMP)
	$(PY) -m pytest --impl reference

# The grader's tests on the oldest Python pyproject.toml allows (3.10: tomllib is missing there).
OLDEST ?= python3.10
test-oldest:
	$(OLDEST) -m venv .venv-oldest
	.venv-oldest/bin/python -m pip install --quiet -e .
	.venv-oldest/bin/python -m pytest tests/test_grader.py tests/test_grader_tomli.py -q -p no:cacheprovider

# Everything except training: what a student runs while iterating.
fast: $(STAMP)
	$(PY) -m pytest conformance --impl reference -m "not slow"

demo: $(STAMP)
	$(PY) -m graders demo

bench: $(STAMP)
	$(PY) bench/mlp.py
	$(PY) bench/conformance_fast.py

fixtures: $(STAMP)
	$(PY) -m fixtures.generate

clean:
	rm -rf $(VENV) .venv-oldest .pytest_cache .hypothesis demo-out
