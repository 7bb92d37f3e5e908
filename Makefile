# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test install lint fmt migrate seed lock clean clean-data help bench soak openapi clients test-browser

help:
	@echo "make run    serve the API with sample data on http://127.0.0.1:8000 (docs at /docs)"
	@echo "make test   run the whole test suite on a real PostgreSQL"
	@echo "make test-browser  /docs and /redoc in headless Chromium (installs chromium with apt-get when missing)"
	@echo "make lint   ruff + mypy --strict + the import layers (import-linter, pyproject.toml)"
	@echo "make openapi  rewrite docs/openapi.json, the reviewed snapshot of the API (a test compares)"
	@echo "make clients  lint docs/openapi.json, generate Python and TypeScript clients, check them on a live server"
	@echo "make lock   recompile the pinned requirements from pyproject.toml"
	@echo "make bench  national-scale load benchmark of the service vs its floor (docs/benchmarks.md), deep pages (docs/paging.md)"
	@echo "make soak   10-minute mixed load at half capacity: 5xx, memory, connections, writes (docs/reliability.md)"

# The virtualenv is rebuilt when the pinned requirements change.
$(STAMP): requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(PY) -m app serve --seed-if-empty

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Only the browser tests (tests/browser), which `make test` runs too when chromium is installed.
test-browser: $(STAMP)
	bash .ci/browser
	REQUIRE_BROWSER=1 $(PY) -m pytest -m browser tests/browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check app tests migrations scripts
	$(PY) -m ruff format --check app tests scripts
	$(PY) -m mypy app tests scripts
	$(VENV)/bin/lint-imports --no-cache

fmt: $(STAMP)
	$(PY) -m ruff format app tests
	$(PY) -m ruff check --fix app tests

# The OpenAPI document is a contract: tests/test_openapi_snapshot.py fails on any change not
# written here first, so every change to the API shows up in review as a diff of this file.
openapi: $(STAMP)
	$(PY) -m app openapi -o docs/openapi.json

# Clients generated from docs/openapi.json (Python: openapi-python-client; TypeScript:
# openapi-typescript + openapi-fetch), type-checked strictly and run against a throwaway server;
# Redocly lints the document. Tools in .venv-clients/ and clients/typescript/node_modules.
clients: $(STAMP)
	bash clients/check

migrate: $(STAMP)
	$(PY) -m app migrate

seed: $(STAMP)
	$(PY) -m app seed

# A national-scale dataset in a throwaway database, the service and its floor under wrk
# (installed with apt-get when missing and run as root); writes docs/benchmarks.md.
# Options: make bench BENCH_ARGS="--duration 5 --workers 1"
bench: $(STAMP)
	BENCH_ARGS='$(BENCH_ARGS)' $(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.paging
	$(PY) -m bench.export

# A reduced dataset (scale 0.1) in a throwaway database, the service under locust at half the
# capacity make bench measured (or --rate), memory and connections sampled; docs/reliability.md.
# Options: make soak SOAK_ARGS="--duration 60 --workers 2 --rate 40"
soak: $(STAMP)
	SOAK_ARGS='$(SOAK_ARGS)' $(PY) -m bench.soak $(SOAK_ARGS)

lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.txt pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .venv-clients clients/build clients/typescript/node_modules

# Deletes the embedded database (sample data and every change made through the API).
clean-data:
	rm -rf .data
