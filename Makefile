# Two entry points, both from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= var
# The lock (requirements/lock.py): the test lock for development, the runtime lock for the container.
TEST_LOCK := requirements/test.txt

.PHONY: run test test-fast failover-check check lock lock-check security onion-check messages system-deps explore bench-crypto bench-upload bench-blobs bench-inbox bench-load bench-requests bench-instructions bench-statements soak vectors clean

# Everything from the lock, checked against its hashes (nothing the index serves that day), then
# our own code alone: --no-deps so it cannot pull anything unlocked, --no-build-isolation so the
# build backend is the locked setuptools too.
$(VENV)/.installed: pyproject.toml $(TEST_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Rewrite both locks from pyproject.toml (keeps every pin that still fits; UPGRADE=1 takes the newest).
UPGRADE ?=
lock: $(VENV)/.installed
	$(PY) requirements/lock.py write $(if $(UPGRADE),--upgrade)

# Fails when a lock was written from other dependencies than pyproject.toml declares (offline, instant).
lock-check:
	$(PYTHON) requirements/lock.py check

run: $(VENV)/.installed
	@test -f $(DATA_DIR)/instance.json || $(VENV)/bin/intake --data-dir $(DATA_DIR) init --demo
	$(VENV)/bin/intake --data-dir $(DATA_DIR) serve --host 127.0.0.1 --port 8000

# The whole suite, with branch coverage of what decides (crypto/, policies/, intake/service/; set in
# pyproject.toml), measured in-process: each package must stay at 90% or more, or the target fails.
test: $(VENV)/.installed system-deps
	$(PY) -m pytest --cov
	@for package in crypto policies intake/service; do \
		printf '%s/ branch coverage (floor 90%%): ' $$package; \
		$(PY) -m coverage report --include="$$package/*" --fail-under=90 --format=total || exit 1; \
	done

# The fast tier: no browser, no subprocess servers, nothing slow (about 5 minutes here, 2 cores).
test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not browser and not server and not slow"

# A PostgreSQL primary and synchronous standby of its own (temporary, on loopback), the service under mixed
# load, the primary killed and the standby promoted 3 times in a row: nothing acknowledged lost, no 500, the
# audit log intact (loadtests/failover.py; about 3 minutes). Outside `make test`; .ci/run calls it.
failover-check: $(VENV)/.installed
	$(PY) loadtests/failover.py

# The lock matches pyproject.toml; lint and format (ruff), types (mypy: strict for crypto/ and policies/), the layers (import-linter).
check: lock-check $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Outside tools against a running instance: schemathesis, sqlmap, wapiti (security/README.md).
security: $(VENV)/.installed
	$(PY) security/run.py

# The reporter's journey over a real onion service: a private Tor network on loopback (3 authorities,
# 2 relays, the onion services of deploy/tor/torrc and deploy/container/torrc-compose, a client),
# Chromium with JavaScript off over it (needs tor, tor-gencert, chromium; root to read the loopback
# wire and run each tor as debian-tor). About 1.5 minutes; outside `make test`, .ci/run calls it.
onion-check: $(VENV)/.installed
	$(PY) -m loadtests.onion --out test-artifacts/onion

# Re-extract every translatable string and merge it into the catalogs.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -o intake/locale/messages.pot --sort-by-file --no-wrap .
	$(VENV)/bin/pybabel update -i intake/locale/messages.pot -d intake/locale -D messages --no-wrap --ignore-obsolete

# mat2 removes hidden metadata from evidence files; Debian packages it. Installed when
# missing and we are root (as in CI); otherwise its tests are skipped with a note.
system-deps:
	@command -v mat2 >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mat2 >/dev/null) ; } || \
		echo "note: mat2 is not installed (apt-get install mat2); metadata removal is off and its tests are skipped"

# The model-based test of case work, run long: MINUTES=30 by default; prints the shortest failing sequence.
MINUTES ?= 30
explore: $(VENV)/.installed
	$(PY) loadtests/explore.py --minutes $(MINUTES)

bench-crypto: $(VENV)/.installed
	$(PY) loadtests/bench_crypto.py

bench-upload: $(VENV)/.installed
	$(PY) loadtests/bench_upload.py

# The directory blob store against the database's (INTAKE_BLOBS=database): MB/s both ways, and what
# 1 GiB of files adds to the database. It EMPTIES the database given: BENCH_DATABASE_URL=postgresql://...
bench-blobs: $(VENV)/.installed
	$(PY) loadtests/bench_blobs.py

bench-inbox: $(VENV)/.installed
	$(PY) loadtests/bench_inbox.py

bench-load: $(VENV)/.installed
	$(PY) loadtests/bench_load.py

bench-requests: $(VENV)/.installed
	$(PY) loadtests/bench_requests.py

bench-instructions: $(VENV)/.installed
	$(PY) loadtests/bench_requests.py --instructions --requests 30

bench-statements: $(VENV)/.installed
	$(PY) loadtests/bench_statements.py

soak: $(VENV)/.installed
	$(PY) loadtests/soak.py

vectors: $(VENV)/.installed
	$(PY) tests/vectors/generate.py

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts
