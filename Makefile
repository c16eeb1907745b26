# The README's two commands live here. Each one creates .venv with the Python on PATH and installs
# exactly the versions in a lock file (with their hashes), so every machine runs what CI tested;
# a second run only re-checks the stamp file, so it is quick.
#
#   requirements.lock       the product: core + the analysis, api, elastic and scale extras (demo, Docker, wheel check)
#   requirements-dev.lock   the same versions plus the dev tools (tests, CI)
#   requirements-core.lock  the same versions, core only (the core-install check in CI)
#
# `make lock` regenerates all three (pip-tools); run `make test-latest` first (see the README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo
DEMO_FLAGS ?= --serve   # `make demo DEMO_FLAGS=` stops after printing instead of serving the API
LOCK_VENV := .venv-lock
LATEST_VENV := .venv-latest
# pip installs the locked set without resolving anything (--no-deps): the lock is the whole set,
# and --require-hashes refuses a file whose hash is not the one locked.
LOCKED_INSTALL = pip install --quiet --require-hashes --no-deps
# The package itself: no build isolation, so its build uses the locked setuptools, not the newest.
PACKAGE_INSTALL = pip install --quiet --no-deps --no-build-isolation

.PHONY: demo test lint typecheck lock test-latest wheel-check bench-ingest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The demo analyses its corpus and serves the API, so it installs the product lock (CPU torch from
# the pinned wheel); an editable install, so a change to the code is live without reinstalling.
$(VENV)/.installed-runtime: requirements.lock pyproject.toml setup.py | $(BIN)/python
	$(BIN)/$(LOCKED_INSTALL) -r requirements.lock
	$(BIN)/$(PACKAGE_INSTALL) -e .
	$(BIN)/pip check
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml setup.py | $(BIN)/python
	$(BIN)/$(LOCKED_INSTALL) -r requirements-dev.lock
	$(BIN)/$(PACKAGE_INSTALL) -e .
	$(BIN)/pip check
	touch $@ $(VENV)/.installed-runtime

demo: $(VENV)/.installed-runtime
	$(BIN)/vocmine demo --workdir $(DEMO_DIR) $(DEMO_FLAGS)

# The suite includes the live Elasticsearch tests: the dev lock installs the noida-db emulator, which
# the tests start on a loopback port (VOCMINE_TEST_ES_URL=http://… runs them on a real cluster instead).
test: $(VENV)/.installed-dev typecheck
	$(BIN)/ruff check vocmine api tests bench .ci
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev typecheck
	$(BIN)/ruff check vocmine api tests bench .ci
	$(BIN)/ruff format --check vocmine api tests bench .ci

# mypy, strict (pyproject.toml [tool.mypy]), over the library and the API. The API's folder is
# installed as vocmine_api, so mypy reads it under that name through a link in build/.
typecheck: $(VENV)/.installed-dev
	mkdir -p build/typecheck && ln -sfn ../../api build/typecheck/vocmine_api
	$(BIN)/mypy -p vocmine -p vocmine_api

# Regenerate the locks from pyproject.toml's ranges with pip-tools (in a venv of its own, so the tool
# is not part of what it locks). The complete set is resolved once; the product and core locks are
# then compiled pinned to it, so the three never disagree on a version. pip's configuration on our
# machines points it at the CPU torch wheel on disk, which is why torch is locked as 2.13.0+cpu.
# The api extra includes vocmine[analysis], so pip-compile lists vocmine itself (as a path); it is
# installed separately (editable, or the built wheel), so that entry and its warning are deleted.
PIP_COMPILE = $(LOCK_VENV)/bin/pip-compile --quiet --resolver=backtracking --generate-hashes --allow-unsafe \
	--all-build-deps --strip-extras --no-emit-index-url --no-emit-find-links --annotation-style=line
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet "pip-tools==7.6.2")
	$(PIP_COMPILE) --upgrade --all-extras -o requirements-dev.lock pyproject.toml
	sed -n 's/^\([A-Za-z0-9._-]*==[^ ]*\).*/\1/p' requirements-dev.lock > $(LOCK_VENV)/pins.txt
	$(PIP_COMPILE) --upgrade --extra analysis --extra api --extra elastic --extra scale -c $(LOCK_VENV)/pins.txt -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --upgrade -c $(LOCK_VENV)/pins.txt -o requirements-core.lock pyproject.toml
	sed -i '/^# WARNING: pip install will require the following package to be hashed/,/^vocmine @ /d' requirements*.lock
	! grep -n '^vocmine' requirements*.lock

# The newest versions pyproject's ranges allow, no lock, in a fresh venv of its own: what a user who
# installs vocmine into their own environment today gets. Prints what moved against the lock, then
# runs the lint and the suite there.
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev,analysis,api,elastic]"
	$(LATEST_VENV)/bin/python .ci/lock_diff.py requirements-dev.lock
	$(LATEST_VENV)/bin/ruff check vocmine api tests bench .ci
	HF_HUB_OFFLINE=1 $(LATEST_VENV)/bin/python -m pytest -q

# What CI runs after the tests: the built wheel, installed non-editable from the locks into fresh
# venvs, runs the demo and answers a request; a core-only install runs the core commands.
wheel-check: $(VENV)/.installed-dev
	bash .ci/wheel-check

bench-ingest: $(VENV)/.installed-runtime
	$(BIN)/python bench/ingest.py --shared ../shared/data

clean:
	rm -rf $(VENV) $(LATEST_VENV) $(LOCK_VENV) var build
