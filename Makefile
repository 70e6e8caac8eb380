# Common jobs. Each works as the first command on a fresh clone: it makes .venv and installs when
# .venv is missing or older than pyproject.toml.
#   make test                     the whole test suite, as CI runs it (CPU, minutes)
#   make test-fast                the suite without the end-to-end CLI runs (marked slow): the edit loop
#   make lint                     ruff (rules in pyproject.toml)
#   make demo                     the whole pipeline at CPU scale (preset=demo), then OUT/report.md
#   make reproduce-paper          the whole pipeline at the paper's scale (for a GPU), then OUT/report.md
#   make readme-figures           copy the README's figures from outputs/demo (after make demo)
#   make bench                    benchmarks (ratios measured side by side in one run)
#   make gpu-check                every GPU path checked and measured (docs/gpu-check.md); a dry run without CUDA
#   make fonts                    the Debian font packages behind oneshot.glyphs=fonts (needs root and apt)
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

.PHONY: fonts install test test-fast lint demo reproduce-paper pipeline readme-figures bench gpu-check clean-venv

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
	$(MAKE) --no-print-directory pipeline PRESET=$(or $(PRESET),demo) GOAL=demo

reproduce-paper: install
	$(MAKE) --no-print-directory pipeline PRESET=$(or $(PRESET),paper) GOAL=reproduce-paper

# One run folder per stage under OUT; model_self_only is the same training without cross steps,
# the one-shot stage's ablation (what cross-training adds); model_shared_ae and model_contrastive are
# its trained baselines (train.variant: one shared autoencoder; contrastive encoders), at the same
# steps, batch and optimizer. A stage whose folder already holds the same complete run is skipped,
# so an interrupted pipeline picks up where it stopped. A stage that fails does not stop the others
# (a later stage that needs its folder fails at once, saying so); OUT/report.md (paper vs ours, every
# figure) is written last either way, showing failed stages as such, and make then exits non-zero.
# `sla report OUT` rebuilds the report at any time.
pipeline: OUT ?= outputs/$(PRESET)
pipeline: GOAL ?= pipeline
pipeline:
	@failed=; \
	stage() { name=$$1; shift; echo "$(SLA) $$*"; $(SLA) "$$@" || failed="$$failed $$name"; }; \
	stage dataset generate-cubes preset=$(PRESET) device=$(DEVICE) out=$(OUT)/dataset; \
	stage model train preset=$(PRESET) device=$(DEVICE) dataset_dir=$(OUT)/dataset out=$(OUT)/model; \
	stage classify classify preset=$(PRESET) device=$(DEVICE) out=$(OUT)/classify; \
	stage model_self_only train preset=$(PRESET) device=$(DEVICE) dataset_dir=$(OUT)/dataset \
	    out=$(OUT)/model_self_only train.cross_steps=0; \
	stage model_shared_ae train preset=$(PRESET) device=$(DEVICE) dataset_dir=$(OUT)/dataset \
	    out=$(OUT)/model_shared_ae train.variant=shared_ae; \
	stage model_contrastive train preset=$(PRESET) device=$(DEVICE) dataset_dir=$(OUT)/dataset \
	    out=$(OUT)/model_contrastive train.variant=contrastive; \
	stage oneshot eval oneshot preset=$(PRESET) device=$(DEVICE) model_dir=$(OUT)/model \
	    oneshot.ablation_model_dir=$(OUT)/model_self_only oneshot.baseline_model_dirs.shared_ae=$(OUT)/model_shared_ae \
	    oneshot.baseline_model_dirs.contrastive=$(OUT)/model_contrastive out=$(OUT)/oneshot; \
	stage concept eval concept preset=$(PRESET) device=$(DEVICE) model_dir=$(OUT)/model out=$(OUT)/concept; \
	echo "$(SLA) report $(OUT)"; \
	$(SLA) report $(OUT) --made-by "make $(GOAL) PRESET=$(PRESET) OUT=$(OUT) DEVICE=$(DEVICE)" || exit 1; \
	if [ -n "$$failed" ]; then echo "make $(GOAL): failed:$$failed (see $(OUT)/report.md)" >&2; exit 1; fi

# The README's figures: copied from a finished `make demo` (OUT=outputs/demo) into docs/figures/.
README_FIGURES := dataset/contexts.png:demo_contexts.png dataset/cubes.png:demo_cubes.png \
	model/transfer.png:demo_transfer.png classify/loglik_hist.png:demo_loglik_hist.png \
	oneshot/decoded.png:demo_oneshot_decoded.png oneshot/accuracy_maps.png:demo_oneshot_accuracy_maps.png \
	oneshot/distances.png:demo_oneshot_distances.png concept/likelihood_maps.png:demo_likelihood_maps.png \
	concept/concept_sweep.png:demo_concept_sweep.png concept/backprojection.png:demo_backprojection.png
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
