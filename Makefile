# Two entry points, both from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= var

.PHONY: run test bench-crypto vectors clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	@test -f $(DATA_DIR)/instance.json || $(VENV)/bin/intake --data-dir $(DATA_DIR) init --demo
	$(VENV)/bin/intake --data-dir $(DATA_DIR) serve --host 127.0.0.1 --port 8000

test: $(VENV)/.installed
	$(PY) -m pytest

bench-crypto: $(VENV)/.installed
	$(PY) loadtests/bench_crypto.py

vectors: $(VENV)/.installed
	$(PY) tests/vectors/generate.py

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts
