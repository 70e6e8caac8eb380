# Common jobs. Each works as the first command on a fresh clone: it makes .venv and installs when
# .venv is missing or older than pyproject.toml.
#   make test                     the whole test suite, as CI runs it (CPU, minutes)
#   make test-fast                the suite without the end-to-end CLI runs (marked slow): the edit loop
#   make lint                     ruff (rules in pyproject.toml)
#   make demo                     the whole pipeline at CPU scale (preset=demo)
#   make reproduce-paper          the whole pipeline at the paper's scale (for a GPU)
#   make bench                    benchmarks (ratios measured side by side in one run)
# Variables: PRESET=smoke|demo|paper  OUT=run-folder root  DEVICE=auto|cpu|cuda
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SLA := $(VENV)/bin/sla
DEVICE ?= auto
# MNIST: use ../shared/data when it is there and the user set nothing else.
SLA_DATA_ROOT ?= $(if $(wildcard ../shared/data/MNIST/raw),$(abspath ../shared/data),data)
export SLA_DATA_ROOT

.PHONY: install test test-fast lint demo reproduce-paper pipeline bench clean-venv

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(PY) -m ruff check .

demo: install
	$(MAKE) --no-print-directory pipeline PRESET=$(or $(PRESET),demo)

reproduce-paper: install
	$(MAKE) --no-print-directory pipeline PRESET=$(or $(PRESET),paper)

# One run folder per stage under OUT; a stage whose folder already holds the same complete run is
# skipped, so an interrupted pipeline picks up where it stopped.
pipeline: OUT ?= outputs/$(PRESET)
pipeline:
	$(SLA) generate-cubes preset=$(PRESET) device=$(DEVICE) out=$(OUT)/dataset
	$(SLA) train preset=$(PRESET) device=$(DEVICE) dataset_dir=$(OUT)/dataset out=$(OUT)/model
	$(SLA) classify preset=$(PRESET) device=$(DEVICE) out=$(OUT)/classify
	$(SLA) eval oneshot preset=$(PRESET) device=$(DEVICE) model_dir=$(OUT)/model out=$(OUT)/oneshot
	$(SLA) eval concept preset=$(PRESET) device=$(DEVICE) model_dir=$(OUT)/model out=$(OUT)/concept

bench: install
	$(PY) bench/render.py --quick
	$(PY) bench/train_step.py --quick

clean-venv:
	rm -rf $(VENV)
