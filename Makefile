# Common jobs. Each works as the first command on a fresh clone: it makes .venv and installs when
# .venv is missing or older than pyproject.toml.
#   make test                     the whole test suite, as CI runs it (CPU, minutes)
#   make test-fast                the unit tier, the edit loop: the suite without the tests marked slow (whole
#                                 stages, CLI subprocesses that import torch); under 90 s on 2 cores
#   make lint                     ruff check and ruff format --check (rules in pyproject.toml); `ruff format .` fixes
#   make typecheck                mypy on sla_cli/ (settings in pyproject.toml); CI runs it
#   make demo                     the whole pipeline at CPU scale (preset=demo), then OUT/report.md (sla pipeline)
#   make reproduce-paper          the whole pipeline at the paper's scale (for a GPU), then OUT/report.md
#   make readme-figures           copy the README's figures from outputs/demo (after make demo)
#   make bench                    benchmarks (ratios measured side by side in one run)
#   make gpu-check                every GPU path checked and measured (docs/gpu-check.md); a dry run without CUDA
#   make fonts                    the Debian font packages behind oneshot.glyphs=fonts (needs root and apt)
# Variables: PRESET=smoke|demo|paper  OUT=run-folder root  DEVICE=auto|cpu|cuda  ARGS="key=value ..." (sla pipeline)
#            JOBS=N  stages at once (pipeline.jobs; make demo: 2, else 1)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SLA := $(VENV)/bin/sla
DEVICE ?= auto
# MNIST: use ../shared/data when it is there and the user set nothing else.
SLA_DATA_ROOT ?= $(if $(wildcard ../shared/data/MNIST/raw),$(abspath ../shared/data),data)
export SLA_DATA_ROOT

.PHONY: fonts install test test-fast lint typecheck demo reproduce-paper pipeline readme-figures bench gpu-check clean-venv

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

# the whole suite on every core (pytest-xdist; a file's tests stay on one worker, so its fixtures are built once)
test: install
	$(PY) -m pytest -q -n auto --dist loadfile

test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: install
	$(PY) -m mypy

# demo: two stages at once (each trains on one thread; classify runs beside the trainings)
demo: install
	$(MAKE) --no-print-directory pipeline PRESET=$(or $(PRESET),demo) GOAL=demo JOBS=$(or $(JOBS),2)

reproduce-paper: install
	$(MAKE) --no-print-directory pipeline PRESET=$(or $(PRESET),paper) GOAL=reproduce-paper

# `sla pipeline` (in one process; JOBS=N: up to N stages at once, each its own process): the pre-flight table (disk, memory, time on this device) before anything
# is written, then one run folder per stage under OUT (the stage list: sla_cli/pipeline/registry.py), a
# finished stage verified and skipped, then OUT/report.md, which says why any stage is missing. Ctrl-C
# stops it all (exit 130); the same command continues. ARGS pass any stage's overrides and the
# pipeline's own keys: make demo ARGS="train.steps=500 pipeline.skip=[classify]",
# make reproduce-paper ARGS="pipeline.confirm=false" (no question on a CPU).
pipeline: OUT ?= outputs/$(PRESET)
pipeline: GOAL ?= pipeline
pipeline: JOBS ?= 1
pipeline:
	$(SLA) pipeline preset=$(PRESET) run.out=$(OUT) run.device=$(DEVICE) pipeline.jobs=$(JOBS) \
	    "pipeline.made_by='make $(GOAL) PRESET=$(PRESET) OUT=$(OUT) DEVICE=$(DEVICE)$(if $(ARGS), ARGS=$(ARGS))'" $(ARGS)

# The README's figures: copied from a finished `make demo` (OUT=outputs/demo) into docs/figures/.
README_FIGURES := dataset/contexts.png:demo_contexts.png dataset/cubes.png:demo_cubes.png \
	model/transfer.png:demo_transfer.png classify/loglik_hist.png:demo_loglik_hist.png \
	oneshot/decoded.png:demo_oneshot_decoded.png oneshot/accuracy_maps.png:demo_oneshot_accuracy_maps.png \
	oneshot/distances.png:demo_oneshot_distances.png concept/likelihood_maps.png:demo_likelihood_maps.png \
	concept/concept_sweep.png:demo_concept_sweep.png concept/backprojection.png:demo_backprojection.png \
	concept/texture_invariance.png:demo_texture_invariance.png
readme-figures: OUT ?= outputs/demo
readme-figures:
	@for pair in $(README_FIGURES); do cp -v "$(OUT)/$${pair%%:*}" "docs/figures/$${pair##*:}" || exit 1; done

bench: install
	$(PY) bench/render.py --quick
	$(PY) bench/train_step.py --quick

# Not tied to install: the GPU machine has torch but no registry; the script installs the carried
# wheels itself. GPU_CHECK_ARGS: e.g. --out DIR --steps train,classify --budget-s 400
gpu-check:
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) bench/gpu_check.py $(GPU_CHECK_ARGS)

clean-venv:
	rm -rf $(VENV)

# oneshot.glyphs=fonts draws letters from >= 12 distinct font families found with fontconfig.
FONT_PACKAGES := fonts-urw-base35 fonts-liberation2 fonts-freefont-ttf fonts-dejavu-core
fonts:
	@if dpkg -s $(FONT_PACKAGES) >/dev/null 2>&1; then echo "fonts: $(FONT_PACKAGES) installed"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -q $(FONT_PACKAGES) >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $(FONT_PACKAGES) >/dev/null; } \
	    || echo "fonts: apt-get failed; the font tests will skip"; \
	else echo "fonts: run as root: apt-get install $(FONT_PACKAGES) (the font tests skip without them)"; fi
