# The README's two commands live here. Each one creates .venv with the Python on PATH
# and installs what it needs; a second run only re-checks the stamp file, so it is quick.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo
DEMO_FLAGS ?= --serve   # `make demo DEMO_FLAGS=` stops after printing instead of serving the API

.PHONY: demo test lint bench-ingest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The demo analyses its corpus, so it installs the analysis stack (CPU torch from the pinned wheel).
$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[analysis,api]"
	touch $@

# The tests cover the analysis code too, so they install its stack (CPU torch from the pinned wheel).
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,analysis,api]"
	touch $@ $(VENV)/.installed-runtime

demo: $(VENV)/.installed-runtime
	$(BIN)/vocmine demo --workdir $(DEMO_DIR) $(DEMO_FLAGS)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check vocmine api tests bench
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check vocmine api tests bench
	$(BIN)/ruff format --check vocmine api tests bench

bench-ingest: $(VENV)/.installed-runtime
	$(BIN)/python bench/ingest.py --shared ../shared/data

clean:
	rm -rf $(VENV) var
